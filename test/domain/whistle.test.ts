import { describe, expect, it } from "vitest";
import {
  addProgress,
  cancel,
  isOverdue,
  markOnSite,
  normalizeCode,
  pendingDispatches,
  reportIn,
  resolve,
  type WhistleStatus,
  whistleCode,
} from "../../src/domain/whistle";

const t0 = new Date("2026-11-27T06:00:00Z"); // 14:00 in Shanghai
const min = (n: number) => new Date(t0.getTime() + n * 60_000);
const w = (status: WhistleStatus = "open") => ({ status, code: "W261127-01", createdAt: t0 });
const d = (state: "pending" | "reported" | "on_site" = "pending") => ({
  state,
  deadlineAt: min(30),
  overdueAt: null,
});

describe("whistle codes", () => {
  it("formats the day and sequence", () => {
    expect(whistleCode("2026-11-27", 3)).toBe("W261127-03");
    expect(whistleCode("2026-01-05", 123)).toBe("W260105-123");
  });
  it.each([
    ["W261127-03", "W261127-03"],
    ["w261127-3", "W261127-03"],
    ["Ｗ２６１１２７－０３", "W261127-03"],
    ["W26112703", "W261127-03"],
    ["261127-03", undefined],
    ["W1127-03", undefined],
  ])("normalizes %s", (typed, code) => {
    expect(normalizeCode(typed)).toBe(code);
  });
});

describe("report-in", () => {
  it("the first tap reports the department in, on time", () => {
    expect(reportIn(w(), d(), false, min(12))).toEqual({ kind: "first", lateMinutes: 0, minutesTaken: 12 });
  });
  it("a tap exactly at the deadline is on time; a second later is 1 minute late", () => {
    expect(reportIn(w(), d(), false, min(30))).toMatchObject({ lateMinutes: 0 });
    expect(reportIn(w(), d(), false, new Date(min(30).getTime() + 1000))).toMatchObject({ lateMinutes: 1 });
    expect(reportIn(w(), d(), false, min(47))).toMatchObject({
      kind: "first",
      lateMinutes: 17,
      minutesTaken: 47,
    });
  });
  it("colleagues join once; repeats change nothing", () => {
    expect(reportIn(w(), d("reported"), false, min(5))).toEqual({ kind: "colleague" });
    expect(reportIn(w(), d("reported"), true, min(5))).toEqual({ kind: "repeat" });
    expect(reportIn(w(), d("on_site"), false, min(5))).toEqual({ kind: "colleague" });
  });
  it.each(["resolved", "cancelled"] as const)("a %s whistle takes no report-in", (status) => {
    expect(reportIn(w(status), d(), false, min(5))).toMatchObject({ kind: "closed" });
  });
});

describe("on site, progress, resolve, cancel", () => {
  it("on site from pending also reports in; twice is already", () => {
    expect(markOnSite(w(), d())).toEqual({ kind: "on_site", alsoReportsIn: true });
    expect(markOnSite(w(), d("reported"))).toEqual({ kind: "on_site", alsoReportsIn: false });
    expect(markOnSite(w(), d("on_site"))).toEqual({ kind: "already" });
    expect(markOnSite(w("resolved"), d())).toMatchObject({ kind: "closed" });
  });

  it.each([
    ["progress", addProgress, "进展说明"],
    ["resolve", resolve, "办结结果"],
    ["cancel", cancel, "撤销原因"],
  ] as const)("%s needs text, trims it, and refuses a closed whistle", (_n, fn, what) => {
    expect(fn(w(), "  已清理完毕  ")).toEqual({ kind: "ok", text: "已清理完毕" });
    expect(fn(w(), "   ")).toEqual({ kind: "invalid", reason: `请填写${what}。` });
    expect(fn(w(), undefined)).toMatchObject({ kind: "invalid" });
    expect(fn(w("resolved"), "x")).toMatchObject({
      kind: "closed",
      reason: "哨单 W261127-01 已办结，不能再操作。",
    });
    expect(fn(w("cancelled"), "x")).toMatchObject({
      kind: "closed",
      reason: "哨单 W261127-01 已撤销，不能再操作。",
    });
  });

  it("limits a progress note to 200 characters", () => {
    expect(addProgress(w(), "字".repeat(200))).toMatchObject({ kind: "ok" });
    expect(addProgress(w(), "字".repeat(201))).toMatchObject({ kind: "invalid" });
  });
});

describe("nudge and overdue", () => {
  it("nudges only the departments not yet in", () => {
    const list = [d("pending"), d("reported"), d("on_site"), d("pending")];
    expect(pendingDispatches({ dispatches: list })).toHaveLength(2);
  });
  it("is overdue only while pending past the deadline", () => {
    expect(isOverdue(d(), min(30))).toBe(false);
    expect(isOverdue(d(), min(31))).toBe(true);
    expect(isOverdue(d("reported"), min(31))).toBe(false);
  });
});
