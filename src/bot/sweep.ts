import { eq, inArray, sql } from "drizzle-orm";
import type { Db, Tx } from "../db/database";
import {
  claimDueDispatches,
  type DueDispatch,
  deadlinePolicy,
  dutyByDepartment,
  oversightChats,
} from "../db/queries/deadlines";
import { ratingsOf, unratedToRemind } from "../db/queries/ratings";
import { dispatchFacts, lateDepartments, whistleTimes } from "../db/queries/stats";
import { lockSummaries, openWhistleIds, whistleViews } from "../db/queries/whistles";
import { jobRuns, timeline, units, whistles } from "../db/schema";
import {
  type DeadlinePolicy,
  type DispatchClock,
  dueActions,
  minutesLate,
  nextCheckAt,
} from "../domain/deadlines";
import { digestRunKey, STALE_OPEN_MS } from "../domain/digest";
import { groupMetrics, rank } from "../domain/metrics";
import { periodRange } from "../domain/periods";
import { RATING_REMINDER_AFTER_MS } from "../domain/rating";
import { TYPE_LABEL, type WhistleType } from "../domain/whistle";
import type { Logger } from "../log";
import { renderDigestCard } from "./cards/digest-card";
import { renderEscalationCard } from "./cards/escalation-card";
import type { BuzzChannel } from "./lark-client";
import { OutboxWriter } from "./outbox";
import { dispatchCardRef, publishCards, summaryCardRef } from "./whistle/publish";

/**
 * sweep(now): find the dispatches whose next check is due — reminders, deadlines, repeat
 * escalations, progress asks — and act on them, a chunk per transaction, recording what was done
 * on the dispatch so that a second sweep (now, later, or at the same time in another process)
 * finds nothing left to do. Every message it queues carries a guard, so one that no longer applies
 * when its turn comes (the department reported in, the whistle was closed) is dropped unsent.
 */

export interface SweepOptions {
  db: Db;
  log: Logger;
  tz: string;
  /** Dispatches per transaction. */
  chunk?: number;
  /** Upper bound on chunks per sweep (the next sweep continues). */
  maxChunks?: number;
}

export interface SweepReport {
  checked: number;
  reminded: number;
  overdue: number;
  escalated: number;
  progressAsks: number;
  outbox: number;
}

const clockOf = (r: DueDispatch): DispatchClock => ({
  whistleOpen: r.whistle.status === "open",
  whistledAt: r.whistle.createdAt,
  state: r.dispatch.state,
  deadlineAt: r.dispatch.deadlineAt,
  remindedAt: r.dispatch.remindedAt,
  overdueAt: r.dispatch.overdueAt,
  escalationCount: r.dispatch.escalationCount,
  lastEscalatedAt: r.dispatch.lastEscalatedAt,
  reportedAt: r.dispatch.reportedAt,
  lastProgressAskAt: r.dispatch.lastProgressAskAt,
  lastProgressAt: r.lastProgressAt,
});

const mention = (ids: string[]) => ids.map((id) => `<at user_id="${id}"></at>`).join(" ");

export async function sweepDeadlines(now: Date, o: SweepOptions): Promise<SweepReport> {
  const report: SweepReport = {
    checked: 0,
    reminded: 0,
    overdue: 0,
    escalated: 0,
    progressAsks: 0,
    outbox: 0,
  };
  const chunk = o.chunk ?? 200;
  for (let i = 0; i < (o.maxChunks ?? 50); i++) {
    const n = await o.db.transaction((tx) => sweepChunk(tx, now, chunk, o, report));
    if (n === 0) break;
  }
  if (report.checked > 0) o.log.info("sweep", { ...report });
  return report;
}

interface DispatchUpdate {
  id: number;
  clock: DispatchClock;
  next: Date | null;
}

/** All the chunk's dispatch updates in one statement. */
async function updateDispatches(tx: Tx, updates: DispatchUpdate[]): Promise<void> {
  if (updates.length === 0) return;
  const ts = (d: Date | null) => (d ? d.toISOString() : null);
  const values = updates.map(
    (u) =>
      sql`(${u.id}::int, ${ts(u.clock.remindedAt)}::timestamptz, ${ts(u.clock.overdueAt)}::timestamptz, ${u.clock.escalationCount}::int, ${ts(u.clock.lastEscalatedAt)}::timestamptz, ${ts(u.clock.lastProgressAskAt)}::timestamptz, ${ts(u.next)}::timestamptz)`,
  );
  await tx.execute(sql`
    update dispatches as d set
      reminded_at = v.reminded_at, overdue_at = v.overdue_at, escalation_count = v.escalation_count,
      last_escalated_at = v.last_escalated_at, last_progress_ask_at = v.last_progress_ask_at, next_check_at = v.next_check_at
    from (values ${sql.join(values, sql`, `)}) as v(id, reminded_at, overdue_at, escalation_count, last_escalated_at, last_progress_ask_at, next_check_at)
    where d.id = v.id`);
}

async function sweepChunk(
  tx: Tx,
  now: Date,
  chunk: number,
  o: SweepOptions,
  report: SweepReport,
): Promise<number> {
  const rows = await claimDueDispatches(tx, now, chunk);
  if (rows.length === 0) return 0;
  report.checked += rows.length;
  const out = new OutboxWriter(tx, now);
  const policies = new Map<string, DeadlinePolicy>();
  const policyOf = async (r: DueDispatch) => {
    const key = `${r.whistle.streetId}:${r.whistle.type}`;
    let p = policies.get(key);
    if (!p) {
      p = await deadlinePolicy(tx, r.whistle.streetId, r.whistle.type);
      policies.set(key, p);
    }
    return p;
  };
  const duty = await dutyByDepartment(tx, [...new Set(rows.map((r) => r.dispatch.departmentId))]);

  // Decide first (pure), then load what the messages need, all in a few statements.
  const plans = [];
  for (const r of rows) {
    const policy = await policyOf(r);
    const clock = clockOf(r);
    plans.push({ r, policy, clock, due: dueActions(clock, policy, now) });
  }
  const acting = plans.filter((p) => p.due.length > 0);
  const views = new Map(
    (await whistleViews(tx, [...new Set(acting.map((p) => p.r.whistle.id))])).map((w) => [w.id, w] as const),
  );
  const timelineRows: (typeof timeline.$inferInsert)[] = [];
  // Overdue and escalated departments, per whistle, for one escalation card each.
  const escalations = new Map<number, { ids: number[]; round: number }>();
  const touched = new Set<number>();

  for (const { r, policy, clock, due } of acting) {
    const d = r.dispatch;
    const w = views.get(r.whistle.id);
    const dv = w?.dispatches.find((x) => x.id === d.id);
    if (!w || !dv) continue;
    const contacts = duty.get(d.departmentId) ?? [];
    const pendingGuard = { name: "dispatch_pending", arg: [d.id] };
    const cardRef = dispatchCardRef(w, dv);
    const note = (kind: string, data: Record<string, unknown> = {}) =>
      timelineRows.push({ whistleId: w.id, at: now, kind, departmentId: d.departmentId, data });
    for (const action of due) {
      if (action === "remind") {
        clock.remindedAt = now;
        report.reminded++;
        const left = Math.max(1, Math.round((d.deadlineAt.getTime() - now.getTime()) / 60_000));
        out.replyText(
          { messageId: cardRef, chatId: d.chatId },
          `${contacts.length ? `${mention(contacts)} ` : ""}⏰ 距报到截止还有 ${left} 分钟：${w.street.name}${TYPE_LABEL[w.type]} ${w.code}「${w.matter}」，请点卡片上的“报到”。`,
          { guard: pendingGuard, whistleId: w.id },
        );
        note("reminded");
      } else if (action === "overdue" || action === "escalate") {
        const first = action === "overdue";
        if (first) clock.overdueAt = now;
        clock.escalationCount += 1;
        clock.lastEscalatedAt = now;
        if (first) report.overdue++;
        else report.escalated++;
        if (contacts.length > 0) {
          // In-app buzz every round; the paid channels (SMS, phone) only once, at the deadline.
          const channels: BuzzChannel[] = ["app", ...(first ? (policy.buzzChannels as BuzzChannel[]) : [])];
          for (const channel of channels)
            out.buzz(cardRef, channel, contacts, { guard: pendingGuard, whistleId: w.id });
        }
        const e = escalations.get(w.id) ?? { ids: [], round: clock.escalationCount };
        e.ids.push(d.id);
        e.round = Math.max(e.round, clock.escalationCount);
        escalations.set(w.id, e);
        if (first) touched.add(w.id);
        note(first ? "overdue" : "escalated", {
          late: minutesLate(clock, now),
          round: clock.escalationCount,
          buzzed: contacts.length,
        });
      } else if (action === "progress_ask") {
        clock.lastProgressAskAt = now;
        report.progressAsks++;
        out.replyText(
          { messageId: cardRef, chatId: d.chatId },
          `${contacts.length ? `${mention(contacts)} ` : ""}📝 ${w.code}「${w.matter}」仍在办理中（事不完、人不撤），请在卡片上提交最新进展。`,
          { guard: { name: "whistle_open", arg: w.id }, whistleId: w.id },
        );
        note("progress_asked");
      }
    }
  }
  await updateDispatches(
    tx,
    plans.map((p) => ({ id: p.r.dispatch.id, clock: p.clock, next: nextCheckAt(p.clock, p.policy) })),
  );
  if (timelineRows.length > 0) await tx.insert(timeline).values(timelineRows);

  if (escalations.size > 0) {
    const oversight = await oversightChats(tx);
    // Cards show 超时 in red from now on: re-render the whistles that just went overdue, from the updated rows.
    await lockSummaries(tx, touched);
    const fresh = new Map((await whistleViews(tx, [...touched])).map((w) => [w.id, w] as const));
    for (const w of fresh.values()) publishCards(out, w, now, o.tz);
    for (const [whistleId, e] of escalations) {
      const w = fresh.get(whistleId) ?? views.get(whistleId);
      if (!w) continue;
      const overdue = w.dispatches.filter((x) => e.ids.includes(x.id));
      for (const chatId of oversight) {
        out.sendCard(chatId, renderEscalationCard(w, overdue, e.round, duty, now, o.tz), {
          guard: { name: "dispatch_pending", arg: e.ids },
          whistleId,
        });
      }
      if (oversight.length === 0)
        o.log.warn("overdue departments but no oversight chat is bound", { whistle: w.code });
    }
  }
  report.outbox += out.written;
  await out.flush();
  return rows.length;
}

/**
 * Resolved whistles still not fully rated a day later: remind the street once, under its summary
 * card. Claimed with SKIP LOCKED and marked, so concurrent or repeated sweeps remind once.
 */
export async function sweepRatingReminders(now: Date, o: SweepOptions): Promise<number> {
  return o.db.transaction(async (tx) => {
    const ids = await unratedToRemind(tx, new Date(now.getTime() - RATING_REMINDER_AFTER_MS));
    if (ids.length === 0) return 0;
    const out = new OutboxWriter(tx, now);
    const views = await whistleViews(tx, ids);
    const rated = await ratingsOf(
      tx,
      views.flatMap((w) => w.dispatches.map((d) => d.id)),
    );
    for (const w of views) {
      const missing = w.dispatches.filter((d) => !rated.has(d.id)).map((d) => d.department.name);
      out.replyText(
        { messageId: summaryCardRef(w), chatId: w.street.chatId },
        `⭐ ${w.code}「${w.matter}」办结已满一天，还有 ${missing.join("、")} 未评价。请在评价卡片上评价（评价计入部门考核）。`,
        { whistleId: w.id },
      );
    }
    await tx.update(whistles).set({ ratingRemindedAt: now }).where(inArray(whistles.id, ids));
    await out.flush();
    return ids.length;
  });
}

/**
 * The daily digest to every oversight chat, once per display-zone day from `digestAt`: the job's
 * run is claimed with a unique insert (job_runs), so several instances send it once between them.
 */
export async function sweepDigest(now: Date, o: SweepOptions & { digestAt: string }): Promise<boolean> {
  const runKey = digestRunKey(now, o.tz, o.digestAt);
  if (!runKey) return false;
  return o.db.transaction(async (tx) => {
    const claimed = await tx
      .insert(jobRuns)
      .values({ job: "digest", runKey, ranAt: now })
      .onConflictDoNothing()
      .returning({ job: jobRuns.job });
    if (claimed.length === 0) return false;
    const chats = await oversightChats(tx);
    if (chats.length === 0) return true;
    const yesterday = periodRange("yesterday", now, o.tz);
    const month = periodRange("this_month", now, o.tz);
    const byType = new Map<WhistleType, number>();
    for (const w of await whistleTimes(tx, yesterday, { all: true }))
      byType.set(w.type, (byType.get(w.type) ?? 0) + 1);
    const late = await lateDepartments(tx, yesterday);
    const groups = groupMetrics(await dispatchFacts(tx, month, { all: true }), "department");
    const { ranked } = rank(groups);
    const names = new Map(
      (
        await tx.select({ id: units.id, name: units.name }).from(units).where(eq(units.kind, "department"))
      ).map((u) => [u.id, u.name] as const),
    );
    const open = await whistleViews(tx, await openWhistleIds(tx, { all: true }, 200));
    const staleOpen = open
      .filter((w) => now.getTime() - w.createdAt.getTime() > STALE_OPEN_MS)
      .map((w) => ({
        code: w.code,
        street: w.street.name,
        matter: w.matter,
        ageMinutes: Math.round((now.getTime() - w.createdAt.getTime()) / 60_000),
      }));
    const out = new OutboxWriter(tx, now);
    const digest = renderDigestCard({
      dayLabel: yesterday.label,
      byType,
      late,
      ranking: { monthLabel: month.label, ranked, names },
      staleOpen,
    });
    for (const chatId of chats)
      out.sendCard(chatId, digest, { key: `digest-${runKey}-${chatId}`.slice(0, 50) });
    await out.flush();
    o.log.info("daily digest", { day: runKey, chats: chats.length });
    return true;
  });
}
