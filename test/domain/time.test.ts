import { describe, expect, it } from "vitest";
import { clock, clockOrDay, dayClock, localDay, wallClock } from "../../src/domain/time";

/** The slow, obviously right answer: Intl's own parts for that instant. */
function reference(date: Date, tz: string) {
  const f = new Intl.DateTimeFormat("en-US", {
    timeZone: tz,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  });
  const p: Record<string, number> = {};
  for (const x of f.formatToParts(date)) if (x.type !== "literal") p[x.type] = Number(x.value);
  return { year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute, second: p.second };
}

describe("wallClock", () => {
  it("shows Asia/Shanghai whatever the server's zone, across midnight", () => {
    expect(wallClock(new Date("2026-11-26T15:59:59Z"), "Asia/Shanghai")).toEqual({
      year: 2026,
      month: 11,
      day: 26,
      hour: 23,
      minute: 59,
      second: 59,
    });
    expect(localDay(new Date("2026-11-26T16:00:00Z"), "Asia/Shanghai")).toBe("2026-11-27");
    expect(clock(new Date("2026-11-27T06:05:00Z"), "Asia/Shanghai")).toBe("14:05");
    expect(dayClock(new Date("2026-11-27T06:05:00Z"), "Asia/Shanghai")).toBe("11月27日 14:05");
  });

  it("follows daylight-saving transitions to the second", () => {
    // New York springs forward at 07:00 UTC on 2026-03-08 (01:59:59 EST → 03:00:00 EDT).
    expect(wallClock(new Date("2026-03-08T06:59:59Z"), "America/New_York")).toMatchObject({
      hour: 1,
      minute: 59,
      second: 59,
    });
    expect(wallClock(new Date("2026-03-08T07:00:00Z"), "America/New_York")).toMatchObject({
      hour: 3,
      minute: 0,
      second: 0,
    });
  });

  it("agrees with Intl at many instants in zones with odd offsets and transitions", () => {
    const zones = [
      "Asia/Shanghai",
      "America/New_York",
      "Europe/London",
      "Asia/Kathmandu",
      "Australia/Lord_Howe",
    ];
    let seed = 42;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 2000; i++) {
      const at = new Date(Date.UTC(1990, 0, 1) + Math.floor(next() * 45 * 365 * 86_400_000));
      for (const tz of zones)
        expect(wallClock(at, tz), `${at.toISOString()} ${tz}`).toEqual(reference(at, tz));
    }
  });
});

describe("clockOrDay", () => {
  it("is the clock on the same local day as now, else the day and the clock", () => {
    const now = new Date("2026-11-27T06:00:00Z"); // 14:00 in Shanghai
    expect(clockOrDay(new Date("2026-11-27T06:05:00Z"), now, "Asia/Shanghai")).toBe("14:05");
    expect(clockOrDay(new Date("2026-11-26T15:59:00Z"), now, "Asia/Shanghai")).toBe("11月26日 23:59");
    expect(clockOrDay(new Date("2026-11-26T16:00:00Z"), now, "Asia/Shanghai")).toBe("00:00");
  });

  it("agrees with comparing localDay and formatting with clock or dayClock, across zones and DST", () => {
    let seed = 7;
    const next = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed;
    };
    for (const tz of ["Asia/Shanghai", "America/New_York", "Europe/London", "UTC", "Australia/Lord_Howe"]) {
      for (let i = 0; i < 3000; i++) {
        // Within ±3 days of a moment between 2020 and 2030, to the minute and odd seconds.
        const nowMs = Date.UTC(2020, 0, 1) + (next() % 3653) * 86_400_000 + (next() % 86_400) * 1000;
        const date = new Date(nowMs + ((next() % 518_400) - 259_200) * 1000);
        const now = new Date(nowMs);
        const expected = localDay(date, tz) === localDay(now, tz) ? clock(date, tz) : dayClock(date, tz);
        expect(clockOrDay(date, now, tz), `${date.toISOString()} / ${now.toISOString()} in ${tz}`).toBe(
          expected,
        );
      }
    }
  });
});
