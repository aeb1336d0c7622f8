import { deadlinePolicy } from "../../db/queries/deadlines";
import type { Unit } from "../../db/queries/directory";
import {
  cardGroups,
  insertWhistle,
  nextWhistleCode,
  updateWhistle,
  whistleView,
} from "../../db/queries/whistles";
import { nextCheckAt } from "../../domain/deadlines";
import { MAX_LIMIT_MINUTES, type WhistleType, type WhistleView } from "../../domain/whistle";
import { renderDepartmentCard } from "../cards/department-card";
import { renderSummaryCard } from "../cards/summary-card";
import type { BaseContext } from "../router";
import { dispatchCardKey, summaryCardKey } from "./publish";

/**
 * Create a whistle and everything it sets off, in the caller's transaction: the code, one dispatch
 * per department, the first timeline entry, and the outbox rows for every department card and the
 * street's summary card.
 */
export interface WhistleInput {
  type: WhistleType;
  departments: Unit[];
  matter: string;
  place: string | null;
  limitMinutes: number | null;
}

export type CreateOutcome = { ok: true; whistle: WhistleView } | { ok: false; problem: string };

export interface CreateOptions {
  street: Unit;
  streetChatId: string;
  whistlerOpenId: string;
  source: "command" | "form";
  sourceMessageId: string;
  /** Where the summary card goes: a reply to the command, or (for the form) the form card itself. */
  summary: "reply" | "in_place";
}

export async function createWhistle(
  ctx: BaseContext,
  input: WhistleInput,
  o: CreateOptions,
): Promise<CreateOutcome> {
  const unique = [...new Map(input.departments.map((d) => [d.id, d])).values()];
  if (unique.length === 0) return { ok: false, problem: "请至少选择一个部门。" };
  const groups = await cardGroups(
    ctx.tx,
    unique.map((d) => d.id),
  );
  const missing = unique.filter((d) => !groups.has(d.id)).map((d) => d.name);
  if (missing.length > 0) {
    return {
      ok: false,
      problem: `${missing.join("、")} 还没有绑定部门群，收不到卡片。请管理员在该部门群里发送“/绑定 部门 ${missing[0]}”，或先不召集它。`,
    };
  }
  const policy = await deadlinePolicy(ctx.tx, o.street.id, input.type);
  const limit = input.limitMinutes ?? policy.reportLimitMinutes;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT_MINUTES) {
    return { ok: false, problem: `限时应为 1 到 ${MAX_LIMIT_MINUTES} 分钟。` };
  }
  const code = await nextWhistleCode(ctx.tx, ctx.now, ctx.tz);
  const { id } = await insertWhistle(
    ctx.tx,
    {
      code,
      type: input.type,
      matter: input.matter,
      place: input.place,
      streetId: o.street.id,
      streetChatId: o.streetChatId,
      whistlerOpenId: o.whistlerOpenId,
      limitMinutes: limit,
      source: o.source,
      sourceMessageId: o.sourceMessageId,
      departments: unique.map((d) => ({ id: d.id, chatId: groups.get(d.id) as string })),
      // The sweep's first look: the reminder, or the deadline when there is no room for one.
      firstCheckAt: (deadlineAt: Date) =>
        nextCheckAt(
          {
            whistleOpen: true,
            whistledAt: ctx.now,
            state: "pending",
            deadlineAt,
            remindedAt: null,
            overdueAt: null,
            escalationCount: 0,
            lastEscalatedAt: null,
            reportedAt: null,
            lastProgressAskAt: null,
            lastProgressAt: null,
          },
          policy,
        ) ?? deadlineAt,
    },
    ctx.now,
  );
  if (o.summary === "in_place") {
    await updateWhistle(ctx.tx, id, { summaryMessageId: o.sourceMessageId });
  }
  const w = await whistleView(ctx.tx, id);
  if (!w) throw new Error("whistle vanished");
  for (const d of w.dispatches) {
    ctx.out.sendCard(d.chatId, renderDepartmentCard(w, d, ctx.now, ctx.tz), {
      key: dispatchCardKey(w, d),
      recordAs: { name: "dispatch_card", id: d.id },
      whistleId: w.id,
    });
  }
  if (o.summary === "reply") {
    ctx.out.replyCard(
      { messageId: o.sourceMessageId, chatId: o.streetChatId },
      renderSummaryCard(w, ctx.now, ctx.tz),
      {
        key: summaryCardKey(w),
        recordAs: { name: "summary_card", id: w.id },
        whistleId: w.id,
      },
    );
  }
  ctx.log.info("whistle", { whistle: w.code, departments: w.dispatches.length, type: w.type });
  return { ok: true, whistle: w };
}
