import { clockOrDay, duration, minutesBetween } from "../../domain/time";
import type {
  CardWhistle,
  DispatchState,
  DispatchView,
  WhistleStatus,
  WhistleType,
  WhistleView,
} from "../../domain/whistle";
import type { HeaderColor, TagColor } from "./kit";

/**
 * Pieces shared by the whistle cards (department card, street summary, status list, timeline): labels,
 * colours per type, and the one-line state of a dispatch. Pure: every function takes `now` and `tz`.
 */

/** Header colour per whistle type while the whistle is open. */
export const TYPE_COLOR: Record<WhistleType, HeaderColor> = {
  enforcement: "orange",
  emergency: "red",
  key: "indigo",
};

export const TYPE_ICON: Record<WhistleType, string> = {
  enforcement: "🚔",
  emergency: "🚨",
  key: "🎯",
};

export const STATUS_LABEL: Record<WhistleStatus, string> = {
  open: "进行中",
  resolved: "已办结",
  cancelled: "已撤销",
};

export const STATE_LABEL: Record<DispatchState, string> = {
  pending: "待报到",
  reported: "已报到",
  on_site: "已到场",
};

/** Header colour of a whistle card: the type's colour while open, green once resolved, grey once cancelled. */
export function headerColor(w: CardWhistle): HeaderColor {
  if (w.status === "resolved") return "green";
  if (w.status === "cancelled") return "grey";
  return TYPE_COLOR[w.type];
}

export function statusTag(w: WhistleView): { text: string; color: TagColor } {
  if (w.status === "resolved") return { text: STATUS_LABEL.resolved, color: "green" };
  if (w.status === "cancelled") return { text: STATUS_LABEL.cancelled, color: "neutral" };
  return { text: STATUS_LABEL.open, color: "blue" };
}

/** A person in card markdown. */
export const at = (openId: string): string => `<at id=${openId}></at>`;

export const red = (s: string): string => `<font color='red'>${s}</font>`;

const ESCAPES: Record<string, string> = {
  "<": "&#60;",
  ">": "&#62;",
  "*": "&#42;",
  _: "&#95;",
  "~": "&#126;",
  "`": "&#96;",
  "[": "&#91;",
  "]": "&#93;",
};

/** People's text (matter, place, notes, reasons) shown literally in markdown: no tags, no @all, no styling. */
export function safe(s: string): string {
  return s.replace(/[<>*_~`[\]]/g, (c) => ESCAPES[c] ?? c);
}

/** At most `max` characters (by code point), with an ellipsis when cut. */
export function truncate(s: string, max: number): string {
  // A string never has more code points than UTF-16 units: short ones need no counting.
  if (s.length <= max) return s;
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join("")}…`;
}

/** "14:05" on the same local day as `now`, else "11月26日 14:05". */
export const when: (date: Date, now: Date, tz: string) => string = clockOrDay;

/** When the whistle ended (resolved or cancelled); null while open. */
export function endedAt(w: CardWhistle): Date | null {
  if (w.status === "resolved") return w.resolvedAt;
  if (w.status === "cancelled") return w.cancelledAt;
  return null;
}

/**
 * Minutes past the deadline of a dispatch still pending (0 when marked overdue a moment before the deadline
 * by the sweep's clock), or null when it is not overdue. After the whistle ended, lateness stops at the end.
 */
export function overdueMinutes(w: CardWhistle, d: DispatchView, now: Date): number | null {
  if (d.state !== "pending") return null;
  const ref = endedAt(w) ?? now;
  const past = ref.getTime() >= d.deadlineAt.getTime();
  if (!past && !d.overdueAt) return null;
  return Math.max(0, minutesBetween(d.deadlineAt, ref));
}

/** "超时8分钟" (or just "超时" under a minute). */
export const overdueText = (minutes: number): string => (minutes >= 1 ? `超时${duration(minutes)}` : "超时");

/** Minutes from the whistle to the department's report-in, or null. */
export function tookMinutes(w: CardWhistle, d: DispatchView): number | null {
  return d.reportedAt ? Math.max(0, minutesBetween(w.createdAt, d.reportedAt)) : null;
}

/** "迟到3分钟" for a late report-in, else "". */
export function lateText(d: DispatchView): string {
  return d.lateMinutes && d.lateMinutes > 0 ? `迟到${duration(d.lateMinutes)}` : "";
}

/** "还剩12分钟" / "还剩不到1分钟" before a deadline. */
export function leftText(deadline: Date, now: Date): string {
  const left = minutesBetween(now, deadline);
  return left >= 1 ? `还剩${duration(left)}` : "还剩不到1分钟";
}

export interface Counts {
  total: number;
  /** Reported in (reported or on site). */
  reported: number;
  onSite: number;
  pending: number;
  overdue: number;
}

export function counts(w: WhistleView, now: Date): Counts {
  const c: Counts = { total: w.dispatches.length, reported: 0, onSite: 0, pending: 0, overdue: 0 };
  for (const d of w.dispatches) {
    if (d.state === "pending") {
      c.pending += 1;
      if (overdueMinutes(w, d, now) !== null) c.overdue += 1;
    } else {
      c.reported += 1;
      if (d.state === "on_site") c.onSite += 1;
    }
  }
  return c;
}

/** "**已报到 2/3** · 到场 1 · 待报到 1 · 超时 1" (超时 in red; 未报到 instead of 待报到 once ended). */
export function countsLine(c: Counts, open = true): string {
  const parts = [`**已报到 ${c.reported}/${c.total}**`];
  if (c.onSite) parts.push(`到场 ${c.onSite}`);
  if (c.pending) parts.push(`${open ? "待报到" : "未报到"} ${c.pending}`);
  if (c.overdue) parts.push(red(`超时 ${c.overdue}`));
  return parts.join(" · ");
}

/**
 * One department's state on one line of markdown:
 * - `⏳ **公安** 待报到 · 14:35 截止，还剩12分钟`
 * - `🔴 **公安** 超时8分钟未报到 · 已上报督办1次` (red)
 * - `✅ **公安** 已报到 @张三 14:12 · 用时7分钟 · 迟到3分钟`
 * - `📍 **公安** 已到场 14:20 · 报到 @张三 14:12 · 用时7分钟`
 */
export function dispatchLine(w: WhistleView, d: DispatchView, now: Date, tz: string): string {
  const name = `**${safe(d.department.name)}**`;
  if (d.state === "pending") {
    const over = overdueMinutes(w, d, now);
    const closed = w.status !== "open";
    if (over !== null) {
      const text = closed ? "超时未报到" : `${overdueText(over)}未报到`;
      const esc = d.escalationCount > 0 ? ` · 已上报督办${d.escalationCount}次` : "";
      return `🔴 ${name} ${red(text)}${esc}`;
    }
    if (closed) return `⚪ ${name} 未报到`;
    return `⏳ ${name} 待报到 · ${when(d.deadlineAt, now, tz)} 截止，${leftText(d.deadlineAt, now)}`;
  }
  const parts: string[] = [];
  const by = d.reportedBy ? `${at(d.reportedBy)} ` : "";
  const reportedAt = d.reportedAt ? when(d.reportedAt, now, tz) : "";
  if (d.state === "on_site") {
    const onSite = d.onSiteAt ? ` ${when(d.onSiteAt, now, tz)}` : "";
    parts.push(`📍 ${name} 已到场${onSite}`, `报到 ${by}${reportedAt}`.trim());
  } else {
    parts.push(`✅ ${name} 已报到 ${by}${reportedAt}`.trim());
  }
  const took = tookMinutes(w, d);
  if (took !== null) parts.push(`用时${duration(took)}`);
  const late = lateText(d);
  if (late) parts.push(red(late));
  return parts.join(" · ");
}

/** Whether the card, at `now`, shows this dispatch as overdue (for tags and colours). */
export const isOverdue = (w: WhistleView, d: DispatchView, now: Date): boolean =>
  overdueMinutes(w, d, now) !== null;

/**
 * Keep as many lines as fit in `budget` UTF-8 bytes: the first and the last ones, with one line saying how
 * many in the middle were left out. Cards stay under Lark's 30 KB however long a history grows.
 */
export function fitLines(lines: string[], budget: number, omitted: (n: number) => string): string[] {
  const size = (s: string) => new TextEncoder().encode(s).length + 1;
  const total = lines.reduce((n, l) => n + size(l), 0);
  if (total <= budget) return lines;
  const room = budget - size(omitted(lines.length));
  const head: string[] = [];
  const tail: string[] = [];
  let used = 0;
  let i = 0;
  let j = lines.length - 1;
  // Alternate head and tail so both the start (who whistled) and the end (how it finished) stay.
  while (i <= j) {
    const fromHead = head.length <= tail.length;
    const line = (fromHead ? lines[i] : lines[j]) ?? "";
    if (used + size(line) > room) break;
    used += size(line);
    if (fromHead) {
      head.push(line);
      i += 1;
    } else {
      tail.unshift(line);
      j -= 1;
    }
  }
  const left = j - i + 1;
  return left > 0 ? [...head, omitted(left), ...tail] : [...head, ...tail];
}

/** The end of the matter, for a resolved or cancelled whistle. */
export function finalLines(w: CardWhistle, now: Date, tz: string): string {
  if (w.status === "resolved") {
    const by = w.resolvedBy ? `${at(w.resolvedBy)} ` : "";
    const time = w.resolvedAt ? when(w.resolvedAt, now, tz) : "";
    const lines = [`🏁 **已办结**：${by}${time}`];
    if (w.resolution) lines.push(`**结果**：${safe(w.resolution)}`);
    return lines.join("\n");
  }
  const by = w.cancelledBy ? `${at(w.cancelledBy)} ` : "";
  const time = w.cancelledAt ? when(w.cancelledAt, now, tz) : "";
  const lines = [`🚫 **已撤销**：${by}${time}`];
  if (w.cancelReason) lines.push(`**原因**：${safe(w.cancelReason)}`);
  return lines.join("\n");
}
