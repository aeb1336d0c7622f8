import { eq } from "drizzle-orm";
import { ratingsOf, saveRating } from "../../db/queries/ratings";
import { addTimeline, lockWhistle, whistleView } from "../../db/queries/whistles";
import { units } from "../../db/schema";
import { can } from "../../domain/permissions";
import { decideRating, RATING_LABEL } from "../../domain/rating";
import { renderRatingCard } from "../cards/rating-card";
import type { ActionContext, Bot, CallbackAnswer } from "../router";
import { memberOfUnit } from "./roles";

/**
 * 评价: the street's officials rate each department on a resolved whistle (or veto it, with a
 * reason). All or nothing per submit; each department's group is told its rating.
 */
async function rate(ctx: ActionContext): Promise<CallbackAnswer> {
  const whistleId = Number(ctx.event.value.w);
  const row = Number.isInteger(whistleId) ? await lockWhistle(ctx.tx, whistleId) : undefined;
  if (!row) return { toast: { type: "warning", content: "找不到这张卡片对应的哨单。" } };
  const member = await memberOfUnit(ctx, row.streetId);
  const [street] = await ctx.tx.select({ name: units.name }).from(units).where(eq(units.id, row.streetId));
  const allowed = can(
    {
      openId: ctx.event.operatorOpenId,
      admin: false,
      streets: member ? [row.streetId] : [],
      departments: [],
      oversight: false,
    },
    "rate",
    { streetId: row.streetId, streetName: street?.name },
  );
  if (!allowed.ok) return { toast: { type: "error", content: allowed.reason } };
  if (row.status !== "resolved") return { toast: { type: "info", content: "只有已办结的哨单可以评价。" } };
  const w = await whistleView(ctx.tx, row.id);
  if (!w) return { toast: { type: "warning", content: "找不到这张卡片对应的哨单。" } };
  const existing = await ratingsOf(
    ctx.tx,
    w.dispatches.map((d) => d.id),
  );
  const fv = ctx.event.formValue ?? {};
  const decisions = w.dispatches.map((d) => ({
    d,
    decision: decideRating(
      d.department.name,
      fv[`level_${d.id}`],
      fv[`note_${d.id}`],
      existing.get(d.id),
      ctx.now,
    ),
  }));
  const problems = decisions.flatMap(({ decision }) =>
    decision.kind === "invalid" || decision.kind === "final" ? [decision.reason] : [],
  );
  if (problems.length > 0) return { toast: { type: "error", content: `${problems.join(" ")}（未保存）` } };
  const who = ctx.event.operatorOpenId;
  let changed = 0;
  for (const { d, decision } of decisions) {
    if (decision.kind !== "set") continue;
    changed++;
    await saveRating(ctx.tx, d.id, decision, who, ctx.now);
    await addTimeline(ctx.tx, w.id, ctx.now, [
      {
        kind: "rated",
        actorOpenId: who,
        departmentId: d.department.id,
        data: { level: decision.level, veto: decision.veto },
      },
    ]);
    const label = decision.veto ? RATING_LABEL.veto : RATING_LABEL[decision.level];
    const why = decision.veto
      ? `理由：${decision.vetoReason}`
      : decision.comment
        ? `意见：${decision.comment}`
        : "";
    ctx.out.sendText(
      d.chatId,
      `【评价】${w.street.name}对${d.department.name}在 ${w.code}「${w.matter}」中的表现评价为：${label}${why ? `（${why}）` : ""}。`,
      { whistleId: w.id },
    );
  }
  const after = await ratingsOf(
    ctx.tx,
    w.dispatches.map((d) => d.id),
  );
  return {
    toast:
      changed > 0
        ? { type: "success", content: `已评价 ${changed} 个部门，已通知各部门。` }
        : { type: "info", content: "评价没有变化。" },
    card: { type: "raw", data: renderRatingCard(w, after, ctx.now, ctx.tz) },
  };
}

export function registerRateAction(bot: Bot): void {
  bot.action("rate", rate);
}
