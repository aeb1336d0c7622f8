import { describe, expect, it } from "vitest";
import { type PeriodSpec, parsePeriod, periodRange } from "../../src/domain/periods";

const SH = "Asia/Shanghai"; // UTC+8 all year: midnight in Shanghai is 16:00Z the day before
const utc = (s: string) => new Date(s);
/** The range as ISO strings, so a failure shows the instants. */
const range = (spec: PeriodSpec, now: string, tz = SH) => {
  const r = periodRange(spec, utc(now), tz);
  return { from: r.from.toISOString(), to: r.to.toISOString(), label: r.label };
};

describe("parsePeriod", () => {
  it("reads the Chinese words", () => {
    expect(parsePeriod("今日")).toBe("today");
    expect(parsePeriod("今天")).toBe("today");
    expect(parsePeriod("昨日")).toBe("yesterday");
    expect(parsePeriod("昨天")).toBe("yesterday");
    expect(parsePeriod("本周")).toBe("this_week");
    expect(parsePeriod("本月")).toBe("this_month");
    expect(parsePeriod("上月")).toBe("last_month");
    expect(parsePeriod(" 上个月 ")).toBe("last_month");
  });

  it("reads the English words, in any case and with _ or a space for -", () => {
    expect(parsePeriod("today")).toBe("today");
    expect(parsePeriod("Yesterday")).toBe("yesterday");
    expect(parsePeriod("week")).toBe("this_week");
    expect(parsePeriod("MONTH")).toBe("this_month");
    expect(parsePeriod("last-month")).toBe("last_month");
    expect(parsePeriod("last_month")).toBe("last_month");
    expect(parsePeriod("last month")).toBe("last_month");
  });

  it("reads YYYY-MM (also full-width) and YYYY年M月", () => {
    expect(parsePeriod("2026-11")).toEqual({ month: "2026-11" });
    expect(parsePeriod("2027-01")).toEqual({ month: "2027-01" });
    expect(parsePeriod("２０２６－０２")).toEqual({ month: "2026-02" });
    expect(parsePeriod("2026年1月")).toEqual({ month: "2026-01" });
    expect(parsePeriod("2026年12月")).toEqual({ month: "2026-12" });
  });

  it("rejects anything else", () => {
    for (const bad of [
      "",
      "  ",
      "2026-13",
      "2026-00",
      "2026-1",
      "26-11",
      "2026-11-27",
      "2026年13月",
      "下月",
      "tomorrow",
      "本周五",
      "weeks",
    ]) {
      expect(parsePeriod(bad), bad).toBeUndefined();
    }
  });
});

describe("periodRange: days at midnight Asia/Shanghai", () => {
  it("15:59:59Z on Nov 30 is still Nov 30 in Shanghai; 16:00:00Z is Dec 1", () => {
    expect(range("today", "2026-11-30T15:59:59Z")).toEqual({
      from: "2026-11-29T16:00:00.000Z",
      to: "2026-11-30T16:00:00.000Z",
      label: "11月30日",
    });
    expect(range("today", "2026-11-30T16:00:00Z")).toEqual({
      from: "2026-11-30T16:00:00.000Z",
      to: "2026-12-01T16:00:00.000Z",
      label: "12月1日",
    });
  });

  it("the range is half-open: `to` is the next day's `from`", () => {
    const today = periodRange("today", utc("2026-11-27T06:00:00Z"), SH);
    const yesterday = periodRange("yesterday", utc("2026-11-27T06:00:00Z"), SH);
    expect(yesterday.to).toEqual(today.from);
    expect(today.to.getTime() - today.from.getTime()).toBe(24 * 3_600_000);
    expect(yesterday.label).toBe("11月26日");
  });

  it("yesterday across the year end", () => {
    // 2027-01-01T00:30Z = Jan 1 08:30 in Shanghai → yesterday is Dec 31, 2026
    expect(range("yesterday", "2027-01-01T00:30:00Z")).toEqual({
      from: "2026-12-30T16:00:00.000Z",
      to: "2026-12-31T16:00:00.000Z",
      label: "12月31日",
    });
  });
});

describe("periodRange: weeks start Monday", () => {
  it("the week of Fri 2026-11-27 is Mon 23 – Sun 29", () => {
    expect(range("this_week", "2026-11-27T06:00:00Z")).toEqual({
      from: "2026-11-22T16:00:00.000Z",
      to: "2026-11-29T16:00:00.000Z",
      label: "本周（11月23日—11月29日）",
    });
  });

  it("Sunday 23:59:59 in Shanghai is still that week; Monday 00:00 starts the next, across the month end", () => {
    // 2026-11-29T15:59:59Z = Sun Nov 29 23:59:59 in Shanghai
    expect(range("this_week", "2026-11-29T15:59:59Z").label).toBe("本周（11月23日—11月29日）");
    // 2026-11-29T16:00:00Z = Mon Nov 30 00:00 in Shanghai, while it is still Sunday in UTC
    expect(range("this_week", "2026-11-29T16:00:00Z")).toEqual({
      from: "2026-11-29T16:00:00.000Z",
      to: "2026-12-06T16:00:00.000Z",
      label: "本周（11月30日—12月6日）",
    });
  });

  it("a week across the year end", () => {
    // Thu 2026-12-31 → Mon Dec 28 – Sun Jan 3
    expect(range("this_week", "2026-12-31T10:00:00Z")).toEqual({
      from: "2026-12-27T16:00:00.000Z",
      to: "2027-01-03T16:00:00.000Z",
      label: "本周（12月28日—1月3日）",
    });
    // Sun 2027-01-03 gives the same week
    expect(range("this_week", "2027-01-03T12:00:00Z").from).toBe("2026-12-27T16:00:00.000Z");
  });
});

describe("periodRange: months", () => {
  it("this month, and the month flips at midnight Shanghai", () => {
    expect(range("this_month", "2026-11-30T15:59:59Z")).toEqual({
      from: "2026-10-31T16:00:00.000Z",
      to: "2026-11-30T16:00:00.000Z",
      label: "2026年11月",
    });
    expect(range("this_month", "2026-11-30T16:00:00Z")).toEqual({
      from: "2026-11-30T16:00:00.000Z",
      to: "2026-12-31T16:00:00.000Z",
      label: "2026年12月",
    });
  });

  it("months of 28, 29, 30 and 31 days", () => {
    const days = (spec: PeriodSpec, now: string) => {
      const r = periodRange(spec, utc(now), SH);
      return (r.to.getTime() - r.from.getTime()) / 86_400_000;
    };
    expect(days({ month: "2026-02" }, "2026-11-27T00:00:00Z")).toBe(28);
    expect(days("this_month", "2028-02-15T00:00:00Z")).toBe(29);
    expect(days({ month: "2026-04" }, "2026-11-27T00:00:00Z")).toBe(30);
    expect(days("last_month", "2026-11-27T00:00:00Z")).toBe(31); // October
    expect(range("this_month", "2028-02-15T00:00:00Z")).toEqual({
      from: "2028-01-31T16:00:00.000Z",
      to: "2028-02-29T16:00:00.000Z",
      label: "2028年2月",
    });
  });

  it("last month in January is December of the year before", () => {
    expect(range("last_month", "2027-01-15T04:00:00Z")).toEqual({
      from: "2026-11-30T16:00:00.000Z",
      to: "2026-12-31T16:00:00.000Z",
      label: "2026年12月",
    });
    // 2026-12-31T16:00Z is already Jan 1 2027 in Shanghai (still Dec 31 in UTC)
    expect(range("last_month", "2026-12-31T16:00:00Z").label).toBe("2026年12月");
    expect(range("last_month", "2026-12-31T15:59:59Z").label).toBe("2026年11月");
  });

  it("a named month, whatever now is", () => {
    expect(range({ month: "2026-12" }, "2030-06-01T00:00:00Z")).toEqual({
      from: "2026-11-30T16:00:00.000Z",
      to: "2026-12-31T16:00:00.000Z",
      label: "2026年12月",
    });
    const parsed = parsePeriod("2026-02");
    expect(parsed && range(parsed, "2026-11-27T00:00:00Z").label).toBe("2026年2月");
  });

  it("a malformed named month throws", () => {
    expect(() => periodRange({ month: "2026-13" }, new Date(), SH)).toThrow(RangeError);
    expect(() => periodRange({ month: "Nov" }, new Date(), SH)).toThrow(RangeError);
  });
});

describe("periodRange does not depend on the process zone", () => {
  // The process TZ cannot be changed mid-run, so every expectation above is an explicit UTC
  // instant; here the same instant is read in other zones, which only the tz argument changes.
  it("the same instant is a different day in UTC and in Shanghai", () => {
    const now = "2026-11-30T16:30:00Z";
    expect(range("today", now, "UTC")).toEqual({
      from: "2026-11-30T00:00:00.000Z",
      to: "2026-12-01T00:00:00.000Z",
      label: "11月30日",
    });
    expect(range("today", now, SH).label).toBe("12月1日");
  });

  it("each boundary takes the offset in force at it (New York, DST ends 2026-11-01)", () => {
    expect(range({ month: "2026-11" }, "2026-11-15T00:00:00Z", "America/New_York")).toEqual({
      from: "2026-11-01T04:00:00.000Z", // 00:00 EDT (UTC−4)
      to: "2026-12-01T05:00:00.000Z", // 00:00 EST (UTC−5)
      label: "2026年11月",
    });
    const day = periodRange("today", utc("2026-11-01T12:00:00Z"), "America/New_York");
    expect(day.to.getTime() - day.from.getTime()).toBe(25 * 3_600_000);
  });

  it("a day with no midnight starts when the clocks jump (Beirut, 2024-03-31 00:00 → 01:00)", () => {
    expect(range("today", "2024-03-31T09:00:00Z", "Asia/Beirut")).toEqual({
      from: "2024-03-30T22:00:00.000Z", // 01:00 EEST, the first instant of the day
      to: "2024-03-31T21:00:00.000Z", // Apr 1 00:00 EEST
      label: "3月31日",
    });
  });

  it("the same west of Greenwich (Santiago, 2024-09-08 00:00 → 01:00)", () => {
    expect(range("today", "2024-09-08T15:00:00Z", "America/Santiago")).toEqual({
      from: "2024-09-08T04:00:00.000Z", // 01:00 −03, the first instant of the day
      to: "2024-09-09T03:00:00.000Z", // Sep 9 00:00 −03
      label: "9月8日",
    });
    expect(range("yesterday", "2024-09-09T15:00:00Z", "America/Santiago").from).toBe(
      "2024-09-08T04:00:00.000Z",
    );
  });

  it("an unknown zone throws", () => {
    expect(() => periodRange("today", new Date(), "Mars/Olympus")).toThrow(RangeError);
  });
});
