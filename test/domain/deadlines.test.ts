import { describe, expect, it } from "vitest";
import {
  DEFAULT_POLICY,
  type DispatchClock,
  dueActions,
  minutesLate,
  nextCheckAt,
} from "../../src/domain/deadlines";

const t0 = new Date("2026-11-27T06:00:00Z");
const at = (min: number) => new Date(t0.getTime() + min * 60_000);
const p = DEFAULT_POLICY; // remind 10 min before, escalate every 30 min, 3 repeats, progress every 4 h

const pending = (over: Partial<DispatchClock> = {}): DispatchClock => ({
  whistleOpen: true,
  whistledAt: t0,
  state: "pending",
  deadlineAt: at(30),
  remindedAt: null,
  overdueAt: null,
  escalationCount: 0,
  lastEscalatedAt: null,
  reportedAt: null,
  lastProgressAskAt: null,
  lastProgressAt: null,
  ...over,
});

describe("the report-in clock", () => {
  it("reminds 10 minutes before the deadline, once", () => {
    expect(dueActions(pending(), p, at(19))).toEqual([]);
    expect(nextCheckAt(pending(), p)).toEqual(at(20));
    expect(dueActions(pending(), p, at(20))).toEqual(["remind"]);
    const reminded = pending({ remindedAt: at(20) });
    expect(dueActions(reminded, p, at(25))).toEqual([]);
    expect(nextCheckAt(reminded, p)).toEqual(at(30));
  });

  it("skips the reminder when the limit leaves no room for one", () => {
    const short = pending({ deadlineAt: at(10) });
    expect(dueActions(short, p, at(0))).toEqual([]);
    expect(nextCheckAt(short, p)).toEqual(at(10));
    expect(dueActions(pending(), { ...p, remindBeforeMinutes: 0 }, at(25))).toEqual([]);
  });

  it("marks overdue at the deadline (even if the reminder was missed), then escalates every 30 min, 3 repeats", () => {
    expect(dueActions(pending(), p, at(30))).toEqual(["overdue"]);
    expect(dueActions(pending(), p, at(95))).toEqual(["overdue"]); // a sweep that was down still does it once
    let d = pending({ overdueAt: at(30), escalationCount: 1, lastEscalatedAt: at(30) });
    expect(dueActions(d, p, at(59))).toEqual([]);
    expect(nextCheckAt(d, p)).toEqual(at(60));
    for (const [n, when] of [
      [2, 60],
      [3, 90],
      [4, 120],
    ] as const) {
      expect(dueActions(d, p, at(when))).toEqual(["escalate"]);
      d = { ...d, escalationCount: n, lastEscalatedAt: at(when) };
    }
    expect(dueActions(d, p, at(500))).toEqual([]);
    expect(nextCheckAt(d, p)).toBeNull();
  });

  it("stops everything once the department reports in; asks for progress every 4 hours while open", () => {
    const reported = pending({ state: "reported", reportedAt: at(12), remindedAt: at(20), overdueAt: null });
    expect(dueActions(reported, p, at(100))).toEqual([]);
    expect(nextCheckAt(reported, p)).toEqual(at(12 + 240));
    expect(dueActions(reported, p, at(12 + 240))).toEqual(["progress_ask"]);
    const asked = { ...reported, lastProgressAskAt: at(252) };
    expect(dueActions(asked, p, at(300))).toEqual([]);
    expect(nextCheckAt(asked, p)).toEqual(at(252 + 240));
    // A fresh note from the department pushes the next ask back.
    const noted = { ...asked, lastProgressAt: at(400) };
    expect(nextCheckAt(noted, p)).toEqual(at(640));
    expect(dueActions({ ...reported, state: "on_site" }, p, at(252))).toEqual(["progress_ask"]);
    expect(nextCheckAt(reported, { ...p, progressEveryHours: 0 })).toBeNull();
  });

  it("a late report-in stops the escalations", () => {
    const late = pending({ state: "reported", reportedAt: at(47), overdueAt: at(30), escalationCount: 1 });
    expect(dueActions(late, p, at(61))).toEqual([]);
  });

  it("nothing is due on a resolved or cancelled whistle", () => {
    expect(dueActions(pending({ whistleOpen: false }), p, at(100))).toEqual([]);
    expect(nextCheckAt(pending({ whistleOpen: false }), p)).toBeNull();
  });

  it("counts whole minutes late", () => {
    expect(minutesLate(pending(), at(29))).toBe(0);
    expect(minutesLate(pending(), at(47.5))).toBe(17);
  });
});
