import { eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lintCard } from "../src/bot/cards/lint";
import {
  admins,
  chatBindings,
  chatMembers,
  dutyContacts,
  forceSets,
  unitAliases,
  units,
} from "../src/db/schema";
import { type Said, say } from "./support/chat";
import { resetDatabase } from "./support/db";
import { type Harness, larkHarness } from "./support/harness";

const ADMIN = "ou_admin00000000000000000000000001";
const BOB = "ou_bob0000000000000000000000000002";
const CAROL = "ou_carol000000000000000000000000003";

let h: Harness;
beforeEach(async () => {
  h = await larkHarness();
  await resetDatabase(h.t);
  await h.t.db.insert(admins).values({ openId: ADMIN, source: "env" });
});
afterEach(async () => {
  await h.close();
});

function expectCardsValid(s: Said) {
  expect(s.replies.length).toBeGreaterThan(0);
  for (const c of s.replies) expect(lintCard(c)).toEqual([]);
}

const as = (who: string) => (chat: string, text: string, mentions?: { openId: string; name: string }[]) =>
  say(h, chat, who, text, { mentions });
const admin = as(ADMIN);
const bob = as(BOB);

async function bindings() {
  return h.t.db
    .select({
      chat: chatBindings.chatId,
      role: chatBindings.role,
      unit: units.name,
      card: chatBindings.isCardGroup,
    })
    .from(chatBindings)
    .innerJoin(units, eq(units.id, chatBindings.unitId))
    .orderBy(chatBindings.chatId);
}

describe("/绑定 and /解绑", () => {
  it("binds a street, a department with aliases, and an oversight group", async () => {
    const s = await admin("oc_street", "/绑定 街乡 朝阳门街道");
    expectCardsValid(s);
    expect(s.text).toContain("朝阳门街道");
    expect(s.text).toContain("街乡工作群");
    expectCardsValid(await admin("oc_cg", "/绑定 部门 城管执法队 城管,执法队"));
    expectCardsValid(await admin("oc_ov", "/bind oversight 东城区接诉即办中心"));
    expect(await bindings()).toEqual([
      { chat: "oc_cg", role: "department", unit: "城管执法队", card: true },
      { chat: "oc_ov", role: "oversight", unit: "东城区接诉即办中心", card: false },
      { chat: "oc_street", role: "street", unit: "朝阳门街道", card: false },
    ]);
    const aliases = await h.t.db.select({ a: unitAliases.alias }).from(unitAliases);
    expect(aliases.map((a) => a.a).sort()).toEqual(["城管", "执法队"].sort());
  });

  it("a township is recognised by its name", async () => {
    await admin("oc_t", "/绑定 街乡 张家湾镇");
    const [u] = await h.t.db.select().from(units);
    expect(u?.kind).toBe("township");
  });

  it("a department's second chat is not its card group unless asked", async () => {
    await admin("oc_d1", "/绑定 部门 公安");
    const second = await admin("oc_d2", "/绑定 部门 派出所值班");
    expect(second.text).toContain("派出所值班"); // a new unit: the name is not an alias yet
    await admin("oc_d3", "/绑定 部门 公安");
    await admin("oc_d4", "/绑定 部门 公安 卡片群");
    const rows = (await bindings()).filter((b) => b.unit === "公安");
    expect(rows).toEqual([
      { chat: "oc_d1", role: "department", unit: "公安", card: false },
      { chat: "oc_d3", role: "department", unit: "公安", card: false },
      { chat: "oc_d4", role: "department", unit: "公安", card: true },
    ]);
  });

  it("binding by an alias binds to the aliased department", async () => {
    await admin("oc_a", "/绑定 部门 城管执法队 城管");
    await admin("oc_b", "/绑定 部门 ＣＨＥＮＧ城管"); // not an alias: a new department
    await admin("oc_c", "/绑定 部门 城管");
    const rows = await bindings();
    expect(rows.find((r) => r.chat === "oc_c")?.unit).toBe("城管执法队");
  });

  it("moves a chat bound elsewhere and says so; binding twice changes nothing", async () => {
    await admin("oc_x", "/绑定 部门 园林");
    const moved = await admin("oc_x", "/绑定 部门 文化");
    expect(moved.text).toContain("原先绑定为 园林");
    const again = await admin("oc_x", "/绑定 部门 文化");
    expect(again.text).toContain("无需重复绑定");
  });

  it("refuses non-admins and says who may do it", async () => {
    const s = await bob("oc_street", "/绑定 街乡 朝阳门街道");
    expectCardsValid(s);
    expect(s.text).toContain("只有管理员可以绑定群组");
    expect(s.text).toContain(BOB); // tells them their open_id to pass on
    expect(await bindings()).toEqual([]);
  });

  it("explains a missing or unknown kind with the usage", async () => {
    const s = await admin("oc_s", "/绑定 学校 一中");
    expect(s.text).toContain("不认识“学校”");
    expect(s.text).toContain("/绑定 街乡 朝阳门街道");
    expect((await admin("oc_s", "/绑定 部门")).text).toContain("缺少名称");
  });

  it("refuses to bind a p2p chat", async () => {
    const s = await say(h, "oc_p2p", ADMIN, "/绑定 街乡 朝阳门街道", { chatType: "p2p" });
    expect(s.text).toContain("请在要设置的群里发送");
  });

  it("unbinds, and a department's card group moves to its other chat", async () => {
    await admin("oc_d1", "/绑定 部门 公安");
    await admin("oc_d2", "/绑定 部门 公安");
    const s = await admin("oc_d1", "/解绑");
    expectCardsValid(s);
    expect(s.text).toContain("解除绑定");
    expect(await bindings()).toEqual([{ chat: "oc_d2", role: "department", unit: "公安", card: true }]);
    expect((await admin("oc_d1", "/unbind")).text).toContain("尚未绑定");
    expect((await bob("oc_d2", "/解绑")).text).toContain("只有管理员");
  });
});

describe("/别名, /一加四, /值班", () => {
  beforeEach(async () => {
    await admin("oc_street", "/绑定 街乡 朝阳门街道");
    for (const [chat, name] of [
      ["oc_cg", "城管执法队"],
      ["oc_ga", "公安"],
      ["oc_gajt", "公安交通支队"],
      ["oc_xf", "消防"],
      ["oc_sc", "市场监管"],
    ]) {
      await admin(chat as string, `/绑定 部门 ${name}`);
    }
  });

  it("adds aliases, refusing one another department already answers to", async () => {
    const s = await admin("oc_any", "/别名 城管执法队 城管、执法队");
    expectCardsValid(s);
    expect(s.text).toContain("新增别名：城管、执法队");
    const clash = await admin("oc_any", "/别名 消防 城管,火警");
    expect(clash.text).toContain("城管（已属于城管执法队）");
    expect(clash.text).toContain("火警");
    expect((await bob("oc_any", "/别名 消防 119")).text).toContain("只有管理员");
  });

  it("resolves names case-, width- and space-insensitively and reports ambiguity and unknowns", async () => {
    await admin("oc_any", "/alias 市场监管 ＳＣＪＧ");
    expect((await admin("oc_street", "/一加四 scjg")).text).toContain("市场监管");
    const amb = await admin("oc_street", "/一加四 城管执法队,公安交");
    expect(amb.text).toContain("公安交通支队"); // unique partial match → resolved
    const ambiguous = await admin("oc_street", "/一加四 安");
    expect(ambiguous.text).toContain("可能是：公安、公安交通支队");
    const unknown = await admin("oc_street", "/一加四 城管执法队,市场监督");
    expect(unknown.text).toContain("找不到部门“市场监督”，你是不是要找：市场监管");
    expect(unknown.text).toContain("没有做任何修改");
  });

  it("sets the street's 1+4 in order, only from the street chat, and shows it", async () => {
    const s = await admin("oc_street", "/一加四 城管执法队,公安，消防、公安交通支队 市场监管");
    expectCardsValid(s);
    const rows = await h.t.db.select().from(forceSets).orderBy(forceSets.position);
    expect(rows).toHaveLength(5);
    expect((await bob("oc_street", "/一加四")).text).toContain(
      "城管执法队、公安、消防、公安交通支队、市场监管",
    );
    expect((await admin("oc_cg", "/一加四 公安")).text).toContain("请在街乡工作群中发送");
    expect((await bob("oc_street", "/forces 公安")).text).toContain("只有管理员");
  });

  it("sets, shows and clears a department's duty contacts", async () => {
    const s = await admin("oc_cg", "/值班 城管执法队 @张三 @李四", [
      { openId: BOB, name: "张三" },
      { openId: CAROL, name: "李四" },
    ]);
    expectCardsValid(s);
    expect(s.text).toContain(`<at id=${BOB}></at>`);
    expect(await h.t.db.select().from(dutyContacts)).toHaveLength(2);
    expect((await bob("oc_cg", "/值班 城管")).text).toContain(`<at id=${CAROL}></at>`);
    expect((await bob("oc_cg", "/duty 城管 @张三", [{ openId: BOB, name: "张三" }])).text).toContain(
      "只有管理员",
    );
    await admin("oc_cg", "/值班 城管执法队 清空");
    expect(await h.t.db.select().from(dutyContacts)).toHaveLength(0);
    expect((await admin("oc_cg", "/值班 气象局 @张三", [{ openId: BOB, name: "张三" }])).text).toContain(
      "找不到部门",
    );
  });
});

describe("/管理员 and /目录", () => {
  it("adds and removes chat admins; env admins and the last admin stay", async () => {
    expect((await bob("oc_a", "/管理员 添加 @李四", [{ openId: CAROL, name: "李四" }])).text).toContain(
      "只有管理员",
    );
    const added = await admin("oc_a", "/管理员 添加 @张三", [{ openId: BOB, name: "张三" }]);
    expectCardsValid(added);
    expect(added.text).toContain("已添加");
    // Bob is an admin now and can bind.
    expect((await bob("oc_s", "/绑定 街乡 建国门街道")).text).toContain("建国门街道");
    const envAdmin = await bob("oc_a", "/admin remove @管理员", [{ openId: ADMIN, name: "管理员" }]);
    expect(envAdmin.text).toContain("WHISTLE_ADMINS");
    expect((await admin("oc_a", "/管理员 移除 @张三", [{ openId: BOB, name: "张三" }])).text).toContain(
      "已移除",
    );
    expect((await h.t.db.select().from(admins)).map((a) => a.openId)).toEqual([ADMIN]);
  });

  it("shows the whole mapping", async () => {
    await admin("oc_street", "/绑定 街乡 朝阳门街道");
    await admin("oc_cg", "/绑定 部门 城管执法队 城管");
    await admin("oc_ga", "/绑定 部门 公安");
    await admin("oc_ov", "/绑定 督办 东城区接诉即办中心");
    await admin("oc_street", "/一加四 城管,公安");
    const s = await bob("oc_street", "/目录");
    expectCardsValid(s);
    for (const w of [
      "朝阳门街道",
      "1+4：城管执法队、公安",
      "城管执法队",
      "（城管）",
      "（卡片群）",
      "东城区接诉即办中心",
      "**本群**",
    ]) {
      expect(s.text).toContain(w);
    }
  });
});

describe("group events", () => {
  it("welcomes the group when the bot is added, explaining how to bind it", async () => {
    h.fake.addChat("oc_new", { name: "城管执法队值班群", members: [ADMIN] });
    await h.fake.push.event(h.target, "im.chat.member.bot.added_v1", {
      chat_id: "oc_new",
      operator_id: { open_id: ADMIN },
      name: "城管执法队值班群",
      external: false,
    });
    await h.runtime.settle();
    const [welcome] = h.fake.messages("oc_new").filter((m) => m.sender === "bot");
    expect(lintCard(welcome?.content)).toEqual([]);
    expect(JSON.stringify(welcome?.content)).toContain("/绑定 部门");
  });

  it("keeps the member cache in step with people joining and leaving", async () => {
    const user = (openId: string, name: string) => ({ name, user_id: { open_id: openId } });
    await h.fake.push.event(h.target, "im.chat.member.user.added_v1", {
      chat_id: "oc_m",
      users: [user(BOB, "张三"), user(CAROL, "李四")],
    });
    const members = async () =>
      (await h.t.db.select().from(chatMembers).where(eq(chatMembers.chatId, "oc_m")))
        .map((m) => m.openId)
        .sort();
    expect(await members()).toEqual([BOB, CAROL].sort());
    await h.fake.push.event(h.target, "im.chat.member.user.deleted_v1", {
      chat_id: "oc_m",
      users: [user(BOB, "张三")],
    });
    expect(await members()).toEqual([CAROL]);
    await h.fake.push.event(h.target, "im.chat.member.user.withdrawn_v1", {
      chat_id: "oc_m",
      users: [user(CAROL, "李四")],
    });
    expect(await members()).toEqual([]);
  });
});
