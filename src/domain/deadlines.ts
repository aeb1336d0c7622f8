/**
 * The report-in clock (报到 within 30 minutes) as pure rules: what is due for a dispatch at `now`,
 * and when to look at it next. Whatever was done is recorded on the dispatch (reminded_at,
 * overdue_at, escalation_count, …), so asking again after doing it finds nothing due: a sweep that
 * runs twice, or two sweeps at once, never nag twice for the same thing.
 */

export interface DeadlinePolicy {
  /** Reminder this many minutes before the deadline (0 = none). */
  remindBeforeMinutes: number;
  /** Repeat the escalation every this many minutes while still not reported in. */
  escalateEveryMinutes: number;
  /** Repeats after the first escalation at the deadline. */
  escalateMaxTimes: number;
  /** While the matter is open, ask a reported department for progress every this many hours (0 = never). */
  progressEveryHours: number;
  /** Paid buzz channels on top of in-app ("sms", "phone"). */
  buzzChannels: readonly string[];
}

export const DEFAULT_POLICY: DeadlinePolicy = {
  remindBeforeMinutes: 10,
  escalateEveryMinutes: 30,
  escalateMaxTimes: 3,
  progressEveryHours: 4,
  buzzChannels: [],
};

export interface DispatchClock {
  whistleOpen: boolean;
  whistledAt: Date;
  state: "pending" | "reported" | "on_site";
  deadlineAt: Date;
  remindedAt: Date | null;
  overdueAt: Date | null;
  escalationCount: number;
  lastEscalatedAt: Date | null;
  reportedAt: Date | null;
  lastProgressAskAt: Date | null;
  /** The department's latest progress note, if any: a fresh note makes an ask unnecessary. */
  lastProgressAt: Date | null;
}

export type Due = "remind" | "overdue" | "escalate" | "progress_ask";

const MIN = 60_000;
const plus = (d: Date, ms: number) => new Date(d.getTime() + ms);
const latest = (...ds: (Date | null)[]) =>
  ds.reduce<Date | null>((a, b) => (b && (!a || b > a) ? b : a), null);

/** When the reminder goes, or null when the whistle's limit leaves no room for one. */
function remindAt(d: DispatchClock, p: DeadlinePolicy): Date | null {
  if (p.remindBeforeMinutes <= 0) return null;
  const at = plus(d.deadlineAt, -p.remindBeforeMinutes * MIN);
  // A reminder less than a minute after the whistle is noise: the card itself just arrived.
  return at.getTime() - d.whistledAt.getTime() >= MIN ? at : null;
}

/** The next repeat escalation (escalationCount counts the one at the deadline plus repeats). */
function nextEscalationAt(d: DispatchClock, p: DeadlinePolicy): Date | null {
  if (!d.overdueAt || d.escalationCount - 1 >= p.escalateMaxTimes) return null;
  return plus(d.lastEscalatedAt ?? d.overdueAt, p.escalateEveryMinutes * MIN);
}

function nextProgressAskAt(d: DispatchClock, p: DeadlinePolicy): Date | null {
  if (p.progressEveryHours <= 0 || !d.reportedAt) return null;
  const since = latest(d.reportedAt, d.lastProgressAskAt, d.lastProgressAt) ?? d.reportedAt;
  return plus(since, p.progressEveryHours * 60 * MIN);
}

/** What is due now, in the order it should happen. */
export function dueActions(d: DispatchClock, p: DeadlinePolicy, now: Date): Due[] {
  if (!d.whistleOpen) return [];
  if (d.state !== "pending") {
    const ask = nextProgressAskAt(d, p);
    return ask && ask <= now ? ["progress_ask"] : [];
  }
  if (!d.overdueAt) {
    if (now >= d.deadlineAt) return ["overdue"];
    const r = remindAt(d, p);
    return r && !d.remindedAt && now >= r ? ["remind"] : [];
  }
  const next = nextEscalationAt(d, p);
  return next && next <= now ? ["escalate"] : [];
}

/** When the sweep should look at this dispatch next (null: nothing more will ever be due). */
export function nextCheckAt(d: DispatchClock, p: DeadlinePolicy): Date | null {
  if (!d.whistleOpen) return null;
  if (d.state !== "pending") return nextProgressAskAt(d, p);
  if (!d.overdueAt) {
    const r = remindAt(d, p);
    return r && !d.remindedAt && r < d.deadlineAt ? r : d.deadlineAt;
  }
  return nextEscalationAt(d, p);
}

/** Whole minutes past the deadline (0 before it). */
export function minutesLate(d: Pick<DispatchClock, "deadlineAt">, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - d.deadlineAt.getTime()) / MIN));
}
