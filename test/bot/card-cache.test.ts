import { describe, expect, it } from "vitest";
import { CardCache } from "../../src/bot/whistle/card-cache";
import { addToLists } from "../../src/bot/whistle/card-view";
import { VIEW_NOTES, VIEW_REPORTERS } from "../../src/domain/whistle";

const at = (s: number) => new Date(Date.UTC(2026, 10, 27, 1, 0, s));
const person = (n: number, s: number) => ({ openId: `ou_${n}`, at: at(s) });
const note = (n: number, s: number) => ({ openId: `ou_${n}`, note: `进展${n}`, at: at(s) });
const empty = { reporterCount: 0, progressCount: 0, reporters: [], progress: [] };

describe("addToLists: what the database lists once the batch's rows are committed", () => {
  it("adds in insertion order after known rows of the same time, counts everything", () => {
    const known = { ...empty, reporterCount: 2, reporters: [person(1, 10), person(2, 20)] };
    const r = addToLists(known, [person(3, 20), person(4, 20)], []);
    expect(r.reporters.map((p) => p.openId)).toEqual(["ou_1", "ou_2", "ou_3", "ou_4"]);
    expect(r.reporterCount).toBe(4);
    expect(known.reporters).toHaveLength(2); // the known lists are not changed
  });

  it("puts a row from a clock behind before later known ones, and keeps the first VIEW_REPORTERS", () => {
    const first = Array.from({ length: VIEW_REPORTERS }, (_, i) => person(i, 100 + i));
    const known = { ...empty, reporterCount: 30, reporters: first };
    const r = addToLists(known, [person(99, 50), person(98, 500)], []);
    expect(r.reporters).toHaveLength(VIEW_REPORTERS);
    expect(r.reporters[0]?.openId).toBe("ou_99");
    expect(r.reporters.map((p) => p.openId)).not.toContain("ou_98");
    expect(r.reporters.at(-1)?.openId).toBe(`ou_${VIEW_REPORTERS - 2}`);
    expect(r.reporterCount).toBe(32);
  });

  it("keeps the latest VIEW_NOTES notes, oldest first", () => {
    const latest = Array.from({ length: VIEW_NOTES }, (_, i) => note(i, 100 + i));
    const known = { ...empty, progressCount: 15, progress: latest };
    const r = addToLists(known, [], [note(50, 200), note(51, 5)]);
    expect(r.progress).toHaveLength(VIEW_NOTES);
    expect(r.progress.at(-1)?.openId).toBe("ou_50");
    expect(r.progress[0]?.openId).toBe("ou_1");
    expect(r.progress.map((p) => p.openId)).not.toContain("ou_51");
    expect(r.progressCount).toBe(17);
  });
});

describe("CardCache", () => {
  it("gives lists only for the row they were stored for, and forgets the least recently used", () => {
    const c = new CardCache({ whistles: 2, dispatches: 2 });
    const row = { whistleId: 7, createdAt: at(0) };
    c.storeLists(1, { ...empty, whistleId: 7, createdAt: at(0).getTime() });
    expect(c.listsOf(1, row)).toBeDefined();
    // The same id, another row (a database emptied and filled again under the process).
    expect(c.listsOf(1, { whistleId: 7, createdAt: at(1) })).toBeUndefined();
    expect(c.listsOf(1, { whistleId: 8, createdAt: at(0) })).toBeUndefined();
    c.storeLists(2, { ...empty, whistleId: 7, createdAt: at(0).getTime() });
    c.listsOf(1, row); // 1 used last: 2 goes first
    c.storeLists(3, { ...empty, whistleId: 7, createdAt: at(0).getTime() });
    expect(c.hasLists(1)).toBe(true);
    expect(c.hasLists(2)).toBe(false);
    c.storeSummoned(5, { createdAt: at(0).getTime(), summoned: [{ id: 1, departmentId: 3 }] });
    expect(c.summonedOf(5, at(0))).toEqual([{ id: 1, departmentId: 3 }]);
    expect(c.summonedOf(5, at(9))).toBeUndefined();
    expect(c.peekSummoned(5)).toEqual([{ id: 1, departmentId: 3 }]);
  });
});
