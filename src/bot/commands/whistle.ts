import { chatUnit, forceSetOf, type Unit, unitCandidates } from "../../db/queries/directory";
import { cardGroups } from "../../db/queries/whistles";
import type { WhistleType } from "../../domain/whistle";
import { describeProblem, parseWhistle, typeFromWord } from "../../domain/whistle-command";
import type { Card } from "../cards/kit";
import { renderSummaryCard } from "../cards/summary-card";
import { renderWhistleForm } from "../cards/whistle-form";
import type { ActionContext, BaseContext, Bot, CallbackAnswer, CommandContext } from "../router";
import { createWhistle, type WhistleInput } from "../whistle/create";
import { refuse, replyCard } from "./context";
import { resolveDepartments } from "./resolve";

/**
 * `/吹哨 <类型> <部门…> <事项>` (`/whistle`): the street summons departments. Anything missing or
 * unclear is answered with the form card, pre-filled with what was understood and the problem
 * on top; the form's submit creates the same whistle.
 */

const USAGE = [
  "/吹哨 执法 城管执法队,公安 东直门内大街12号门前占道经营，多次劝离无效",
  "/吹哨 应急 1+4,房管 地点：南小街5号 燃气泄漏 限时15分钟",
  "/吹哨（不带参数：打开吹哨表单）",
];

interface StreetHere {
  unit: Unit;
  chatId: string;
}

async function streetOf(ctx: BaseContext, chatId: string): Promise<StreetHere | undefined> {
  const here = await chatUnit(ctx.tx, chatId);
  return here?.binding.role === "street" ? { unit: here.unit, chatId } : undefined;
}

/** The form card for a street: its departments (those that can receive cards) with the 1+4 pre-selected. */
async function formCard(
  ctx: BaseContext,
  street: StreetHere,
  problem?: string,
  prefill?: Parameters<typeof renderWhistleForm>[0]["prefill"],
): Promise<Card> {
  const candidates = await unitCandidates(ctx.tx, ["department"]);
  const groups = await cardGroups(
    ctx.tx,
    candidates.map((c) => c.value.id),
  );
  const forces = await forceSetOf(ctx.tx, street.unit.id);
  return renderWhistleForm({
    streetId: street.unit.id,
    streetName: street.unit.name,
    departments: candidates
      .filter((c) => groups.has(c.value.id))
      .map((c) => ({ id: c.value.id, name: c.value.name })),
    forceSetIds: forces.map((u) => u.id),
    problem,
    prefill,
  });
}

/** Department names as typed (with "1+4") → units, or the sentences saying what is wrong. */
async function departmentsFor(ctx: BaseContext, street: StreetHere, names: string[]) {
  const units: Unit[] = [];
  const problems: string[] = [];
  if (names.includes("1+4")) {
    const forces = await forceSetOf(ctx.tx, street.unit.id);
    if (forces.length === 0)
      problems.push(`${street.unit.name}还没有设置“1+4”力量（管理员可在本群发送 /一加四 …）。`);
    units.push(...forces);
  }
  const typed = names.filter((n) => n !== "1+4");
  if (typed.length > 0) {
    const r = await resolveDepartments(ctx.tx, typed); // one directory lookup for all the names
    units.push(...r.found);
    problems.push(...r.problems);
  }
  return { units, problems };
}

async function whistleCommand(ctx: CommandContext) {
  const street = await streetOf(ctx, ctx.event.chatId);
  if (!street) {
    const here = await chatUnit(ctx.tx, ctx.event.chatId);
    refuse(
      ctx,
      "无法吹哨",
      here
        ? `本群是${here.unit.name}的群，不是街乡工作群：只有街乡才能吹哨。`
        : "本群还没有绑定为街乡工作群。",
      { hint: "请在街乡工作群中吹哨；管理员可在街乡群发送 `/绑定 街乡 <名称>`。", usage: USAGE },
    );
    return;
  }
  const parsed = parseWhistle(ctx.command.args, { mentionedNames: ctx.command.mentions.map((m) => m.name) });
  if (!parsed.ok) {
    const partial = parsed.partial;
    const known = partial.departments ? await departmentsFor(ctx, street, partial.departments) : undefined;
    const problem = parsed.problem.kind === "empty" ? undefined : describeProblem(parsed.problem);
    replyCard(
      ctx,
      await formCard(ctx, street, problem, {
        type: partial.type,
        departmentIds: known?.units.map((u) => u.id),
        matter: partial.matter,
        place: partial.place ?? undefined,
        limitMinutes: partial.limitMinutes ?? undefined,
      }),
    );
    return;
  }
  const req = parsed.request;
  const { units, problems } = await departmentsFor(ctx, street, req.departments);
  const prefill = {
    type: req.type,
    departmentIds: units.map((u) => u.id),
    matter: req.matter,
    place: req.place ?? undefined,
    limitMinutes: req.limitMinutes ?? undefined,
  };
  if (problems.length > 0) {
    replyCard(ctx, await formCard(ctx, street, problems.join("\n"), prefill));
    return;
  }
  const input: WhistleInput = {
    type: req.type,
    departments: units,
    matter: req.matter,
    place: req.place,
    limitMinutes: req.limitMinutes,
  };
  const created = await createWhistle(ctx, input, {
    street: street.unit,
    streetChatId: street.chatId,
    whistlerOpenId: ctx.event.senderOpenId,
    source: "command",
    sourceMessageId: ctx.event.messageId,
    summary: "reply",
  });
  if (!created.ok) replyCard(ctx, await formCard(ctx, street, created.problem, prefill));
}

const str = (v: unknown) => (typeof v === "string" ? v.trim() : "");

async function whistleForm(ctx: ActionContext): Promise<CallbackAnswer> {
  const street = await streetOf(ctx, ctx.event.chatId);
  if (!street || street.unit.id !== Number(ctx.event.value.s)) {
    return { toast: { type: "error", content: "请在街乡工作群中使用吹哨表单。" } };
  }
  const fv = ctx.event.formValue ?? {};
  const type: WhistleType | undefined = typeFromWord(str(fv.type));
  const ids = (Array.isArray(fv.departments) ? fv.departments : []).map(Number).filter(Number.isInteger);
  const all = await unitCandidates(ctx.tx, ["department"]);
  const units = all.filter((c) => ids.includes(c.value.id)).map((c) => c.value);
  const matter = str(fv.matter);
  const place = str(fv.place) || null;
  const limitText = str(fv.limit);
  const limit = limitText === "" ? null : Number(limitText.normalize("NFKC"));
  const prefill = {
    type,
    departmentIds: units.map((u) => u.id),
    matter,
    place: place ?? undefined,
    limitMinutes: limit !== null && Number.isFinite(limit) ? limit : undefined,
  };
  const problem = !type
    ? "请选择哨的类型。"
    : units.length === 0
      ? "请至少选择一个部门。"
      : !matter
        ? "请填写事项描述。"
        : limit !== null && (!Number.isInteger(limit) || limit < 1)
          ? "限时请填写分钟数，例如 30。"
          : undefined;
  if (problem || !type) {
    return {
      toast: { type: "error", content: problem ?? "请选择哨的类型。" },
      card: { type: "raw", data: await formCard(ctx, street, problem, prefill) },
    };
  }
  const created = await createWhistle(
    ctx,
    { type, departments: units, matter, place, limitMinutes: limit },
    {
      street: street.unit,
      streetChatId: street.chatId,
      whistlerOpenId: ctx.event.operatorOpenId,
      source: "form",
      sourceMessageId: ctx.event.messageId,
      summary: "in_place",
    },
  );
  if (!created.ok) {
    return {
      toast: { type: "error", content: created.problem },
      card: { type: "raw", data: await formCard(ctx, street, created.problem, prefill) },
    };
  }
  return {
    toast: {
      type: "success",
      content: `已吹哨 ${created.whistle.code}，正在通知 ${created.whistle.dispatches.length} 个部门`,
    },
    card: { type: "raw", data: renderSummaryCard(created.whistle, ctx.now, ctx.tz) },
  };
}

export function registerWhistle(bot: Bot): void {
  bot.command(["吹哨", "whistle"], whistleCommand, {
    usage: "/吹哨 <类型> <部门…> <事项>",
    summary: "街乡召集部门：类型为 执法/应急/重点，部门用逗号或顿号分隔，1+4 代表本街乡默认力量",
    example: USAGE[0],
    audience: "street",
  });
  bot.action("whistle_form", whistleForm);
}
