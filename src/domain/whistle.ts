/**
 * The whistle and its dispatches: types, labels and the pure rules of the loop
 * (whistle → report in → on site → progress → resolve | cancel). No I/O, no clock: every function
 * takes `now`. See docs/architecture.md "The domain".
 */

export type WhistleType = "enforcement" | "emergency" | "key";
export type WhistleStatus = "open" | "resolved" | "cancelled";
export type DispatchState = "pending" | "reported" | "on_site";

export const WHISTLE_TYPES: readonly WhistleType[] = ["enforcement", "emergency", "key"];

/** 三声哨 */
export const TYPE_LABEL: Record<WhistleType, string> = {
  enforcement: "综合执法哨",
  emergency: "应急处置哨",
  key: "重点工作哨",
};

export const DEFAULT_LIMIT_MINUTES = 30;
export const MAX_LIMIT_MINUTES = 1440;

/**
 * What a card shows of a dispatch however many people tap or write: the colleagues who tapped 报到
 * after the department's report-in, first ones by name (then a count), and the latest notes.
 * Views load just that much (`VIEW_REPORTERS` = the report-in and the named colleagues).
 */
export const NAMED_COLLEAGUES = 20;
export const VIEW_REPORTERS = NAMED_COLLEAGUES + 1;
export const VIEW_NOTES = 10;

export interface PersonRef {
  openId: string;
  at: Date;
}

/** One department's part, with everything its card and the summary show. */
export interface DispatchView {
  id: number;
  department: { id: number; name: string };
  /** The department's card group. */
  chatId: string;
  cardMessageId: string | null;
  state: DispatchState;
  deadlineAt: Date;
  reportedAt: Date | null;
  reportedBy: string | null;
  /** Minutes after the deadline of the first report-in; null = not reported or on time. */
  lateMinutes: number | null;
  /**
   * Who tapped 报到, in order (the first is the department's report-in): the first few as loaded
   * for a view (see `whistleViews`); `reporterCount` counts them all.
   */
  reporters: PersonRef[];
  reporterCount: number;
  onSiteAt: Date | null;
  onSiteBy: string | null;
  /** Set when the deadline passed without a report-in (the deadline sweep, a later issue). */
  overdueAt: Date | null;
  escalationCount: number;
  /** Progress notes in order: the latest few as loaded for a view; `progressCount` counts them all. */
  progress: { openId: string; note: string; at: Date }[];
  progressCount: number;
}

/** A whistle as cards and queries see it: the stored state, read in one go. */
export interface WhistleView {
  id: number;
  code: string;
  type: WhistleType;
  matter: string;
  place: string | null;
  street: { id: number; name: string; chatId: string };
  whistlerOpenId: string;
  status: WhistleStatus;
  limitMinutes: number;
  createdAt: Date;
  deadlineAt: Date;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  resolution: string | null;
  cancelledAt: Date | null;
  cancelledBy: string | null;
  cancelReason: string | null;
  summaryMessageId: string | null;
  dispatches: DispatchView[];
}

/**
 * What a department card shows of its whistle: all of it but the other departments' state — of
 * those only who was summoned, in order. A `WhistleView` is one.
 */
export interface CardWhistle extends Omit<WhistleView, "dispatches"> {
  dispatches: { id: number; department: { id: number; name: string } }[];
}

/** A department card's data: its whistle and its dispatch, with the first report-ins and latest notes. */
export interface DepartmentCardView {
  whistle: CardWhistle;
  dispatch: DispatchView;
}

export interface TimelineEntry {
  at: Date;
  kind:
    | "whistled"
    | "reported"
    | "joined"
    | "on_site"
    | "progress"
    | "nudged"
    | "resolved"
    | "cancelled"
    | string;
  actorOpenId: string | null;
  departmentName: string | null;
  data: Record<string, unknown>;
}

/** Human whistle code: W + yymmdd (display-zone day) + "-" + the day's sequence, two digits at least. */
export function whistleCode(day: string, seq: number): string {
  const [y = "", m = "", d = ""] = day.split("-");
  return `W${y.slice(2)}${m}${d}-${String(seq).padStart(2, "0")}`;
}

/** Accepts what people type for a code: "w261127-3", "Ｗ261127－03" → "W261127-03". */
export function normalizeCode(typed: string): string | undefined {
  const m = /^w(\d{6})[-－_]?(\d{1,4})$/i.exec(typed.normalize("NFKC").trim());
  if (!m) return undefined;
  return `W${m[1]}-${String(Number(m[2])).padStart(2, "0")}`;
}

const isFinal = (w: Pick<WhistleView, "status">) => w.status !== "open";

const FINAL_WORD: Record<WhistleStatus, string> = { open: "进行中", resolved: "已办结", cancelled: "已撤销" };

/** Why nothing more can happen on a whistle, for an old button's toast. */
export function closedReason(w: Pick<WhistleView, "status" | "code">): string {
  return `哨单 ${w.code} ${FINAL_WORD[w.status]}，不能再操作。`;
}

export type ReportInOutcome =
  | { kind: "first"; lateMinutes: number; minutesTaken: number }
  | { kind: "colleague" }
  | { kind: "repeat" }
  | { kind: "closed"; reason: string };

/**
 * A tap on 报到. The first tap marks the department reported (on time or late by whole minutes);
 * each further colleague is added once; a repeat by the same person changes nothing.
 */
export function reportIn(
  w: Pick<WhistleView, "status" | "code" | "createdAt">,
  d: Pick<DispatchView, "state" | "deadlineAt">,
  /** Whether this person has tapped 报到 on this dispatch before. */
  tappedBefore: boolean,
  now: Date,
): ReportInOutcome {
  if (isFinal(w)) return { kind: "closed", reason: closedReason(w) };
  if (tappedBefore) return { kind: "repeat" };
  if (d.state !== "pending") return { kind: "colleague" };
  return { kind: "first", ...reportInTiming(w.createdAt, d.deadlineAt, now) };
}

/** How long a report-in took, and how late it was in whole minutes started (0 = on time). */
export function reportInTiming(
  whistledAt: Date,
  deadlineAt: Date,
  at: Date,
): { lateMinutes: number; minutesTaken: number } {
  const late = Math.ceil((at.getTime() - deadlineAt.getTime()) / 60_000);
  return {
    lateMinutes: Math.max(0, late),
    minutesTaken: Math.max(0, Math.round((at.getTime() - whistledAt.getTime()) / 60_000)),
  };
}

export type OnSiteOutcome =
  | { kind: "on_site"; alsoReportsIn: boolean }
  | { kind: "already" }
  | { kind: "closed"; reason: string };

/** 到场: the department is physically present. Tapping it before 报到 counts as reporting in too. */
export function markOnSite(
  w: Pick<WhistleView, "status" | "code">,
  d: Pick<DispatchView, "state">,
): OnSiteOutcome {
  if (isFinal(w)) return { kind: "closed", reason: closedReason(w) };
  if (d.state === "on_site") return { kind: "already" };
  return { kind: "on_site", alsoReportsIn: d.state === "pending" };
}

export const MAX_NOTE = 200;

export type TextOutcome =
  | { kind: "ok"; text: string }
  | { kind: "closed"; reason: string }
  | { kind: "invalid"; reason: string };

function checkText(
  raw: unknown,
  what: string,
  max: number,
): { ok: true; text: string } | { ok: false; reason: string } {
  const text = typeof raw === "string" ? raw.trim() : "";
  if (!text) return { ok: false, reason: `请填写${what}。` };
  if ([...text].length > max) return { ok: false, reason: `${what}不能超过 ${max} 字。` };
  return { ok: true, text };
}

/** 进展: a short progress note, while the matter is open. */
export function addProgress(w: Pick<WhistleView, "status" | "code">, note: unknown): TextOutcome {
  if (isFinal(w)) return { kind: "closed", reason: closedReason(w) };
  const t = checkText(note, "进展说明", MAX_NOTE);
  return t.ok ? { kind: "ok", text: t.text } : { kind: "invalid", reason: t.reason };
}

/** 办结: only an open whistle, with a result text. */
export function resolve(w: Pick<WhistleView, "status" | "code">, result: unknown): TextOutcome {
  if (isFinal(w)) return { kind: "closed", reason: closedReason(w) };
  const t = checkText(result, "办结结果", 500);
  return t.ok ? { kind: "ok", text: t.text } : { kind: "invalid", reason: t.reason };
}

/** 撤销: only an open whistle, with a reason. */
export function cancel(w: Pick<WhistleView, "status" | "code">, reason: unknown): TextOutcome {
  if (isFinal(w)) return { kind: "closed", reason: closedReason(w) };
  const t = checkText(reason, "撤销原因", 500);
  return t.ok ? { kind: "ok", text: t.text } : { kind: "invalid", reason: t.reason };
}

/** 催办 targets: the departments not yet reported in. */
export function pendingDispatches<D extends Pick<DispatchView, "state">>(w: { dispatches: D[] }): D[] {
  return w.dispatches.filter((d) => d.state === "pending");
}

/** Overdue at `now`: marked overdue by the sweep, or pending past its deadline. */
export function isOverdue(d: Pick<DispatchView, "state" | "deadlineAt" | "overdueAt">, now: Date): boolean {
  return d.state === "pending" && (d.overdueAt !== null || now.getTime() > d.deadlineAt.getTime());
}
