/**
 * Times as people read them: always in the display zone (Asia/Shanghai by default), whatever the
 * server's zone. All stored and computed times are UTC Dates; only these functions turn them into
 * text. Pure (Intl only).
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall clock in `tz` at an instant, to the second, as numbers. */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/**
 * Zone offsets (ms) by zone and quarter hour: `formatToParts` costs microseconds and cards show
 * many times, but an offset only changes at a transition, and transitions fall on quarter hours.
 */
const offsets = new Map<string, number>();
const QUARTER_HOUR = 15 * 60_000;

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The last answer, for the common case of many times in one quarter hour (one card's render). */
let last = { tz: "", bucket: Number.NaN, offset: 0 };

function zoneOffset(ms: number, tz: string): number {
  const bucket = Math.floor(ms / QUARTER_HOUR);
  if (bucket === last.bucket && tz === last.tz) return last.offset;
  const key = `${tz}|${bucket}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    const at = bucket * QUARTER_HOUR;
    const p: Record<string, number> = {};
    for (const x of formatter(tz).formatToParts(new Date(at))) {
      if (x.type !== "literal") p[x.type] = Number(x.value);
    }
    const wall = Date.UTC(
      p.year ?? 1970,
      (p.month ?? 1) - 1,
      p.day ?? 1,
      (p.hour ?? 0) % 24,
      p.minute ?? 0,
      p.second ?? 0,
    );
    offset = wall - at;
    if (offsets.size > 10_000) offsets.clear();
    offsets.set(key, offset);
  }
  last = { tz, bucket, offset };
  return offset;
}

export function wallClock(date: Date, tz: string): WallClock {
  const w = new Date(date.getTime() + zoneOffset(date.getTime(), tz));
  return {
    year: w.getUTCFullYear(),
    month: w.getUTCMonth() + 1,
    day: w.getUTCDate(),
    hour: w.getUTCHours(),
    minute: w.getUTCMinutes(),
    second: w.getUTCSeconds(),
  };
}

const two = (n: number) => String(n).padStart(2, "0");

function parts(date: Date, tz: string) {
  const w = wallClock(date, tz);
  return {
    year: String(w.year),
    month: two(w.month),
    day: two(w.day),
    hour: two(w.hour),
    minute: two(w.minute),
  };
}

/** "14:05" */
export function clock(date: Date, tz: string): string {
  const p = parts(date, tz);
  return `${p.hour}:${p.minute}`;
}

/** "11月27日 14:05" */
export function dayClock(date: Date, tz: string): string {
  const p = parts(date, tz);
  return `${Number(p.month)}月${Number(p.day)}日 ${p.hour}:${p.minute}`;
}

/** "2026-11-27": the calendar day in the display zone. */
export function localDay(date: Date, tz: string): string {
  const p = parts(date, tz);
  return `${p.year}-${p.month}-${p.day}`;
}

/** The local calendar day of an instant in `tz`, as a day number (days since 1970-01-01, local). */
function dayNumber(ms: number, tz: string): number {
  return Math.floor((ms + zoneOffset(ms, tz)) / 86_400_000);
}

/** "14:05" when `date` falls on the same local day as `now`, else "11月26日 14:05". */
export function clockOrDay(date: Date, now: Date, tz: string): string {
  // Days compared as numbers (no strings); the text is clock's or dayClock's.
  return dayNumber(date.getTime(), tz) === dayNumber(now.getTime(), tz)
    ? clock(date, tz)
    : dayClock(date, tz);
}

/** Whole minutes from `from` to `to`, rounded down (negative when `to` is earlier). */
export function minutesBetween(from: Date, to: Date): number {
  return Math.floor((to.getTime() - from.getTime()) / 60_000);
}

/** "3分钟", "1小时5分钟", "2天3小时" */
export function duration(minutes: number): string {
  const m = Math.max(0, Math.round(minutes));
  if (m < 60) return `${m}分钟`;
  if (m < 24 * 60) return `${Math.floor(m / 60)}小时${m % 60 ? `${m % 60}分钟` : ""}`;
  const d = Math.floor(m / (24 * 60));
  const h = Math.floor((m % (24 * 60)) / 60);
  return `${d}天${h ? `${h}小时` : ""}`;
}
