import { and, desc, eq } from "drizzle-orm";
import { dutyOf } from "../../db/queries/directory";
import { addTimeline, lockWhistle, updateWhistle, whistleView } from "../../db/queries/whistles";
import { dispatches, timeline, units } from "../../db/schema";
import { can } from "../../domain/permissions";
import { cancel, closedReason, pendingDispatches, resolve, TYPE_LABEL } from "../../domain/whistle";
import { renderRatingCard } from "../cards/rating-card";
import { renderSummaryCard } from "../cards/summary-card";
import type { ActionContext, Bot, CallbackAnswer } from "../router";
import { dispatchCardRef, publish, summaryCardRef } from "./publish";
import { memberOfUnit } from "./roles";

/**
 * The street's side, on its summary card: 办结 (resolve, with the result), 撤销 (cancel, with a
 * reason), 催办 (nudge the departments not yet in). Only the street's officials; every card then
 * shows the new state.
 */

/** A nudge at most this often per whistle, so a worried official cannot flood the departments. */
const NUDGE_EVERY_MS = 5 * 60_000;

async function loadForStreet(ctx: ActionContext, action: "resolve" | "cancel" | "nudge") {
  const whistleId = Number(ctx.event.value.w);
  if (!Number.isInteger(whistleId)) return { answer: gone };
  const whistle = await lockWhistle(ctx.tx, whistleId);
  if (!whistle) return { answer: gone };
  const member = await memberOfUnit(ctx, whistle.streetId);
  const [street] = await ctx.tx
    .select({ name: units.name })
    .from(units)
    .where(eq(units.id, whistle.streetId));
  const allowed = can(
    {
      openId: ctx.event.operatorOpenId,
      admin: false,
      streets: member ? [whistle.streetId] : [],
      departments: [],
      oversight: false,
    },
    action,
    { streetId: whistle.streetId, streetName: street?.name },
  );
  if (!allowed.ok) return { answer: { toast: { type: "error" as const, content: allowed.reason } } };
  return { whistle };
}

const gone: CallbackAnswer = { toast: { type: "warning", content: "找不到这张卡片对应的哨单。" } };

async function summaryAnswer(
  ctx: ActionContext,
  whistleId: number,
  toast: CallbackAnswer["toast"],
): Promise<CallbackAnswer> {
  const w = await whistleView(ctx.tx, whistleId);
  return w ? { toast, card: { type: "raw", data: renderSummaryCard(w, ctx.now, ctx.tz) } } : { toast };
}

async function close(ctx: ActionContext, kind: "resolve" | "cancel"): Promise<CallbackAnswer> {
  const l = await loadForStreet(ctx, kind);
  if (!l.whistle) return l.answer;
  const w = l.whistle;
  const outcome = (kind === "resolve" ? resolve : cancel)(w, ctx.event.formValue?.text);
  if (outcome.kind === "closed") return summaryAnswer(ctx, w.id, { type: "info", content: outcome.reason });
  if (outcome.kind === "invalid") return { toast: { type: "error", content: outcome.reason } };
  const who = ctx.event.operatorOpenId;
  await updateWhistle(
    ctx.tx,
    w.id,
    kind === "resolve"
      ? { status: "resolved", resolvedAt: ctx.now, resolvedBy: who, resolution: outcome.text }
      : { status: "cancelled", cancelledAt: ctx.now, cancelledBy: who, cancelReason: outcome.text },
  );
  // Nothing is due any more on any of its dispatches (reminders, escalations stop here).
  await ctx.tx.update(dispatches).set({ nextCheckAt: null }).where(eq(dispatches.whistleId, w.id));
  await addTimeline(ctx.tx, w.id, ctx.now, [
    { kind: kind === "resolve" ? "resolved" : "cancelled", actorOpenId: who, data: { text: outcome.text } },
  ]);
  const fresh = await publish(ctx.tx, ctx.out, w.id, ctx.now, ctx.tz, { exceptSummary: true });
  if (kind === "resolve") {
    // The street rates each department (评价权): the rating card follows the summary.
    ctx.out.replyCard(
      { messageId: summaryCardRef(fresh), chatId: fresh.street.chatId },
      renderRatingCard(fresh, new Map(), ctx.now, ctx.tz),
      { whistleId: w.id },
    );
  }
  return summaryAnswer(ctx, w.id, {
    type: "success",
    content: kind === "resolve" ? `${w.code} 已办结。` : `${w.code} 已撤销。`,
  });
}

async function nudge(ctx: ActionContext): Promise<CallbackAnswer> {
  const l = await loadForStreet(ctx, "nudge");
  if (!l.whistle) return l.answer;
  if (l.whistle.status !== "open") {
    return summaryAnswer(ctx, l.whistle.id, { type: "info", content: closedReason(l.whistle) });
  }
  const [last] = await ctx.tx
    .select({ at: timeline.at })
    .from(timeline)
    .where(and(eq(timeline.whistleId, l.whistle.id), eq(timeline.kind, "nudged")))
    .orderBy(desc(timeline.at))
    .limit(1);
  if (last && ctx.now.getTime() - last.at.getTime() < NUDGE_EVERY_MS) {
    return { toast: { type: "info", content: "刚刚催办过，请稍后再催。" } };
  }
  const w = await whistleView(ctx.tx, l.whistle.id);
  if (!w) return gone;
  const pending = pendingDispatches(w);
  if (pending.length === 0) return { toast: { type: "info", content: "所有部门都已报到，无需催办。" } };
  for (const d of pending) {
    const duty = await dutyOf(ctx.tx, d.department.id);
    const who = duty.length ? `${duty.map((id) => `<at user_id="${id}"></at>`).join(" ")} ` : "";
    ctx.out.replyText(
      { messageId: dispatchCardRef(w, d), chatId: d.chatId },
      `${who}【催办】${w.street.name}催请${d.department.name}尽快报到：${TYPE_LABEL[w.type]} ${w.code}「${w.matter}」。请点卡片上的“报到”。`,
      { whistleId: w.id },
    );
  }
  await addTimeline(ctx.tx, w.id, ctx.now, [
    {
      kind: "nudged",
      actorOpenId: ctx.event.operatorOpenId,
      data: { departments: pending.map((d) => d.department.name) },
    },
  ]);
  return summaryAnswer(ctx, w.id, { type: "success", content: `已催办 ${pending.length} 个部门。` });
}

export function registerCloseActions(bot: Bot): void {
  bot.action("resolve", (ctx) => close(ctx, "resolve"));
  bot.action("cancel", (ctx) => close(ctx, "cancel"));
  bot.action("nudge", nudge);
}
