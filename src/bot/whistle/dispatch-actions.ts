import { eq } from "drizzle-orm";
import { addProgressNote } from "../../db/queries/whistles";
import { units } from "../../db/schema";
import { can } from "../../domain/permissions";
import {
  addProgress,
  type DepartmentCardView,
  markOnSite,
  type ReportInOutcome,
  reportIn,
} from "../../domain/whistle";
import { renderDepartmentCard } from "../cards/department-card";
import type { ActionContext, Bot, CallbackAnswer, Deferred } from "../router";
import { type DeskRows, desk, prepareDesk } from "./dispatch-desk";
import { batchCards } from "./loader";
import { queueSummaryRefresh } from "./publish";
import { memberOfUnit } from "./roles";

/**
 * The department's side of a whistle, on its card: 报到 (report in), 到场 (on site), 进展 (progress).
 * Each tap holds its dispatch row lock (and shares the whistle's) through the batch's desk, so 100
 * simultaneous taps leave one report-in and one row per person. The answer carries the department
 * card re-rendered from the database; the street's summary card follows through the outbox when
 * it changed.
 */

type Loaded = DeskRows;

const gone: CallbackAnswer = {
  toast: { type: "warning", content: "找不到这张卡片对应的哨单，可能已被删除。" },
};

function load(ctx: ActionContext): Promise<Loaded | undefined> {
  return desk(ctx).rows(ctx.event);
}

/** Staff of the department only; the refusal names the department and who may do it. */
async function refusal(ctx: ActionContext, l: Loaded, action: "report_in" | "on_site" | "progress") {
  if (await memberOfUnit(ctx, l.dispatch.departmentId, desk(ctx).chatsOf(l.dispatch.departmentId)))
    return undefined;
  const [dept] = await ctx.tx
    .select({ name: units.name })
    .from(units)
    .where(eq(units.id, l.dispatch.departmentId));
  const d = can(
    { openId: ctx.event.operatorOpenId, admin: false, streets: [], departments: [], oversight: false },
    action,
    {
      departmentId: l.dispatch.departmentId,
      departmentName: dept?.name,
    },
  );
  return d.ok ? undefined : ({ toast: { type: "error", content: d.reason } } satisfies CallbackAnswer);
}

/**
 * The clicked card re-rendered, with a toast. Deferred: rendered once per batch after every tap in
 * it, from the final state — as the batch's desk knows it (the rows it locked and changed, see
 * `DispatchDesk.cardView`), or read back after the writes where it does not know all of it. When
 * the street should see the change, its summary card is queued for an update rendered at delivery
 * (once for the batch, and coalesced with the next batches').
 */
function answer(
  ctx: ActionContext,
  l: Loaded,
  toast: CallbackAnswer["toast"],
  summaryChanged: boolean,
): Deferred {
  const d = desk(ctx);
  if (summaryChanged && d.refreshesSummary(l.whistle.id)) queueSummaryRefresh(ctx.out, l.whistle);
  return {
    deferred: async () => {
      const card = await ctx.batch.once(`dcard:${l.dispatch.id}`, async () => {
        let v = d.cardView(l.dispatch.id);
        if (!v) {
          ctx.log.debug("department card read back", { dispatch_id: l.dispatch.id });
          v = await (await batchCards(ctx)).load(l.dispatch.id);
        }
        return v && renderOrLog(ctx, v);
      });
      return card ? { toast, card: { type: "raw", data: card } } : { toast };
    },
    // At most one read (the batch's card loader) and a pure render.
    readOnly: true,
  };
}

/**
 * The department card, or undefined when rendering it fails: a bug in a card must not cost the
 * report-in (the tap is recorded and answered with its toast; the card catches up with the next
 * change). Only rendering is caught — a failed read fails the batch, which is retried.
 */
function renderOrLog(ctx: ActionContext, v: DepartmentCardView) {
  try {
    return renderDepartmentCard(v.whistle, v.dispatch, ctx.now, ctx.tz);
  } catch (err) {
    ctx.log.error("department card not rendered; answering with the toast only", {
      dispatch_id: v.dispatch.id,
      error: err,
    });
    return undefined;
  }
}

/**
 * Record a tap on 报到 by `who` (the domain's `reportIn` rule decides): the department's first
 * report-in (on time or late), a colleague joining, or a repeat that changes nothing.
 */
function recordReportIn(ctx: ActionContext, l: Loaded, who: string): ReportInOutcome {
  const d = desk(ctx);
  // Transactions that started earlier can get the row lock later: never record a colleague
  // before the department's own report-in.
  const at =
    l.dispatch.state === "pending"
      ? ctx.now
      : new Date(Math.max(ctx.now.getTime(), l.dispatch.reportedAt?.getTime() ?? 0));
  const outcome = reportIn(l.whistle, l.dispatch, d.tappedBefore(l.dispatch.id, who), at);
  if (outcome.kind === "repeat" || outcome.kind === "closed") return outcome;
  d.addReportIn(l.dispatch.id, who, at);
  // A colleague's report-in is its own record: the timeline shows it as `joined` (see `timelineOf`).
  if (outcome.kind === "colleague") return outcome;
  d.patch(l.dispatch.id, {
    state: "reported",
    reportedAt: at,
    reportedBy: who,
    lateMinutes: outcome.lateMinutes > 0 ? outcome.lateMinutes : null,
  });
  d.timeline({
    whistleId: l.whistle.id,
    at,
    kind: "reported",
    actorOpenId: who,
    departmentId: l.dispatch.departmentId,
    data: { minutes: outcome.minutesTaken, late: outcome.lateMinutes },
  });
  return outcome;
}

async function reportInAction(ctx: ActionContext): Promise<CallbackAnswer | Deferred> {
  const l = await load(ctx);
  if (!l) return gone;
  const refused = await refusal(ctx, l, "report_in");
  if (refused) return refused;
  const r = recordReportIn(ctx, l, ctx.event.operatorOpenId);
  switch (r.kind) {
    case "closed":
      return answer(ctx, l, { type: "info", content: r.reason }, false);
    case "repeat":
      return answer(ctx, l, { type: "info", content: "你已经报到过了。" }, false);
    case "colleague":
      return answer(ctx, l, { type: "success", content: "已记录你的报到。" }, false);
    case "first":
      return answer(
        ctx,
        l,
        r.lateMinutes > 0
          ? { type: "warning", content: `已报到（超时 ${r.lateMinutes} 分钟）。请尽快到场。` }
          : { type: "success", content: `报到成功，用时 ${r.minutesTaken} 分钟。` },
        true,
      );
  }
}

async function onSiteAction(ctx: ActionContext): Promise<CallbackAnswer | Deferred> {
  const l = await load(ctx);
  if (!l) return gone;
  const refused = await refusal(ctx, l, "on_site");
  if (refused) return refused;
  const outcome = markOnSite(l.whistle, l.dispatch);
  if (outcome.kind === "closed") return answer(ctx, l, { type: "info", content: outcome.reason }, false);
  if (outcome.kind === "already") return answer(ctx, l, { type: "info", content: "已经标记为到场。" }, false);
  const who = ctx.event.operatorOpenId;
  // 到场 before 报到: they are there, so they have reported in too.
  if (outcome.alsoReportsIn) recordReportIn(ctx, l, who);
  desk(ctx).patch(l.dispatch.id, { state: "on_site", onSiteAt: ctx.now, onSiteBy: who });
  desk(ctx).timeline({
    whistleId: l.whistle.id,
    at: ctx.now,
    kind: "on_site",
    actorOpenId: who,
    departmentId: l.dispatch.departmentId,
  });
  return answer(ctx, l, { type: "success", content: "已标记到场。" }, true);
}

async function progressAction(ctx: ActionContext): Promise<CallbackAnswer | Deferred> {
  const l = await load(ctx);
  if (!l) return gone;
  const refused = await refusal(ctx, l, "progress");
  if (refused) return refused;
  const outcome = addProgress(l.whistle, ctx.event.formValue?.note);
  if (outcome.kind === "closed") return answer(ctx, l, { type: "info", content: outcome.reason }, false);
  if (outcome.kind === "invalid") return { toast: { type: "error", content: outcome.reason } };
  // A note is the one write a redelivered callback would make twice.
  if (!(await ctx.fresh())) return { toast: { type: "info", content: "进展已提交。" } };
  const who = ctx.event.operatorOpenId;
  await addProgressNote(ctx.tx, l.dispatch.id, who, outcome.text, ctx.now);
  desk(ctx).noteAdded(l.dispatch.id, { openId: who, note: outcome.text, at: ctx.now });
  desk(ctx).timeline({
    whistleId: l.whistle.id,
    at: ctx.now,
    kind: "progress",
    actorOpenId: who,
    departmentId: l.dispatch.departmentId,
    data: { note: outcome.text },
  });
  return answer(ctx, l, { type: "success", content: "进展已提交。" }, true);
}

export function registerDispatchActions(bot: Bot): void {
  bot.action("report_in", reportInAction, { prepare: prepareDesk });
  bot.action("on_site", onSiteAction, { prepare: prepareDesk });
  bot.action("progress", progressAction, { prepare: prepareDesk });
}
