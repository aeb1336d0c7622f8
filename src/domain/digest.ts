import { wallClock } from "./time";

/**
 * When the daily digest is due: from `at` ("HH:MM", display zone) on each day, once per day. The
 * run key is the display-zone date, so a server that was down at 08:30 still sends it when it
 * comes back that day, and several servers send it once between them (unique key).
 */
export function digestRunKey(now: Date, tz: string, at: string): string | undefined {
  const w = wallClock(now, tz);
  const [h = 0, m = 0] = at.split(":").map(Number);
  if (w.hour * 60 + w.minute < h * 60 + m) return undefined;
  return `${w.year}-${String(w.month).padStart(2, "0")}-${String(w.day).padStart(2, "0")}`;
}

/** Open matters older than this are listed in the digest (事不完、人不撤, but the district should know). */
export const STALE_OPEN_MS = 3 * 24 * 60 * 60_000;
