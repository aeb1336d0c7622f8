/**
 * The demo district the sandbox starts with: 朝阳门街道, its 1+4 plus two "N" departments, the
 * district's 督办 group, and a handful of named people. Ids are derived from names, so every start
 * (and every machine) finds the same chats and people the database has bound.
 */
import { stableHex } from "./fake-lark/ids";

export type DemoChatKind = "street" | "department" | "oversight";

export interface DemoPerson {
  openId: string;
  name: string;
  /** What the person does, shown in the page's person picker. */
  role: string;
}

export interface DemoChat {
  chatId: string;
  /** The group's name in Lark. */
  name: string;
  kind: DemoChatKind;
  /** The unit the group belongs to. */
  unit: string;
  aliases: string[];
  /** Members; the first is who the page speaks as by default. */
  members: string[];
  /** Buzzed when the department is late. */
  duty: string[];
}

export interface DemoDistrict {
  street: string;
  people: DemoPerson[];
  chats: DemoChat[];
  admins: string[];
  /** The street's 1+4, in order. */
  forces: string[];
}

const openId = (name: string): string => `ou_${stableHex("whistle-sandbox-person", name)}`;
const chatId = (name: string): string => `oc_${stableHex("whistle-sandbox-chat", name)}`;

const PEOPLE: [name: string, role: string][] = [
  ["王建国", "朝阳门街道 副主任 · 系统管理员"],
  ["李娜", "朝阳门街道 综合执法中心 值班员"],
  ["赵磊", "城管执法队 队员"],
  ["孙强", "城管执法队 队长（值班）"],
  ["周敏", "朝阳门派出所 民警"],
  ["吴刚", "朝阳门消防救援站 站长"],
  ["郑伟", "东城交通支队 民警"],
  ["陈静", "朝阳门市场监管所 科员"],
  ["刘洋", "朝阳门房管所 联络员"],
  ["黄丽", "东城园林绿化 联络员"],
  ["高峰", "东城区接诉即办中心 督办员"],
];

/** The one demo district. */
export function demoDistrict(): DemoDistrict {
  const id = (name: string): string => {
    if (!PEOPLE.some(([n]) => n === name)) throw new Error(`demo: unknown person ${name}`);
    return openId(name);
  };
  const dept = (
    unit: string,
    name: string,
    aliases: string[],
    members: string[],
    duty: string[],
  ): DemoChat => ({
    chatId: chatId(name),
    name,
    kind: "department",
    unit,
    aliases,
    members: [...members.map(id), id("王建国")],
    duty: duty.map(id),
  });
  const chats: DemoChat[] = [
    {
      chatId: chatId("朝阳门街道吹哨指挥群"),
      name: "朝阳门街道吹哨指挥群",
      kind: "street",
      unit: "朝阳门街道",
      aliases: [],
      members: [id("李娜"), id("王建国")],
      duty: [],
    },
    dept("城管执法队", "城管执法队值班群", ["城管", "执法队"], ["赵磊", "孙强"], ["孙强"]),
    dept("公安", "朝阳门派出所值班群", ["派出所"], ["周敏"], ["周敏"]),
    dept("消防", "朝阳门消防救援站值班群", ["消防站"], ["吴刚"], ["吴刚"]),
    dept("交通", "东城交通支队朝阳门中队", ["交警"], ["郑伟"], ["郑伟"]),
    dept("市场监管", "朝阳门市场监管所", ["市场所"], ["陈静"], ["陈静"]),
    dept("房管", "朝阳门房管所", ["房管所"], ["刘洋"], ["刘洋"]),
    dept("园林", "东城园林绿化联络群", ["园林绿化"], ["黄丽"], ["黄丽"]),
    {
      chatId: chatId("东城区接诉即办督办群"),
      name: "东城区接诉即办督办群",
      kind: "oversight",
      unit: "东城区接诉即办中心",
      aliases: [],
      members: [id("高峰"), id("王建国")],
      duty: [],
    },
  ];
  return {
    street: "朝阳门街道",
    people: PEOPLE.map(([name, role]) => ({ openId: openId(name), name, role })),
    chats,
    admins: [id("王建国")],
    forces: ["城管执法队", "公安", "消防", "交通", "市场监管"],
  };
}

/** The district as a directory file (the format of `npm run directory -- import`), JSON text. */
export function demoDirectoryFile(d: DemoDistrict): string {
  const of = (kind: DemoChatKind) => d.chats.filter((c) => c.kind === kind);
  const file = {
    admins: d.admins,
    streets: of("street").map((c) => ({
      name: c.unit,
      chats: [{ id: c.chatId, name: c.name }],
      forces: d.forces,
    })),
    departments: of("department").map((c) => ({
      name: c.unit,
      aliases: c.aliases,
      chats: [{ id: c.chatId, name: c.name, card: true }],
      duty: c.duty,
    })),
    oversight: of("oversight").map((c) => ({ name: c.unit, chats: [{ id: c.chatId, name: c.name }] })),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}
