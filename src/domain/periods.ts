/**
 * Reporting periods (今日 / 昨日 / 本周 / 本月 / 上月 / a named month) as half-open ranges of UTC
 * instants [from, to) whose boundaries are midnight in the display zone (Asia/Shanghai by default).
 * Pure: Intl with an explicit `timeZone` only, never the process zone or Date's local getters, so
 * the result is the same whatever `TZ` the server runs with.
 */
import { wallClock } from "./time";

export type PeriodSpec =
  | "today"
  | "yesterday"
  | "this_week"
  | "this_month"
  | "last_month"
  | { month: string };

export interface PeriodRange {
  /** First instant of the period (midnight in the zone), inclusive. */
  from: Date;
  /** First instant after the period (midnight in the zone), exclusive. */
  to: Date;
  /** "11月27日" (a day), "本周（11月23日—11月29日）" (Monday–Sunday), "2026年11月" (a month). */
  label: string;
}

const WORDS: Record<string, Exclude<PeriodSpec, { month: string }>> = {
  今日: "today",
  今天: "today",
  昨日: "yesterday",
  昨天: "yesterday",
  本周: "this_week",
  本月: "this_month",
  上月: "last_month",
  上个月: "last_month",
  today: "today",
  yesterday: "yesterday",
  week: "this_week",
  "this-week": "this_week",
  month: "this_month",
  "this-month": "this_month",
  "last-month": "last_month",
};

/**
 * What people type for a period: 今日|今天, 昨日|昨天, 本周, 本月, 上月 (also 上个月), "YYYY-MM"
 * (also "YYYY年M月"), or English today | yesterday | week | month | last-month (case-insensitive;
 * "last_month" / "last month" / "this-week" work too). Full-width characters are accepted.
 * Anything else, including a month outside 01–12, is undefined.
 */
export function parsePeriod(text: string): PeriodSpec | undefined {
  const t = text
    .normalize("NFKC")
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, "-");
  const word = WORDS[t];
  if (word) return word;
  const m = /^(\d{4})-(\d{2})$/.exec(t) ?? /^(\d{4})年(\d{1,2})月$/.exec(t);
  if (!m) return undefined;
  const month = Number(m[2]);
  if (month < 1 || month > 12) return undefined;
  return { month: `${m[1]}-${String(month).padStart(2, "0")}` };
}

/** A calendar date with no zone; arithmetic goes through Date.UTC, which normalises overflow. */
interface PlainDate {
  y: number;
  m: number;
  d: number;
}

const plain = (y: number, m: number, d: number): PlainDate => {
  const u = new Date(Date.UTC(y, m - 1, d));
  return { y: u.getUTCFullYear(), m: u.getUTCMonth() + 1, d: u.getUTCDate() };
};
const addDays = (p: PlainDate, n: number) => plain(p.y, p.m, p.d + n);
const key = (p: PlainDate) =>
  `${String(p.y).padStart(4, "0")}-${String(p.m).padStart(2, "0")}-${String(p.d).padStart(2, "0")}`;
/** 0 = Monday … 6 = Sunday. */
const weekday = (p: PlainDate) => (new Date(Date.UTC(p.y, p.m - 1, p.d)).getUTCDay() + 6) % 7;

/** The wall clock in `tz` at an instant (to the second). */
function wall(ms: number, tz: string) {
  const w = wallClock(new Date(ms), tz);
  return { y: w.year, m: w.month, d: w.day, h: w.hour, mi: w.minute, s: w.second };
}

/** The calendar day in `tz` at an instant. */
function dayAt(ms: number, tz: string): PlainDate {
  const w = wall(ms, tz);
  return { y: w.y, m: w.m, d: w.d };
}

/** Wall time minus UTC at an instant, in ms (+8 h for Asia/Shanghai). */
function offsetAt(ms: number, tz: string): number {
  const w = wall(ms, tz);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
}

const HOUR = 3_600_000;

/** The first instant of a calendar day in `tz` (its midnight, or the end of a DST gap at midnight). */
function startOf(day: PlainDate, tz: string): number {
  const target = key(day);
  const midnight = Date.UTC(day.y, day.m - 1, day.d);
  let t = midnight - offsetAt(midnight, tz);
  t = midnight - offsetAt(t, tz);
  const reached = (ms: number) => key(dayAt(ms, tz)) >= target;
  if (reached(t) && !reached(t - 1)) return t;
  // Only in zones whose clocks jump at midnight: find the first instant of the day by bisection.
  let lo = t - 3 * HOUR;
  let hi = t + 3 * HOUR;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (reached(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

const md = (p: PlainDate) => `${p.m}月${p.d}日`;

/**
 * The range of a period at `now` in zone `tz`: [from, to) with both ends at midnight in `tz`.
 * Weeks run Monday–Sunday; months have whatever length they have; last_month in January is
 * December of the year before. Throws RangeError for an unknown zone or a malformed `{ month }`.
 */
export function periodRange(spec: PeriodSpec, now: Date, tz: string): PeriodRange {
  const today = dayAt(now.getTime(), tz);
  const days = (first: PlainDate, n: number, label: string): PeriodRange => ({
    from: new Date(startOf(first, tz)),
    to: new Date(startOf(addDays(first, n), tz)),
    label,
  });
  const month = (y: number, m: number): PeriodRange => {
    const first = plain(y, m, 1);
    return {
      from: new Date(startOf(first, tz)),
      to: new Date(startOf(plain(y, m + 1, 1), tz)),
      label: `${first.y}年${first.m}月`,
    };
  };
  if (typeof spec === "object") {
    const m = /^(\d{4})-(\d{2})$/.exec(spec.month);
    const mm = Number(m?.[2]);
    if (!m || mm < 1 || mm > 12) throw new RangeError(`not a month (YYYY-MM): ${spec.month}`);
    return month(Number(m[1]), mm);
  }
  switch (spec) {
    case "today":
      return days(today, 1, md(today));
    case "yesterday": {
      const y = addDays(today, -1);
      return days(y, 1, md(y));
    }
    case "this_week": {
      const monday = addDays(today, -weekday(today));
      return days(monday, 7, `本周（${md(monday)}—${md(addDays(monday, 6))}）`);
    }
    case "this_month":
      return month(today.y, today.m);
    case "last_month":
      return month(today.y, today.m - 1);
  }
}
