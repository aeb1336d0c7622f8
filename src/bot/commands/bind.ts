import {
  addAliases,
  bindChat,
  findOrCreateUnit,
  type Unit,
  type UnitKind,
  unbindChat,
  unitCandidates,
} from "../../db/queries/directory";
import { cleanName, nameKey, splitNames } from "../../domain/names";
import { doneCard } from "../cards/notice";
import type { Bot, CommandContext } from "../router";
import { refuse, replyCard, requireAdmin, requireGroup } from "./context";

/** `/绑定 街乡|部门|督办 <名称> …` and `/解绑`: map this Lark group to a unit of the organisation. */

const USAGE = [
  "/绑定 街乡 朝阳门街道",
  "/绑定 部门 城管执法队 城管,执法队",
  "/绑定 部门 城管执法队 卡片群",
  "/绑定 督办 东城区接诉即办中心",
];

type Target = "street" | "department" | "oversight";

const TARGET_WORDS: Record<string, Target> = {
  街乡: "street",
  街道: "street",
  乡镇: "street",
  乡: "street",
  镇: "street",
  street: "street",
  township: "street",
  部门: "department",
  department: "department",
  dept: "department",
  督办: "oversight",
  督办中心: "oversight",
  oversight: "oversight",
};

const CARD_FLAGS = new Set(["卡片群", "card"]);

const ROLE_LABEL: Record<Target, string> = {
  street: "街乡工作群",
  department: "部门群",
  oversight: "督办群",
};

/** A township when the name says so (…乡, …镇), a street otherwise. */
function streetKind(name: string): UnitKind {
  return /[乡镇]$/.test(name) ? "township" : "street";
}

async function departmentByExactName(ctx: CommandContext, name: string): Promise<Unit | undefined> {
  const key = nameKey(name);
  const candidates = await unitCandidates(ctx.tx, ["department"]);
  return candidates.find((c) => c.keys.includes(key))?.value;
}

async function bind(ctx: CommandContext) {
  const title = "绑定群组";
  if (!requireGroup(ctx, title) || !(await requireAdmin(ctx, "bind", title))) return;
  const [word = "", ...rest] = ctx.command.args.split(" ");
  const target = TARGET_WORDS[word.toLowerCase()];
  if (!target || rest.length === 0) {
    refuse(
      ctx,
      title,
      target ? "缺少名称。" : `请说明绑定为“街乡”“部门”还是“督办”${word ? `（不认识“${word}”）` : ""}。`,
      {
        usage: USAGE,
      },
    );
    return;
  }

  let unit: Unit;
  let created = false;
  let aliases: string[] = [];
  let cardGroup = false;
  if (target === "department") {
    const [first = "", ...more] = rest;
    const extra = splitNames(more.join(" "));
    cardGroup = extra.some((w) => CARD_FLAGS.has(w.toLowerCase()));
    aliases = extra.filter((w) => !CARD_FLAGS.has(w.toLowerCase()));
    const existing = await departmentByExactName(ctx, first);
    if (existing) unit = existing;
    else ({ unit, created } = await findOrCreateUnit(ctx.tx, "department", first));
  } else {
    const name = cleanName(rest.join(" "));
    const kind: UnitKind = target === "street" ? streetKind(name) : "oversight";
    ({ unit, created } = await findOrCreateUnit(ctx.tx, kind, name));
  }

  const result = await bindChat(ctx.tx, {
    chatId: ctx.event.chatId,
    unit,
    role: target,
    boundBy: ctx.event.senderOpenId,
    now: ctx.now,
    cardGroup,
  });
  const lines = [`本群已绑定为 **${unit.name}** 的${ROLE_LABEL[target]}${created ? "（新建单位）" : ""}。`];
  if (result.unchanged) lines[0] = `本群已经是 **${unit.name}** 的${ROLE_LABEL[target]}，无需重复绑定。`;
  if (result.previous) lines.push(`原先绑定为 ${result.previous.unit.name}，已改绑。`);
  if (target === "department") {
    lines.push(
      result.binding.isCardGroup
        ? "吹哨卡片将发到本群（卡片群）。"
        : "本部门的吹哨卡片发到另一个群；在本群发送 `/绑定 部门 名称 卡片群` 可改为本群。",
    );
  }
  if (aliases.length > 0) {
    const outcomes = await addAliases(ctx.tx, unit, aliases);
    const added = outcomes.filter((o) => o.status !== "taken").map((o) => o.alias);
    const taken = outcomes.flatMap((o) => (o.status === "taken" ? [`${o.alias}（已属于${o.by}）`] : []));
    if (added.length) lines.push(`别名：${added.join("、")}`);
    if (taken.length) lines.push(`未添加的别名：${taken.join("、")}`);
  }
  if (target === "street")
    lines.push("下一步：发送 `/一加四 城管执法队,公安,消防,交通,市场监管` 设置本街乡的“1+4”力量。");
  replyCard(ctx, doneCard(title, lines));
}

async function unbind(ctx: CommandContext) {
  const title = "解绑群组";
  if (!requireGroup(ctx, title) || !(await requireAdmin(ctx, "unbind", title))) return;
  const r = await unbindChat(ctx.tx, ctx.event.chatId);
  if (!r) {
    refuse(ctx, title, "本群尚未绑定任何单位。", { usage: USAGE });
    return;
  }
  const lines = [`本群已与 **${r.removed.unit.name}** 解除绑定。`];
  if (r.promoted) lines.push(`${r.removed.unit.name} 的吹哨卡片今后发到它的另一个群。`);
  else if (r.removed.binding.isCardGroup)
    lines.push(`⚠️ ${r.removed.unit.name} 已没有绑定的群，将收不到吹哨卡片。`);
  replyCard(ctx, doneCard(title, lines));
}

export function registerBind(bot: Bot): void {
  bot.command(["绑定", "bind"], bind, {
    usage: "/绑定 街乡|部门|督办 <名称> [别名…]",
    summary: "把本群绑定为街乡工作群、部门群或督办群（管理员）",
    example: "/绑定 部门 城管执法队 城管,执法队",
    audience: "admin",
  });
  bot.command(["解绑", "unbind"], unbind, {
    usage: "/解绑",
    summary: "解除本群的绑定（管理员）",
    audience: "admin",
  });
}
