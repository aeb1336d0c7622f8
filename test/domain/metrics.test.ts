import { describe, expect, it } from "vitest";
import {
  assessmentScore,
  DEFAULT_WEIGHTS,
  type DispatchFact,
  groupMetrics,
  invalidWeights,
  type Metrics,
  metricsOf,
  nearestRank,
  percent,
  rank,
  topByVolume,
  VETO_CAP,
} from "../../src/domain/metrics";

const t0 = new Date("2026-11-27T06:00:00Z");
const at = (min: number) => new Date(t0.getTime() + min * 60_000);

let nextWhistle = 1;
/** One dispatch whistled at t0 with the default 30-minute deadline, open, not reported, unrated. */
const fact = (over: Partial<DispatchFact> = {}): DispatchFact => ({
  whistleId: nextWhistle++,
  whistleStatus: "open",
  whistledAt: t0,
  streetId: 10,
  departmentId: 1,
  deadlineAt: at(30),
  reportedAt: null,
  rating: null,
  veto: false,
  ...over,
});

const EMPTY: Metrics = {
  summoned: 0,
  reportedOnTime: 0,
  reported: 0,
  responseRate: null,
  reportRate: null,
  avgMinutesToReport: null,
  p90MinutesToReport: null,
  resolved: 0,
  resolutionRate: null,
  rated: 0,
  satisfied: 0,
  basic: 0,
  unsatisfied: 0,
  satisfactionRate: null,
  vetoes: 0,
};

describe("metricsOf: every formula on one hand-computed fixture", () => {
  const facts = [
    fact({ whistleStatus: "resolved", reportedAt: at(10), rating: "satisfied" }), // on time
    fact({ whistleStatus: "resolved", reportedAt: at(30), rating: "basic" }), // exactly at the deadline: on time
    fact({ whistleStatus: "open", reportedAt: at(45) }), // late, unrated
    fact({ whistleStatus: "resolved", reportedAt: null, rating: "unsatisfied", veto: true }), // never reported
    fact({ whistleStatus: "open", reportedAt: at(20) }), // on time, unrated
    fact({ whistleStatus: "cancelled", reportedAt: at(5), rating: "satisfied", veto: true }), // counts nowhere
  ];
  const m = metricsOf(facts);

  it("counts", () => {
    expect(m).toMatchObject({
      summoned: 5, // 6 dispatches − 1 cancelled
      reported: 4, // +10, +30, +45, +20
      reportedOnTime: 3, // +10, +30, +20 (≤ deadline +30); +45 is late
      resolved: 3, // dispatches 1, 2, 4
      rated: 3,
      satisfied: 1,
      basic: 1,
      unsatisfied: 1,
      vetoes: 1, // the cancelled whistle's veto does not count
    });
  });

  it("响应率 = on time ÷ summoned; report rate = reported ÷ summoned", () => {
    expect(m.responseRate).toBe(3 / 5); // 0.6
    expect(m.reportRate).toBe(4 / 5); // 0.8
  });

  it("average and p90 minutes to report in", () => {
    expect(m.avgMinutesToReport).toBe(26.25); // (10 + 30 + 45 + 20) ÷ 4 = 105 ÷ 4
    expect(m.p90MinutesToReport).toBe(45); // sorted 10, 20, 30, 45; rank ⌈0.9 × 4⌉ = 4 → 45
  });

  it("解决率 = dispatches of resolved ÷ dispatches not cancelled", () => {
    expect(m.resolutionRate).toBe(3 / 5);
  });

  it("满意率 = (满意 + 基本满意) ÷ rated", () => {
    expect(m.satisfactionRate).toBe(2 / 3); // (1 + 1) ÷ 3
  });

  it("考核分 = 100 × (0.4 × 响应率 + 0.3 × 解决率 + 0.3 × 满意率), capped at 60 by the veto", () => {
    // 100 × (0.4 × 0.6 + 0.3 × 0.6 + 0.3 × 2/3) = 100 × (0.24 + 0.18 + 0.20) = 62.0
    expect(assessmentScore({ ...m, vetoes: 0 })).toBe(62);
    expect(assessmentScore(m)).toBe(60);
  });

  it("minutes are fractional", () => {
    const x = metricsOf([fact({ reportedAt: new Date(t0.getTime() + 90_000) })]); // 1.5 min
    expect(x.avgMinutesToReport).toBe(1.5);
    expect(x.p90MinutesToReport).toBe(1.5);
  });

  it("a report-in stamped before its whistle counts as 0 minutes", () => {
    const x = metricsOf([fact({ reportedAt: at(-2) }), fact({ reportedAt: at(4) })]);
    expect(x.avgMinutesToReport).toBe(2); // (0 + 4) ÷ 2
  });
});

describe("metricsOf: edge cases", () => {
  it("no dispatches: every count 0, every rate null", () => {
    expect(metricsOf([])).toEqual(EMPTY);
    expect(assessmentScore(metricsOf([]))).toBeNull();
  });

  it("all cancelled: the same as none", () => {
    const all = [
      fact({ whistleStatus: "cancelled", reportedAt: at(5), rating: "satisfied", veto: true }),
      fact({ whistleStatus: "cancelled" }),
    ];
    expect(metricsOf(all)).toEqual(EMPTY);
    expect(groupMetrics(all, "department").size).toBe(0);
    expect(groupMetrics(all, "street").size).toBe(0);
  });

  it("late report-ins: reported, but not on time", () => {
    const m = metricsOf([
      fact({ reportedAt: new Date(at(30).getTime() + 1000) }), // one second late
      fact({ reportedAt: at(90) }),
    ]);
    expect(m).toMatchObject({ summoned: 2, reported: 2, reportedOnTime: 0 });
    expect(m.responseRate).toBe(0); // 0 ÷ 2, a real 0, not null
    expect(m.reportRate).toBe(1); // 2 ÷ 2
    expect(m.avgMinutesToReport).toBeCloseTo(60.0083, 4); // (30 + 1/60 + 90) ÷ 2
  });

  it("never reported: minutes are null, rates 0", () => {
    const m = metricsOf([fact(), fact()]);
    expect(m.reportRate).toBe(0);
    expect(m.responseRate).toBe(0);
    expect(m.avgMinutesToReport).toBeNull();
    expect(m.p90MinutesToReport).toBeNull();
  });

  it("only open whistles: 解决率 is 0 ÷ n = 0, not null", () => {
    const m = metricsOf([fact(), fact(), fact()]);
    expect(m.resolved).toBe(0);
    expect(m.resolutionRate).toBe(0);
  });

  it("unrated whistles: 满意率 is null (0 rated), not 0", () => {
    const m = metricsOf([fact({ whistleStatus: "resolved", reportedAt: at(5) })]);
    expect(m.rated).toBe(0);
    expect(m.satisfactionRate).toBeNull();
  });

  it("all unsatisfied: 满意率 0", () => {
    expect(metricsOf([fact({ rating: "unsatisfied" })]).satisfactionRate).toBe(0);
  });
});

describe("nearestRank (p90)", () => {
  it("is the value at rank ⌈p/100 × n⌉", () => {
    const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
    expect(nearestRank(upTo(10), 90)).toBe(9); // ⌈9⌉ = 9
    expect(nearestRank(upTo(11), 90)).toBe(10); // ⌈9.9⌉ = 10
    expect(nearestRank(upTo(20), 90)).toBe(18); // ⌈18⌉ = 18
    expect(nearestRank([7], 90)).toBe(7);
    expect(nearestRank([], 90)).toBeNull();
    expect(nearestRank(upTo(4), 50)).toBe(2);
  });

  it("p90 over ten report-ins at 1…10 minutes is 9", () => {
    const facts = Array.from({ length: 10 }, (_, i) => fact({ reportedAt: at(10 - i) }));
    const m = metricsOf(facts);
    expect(m.p90MinutesToReport).toBe(9);
    expect(m.avgMinutesToReport).toBe(5.5); // 55 ÷ 10
  });
});

describe("groupMetrics", () => {
  // Whistle 100 by street 10 summons departments 2 and 1; whistle 200 by street 20 summons 1;
  // whistle 300 by street 30 (cancelled) summons 3.
  const facts = [
    fact({ whistleId: 100, streetId: 10, departmentId: 2, whistleStatus: "resolved", reportedAt: at(5) }),
    fact({ whistleId: 100, streetId: 10, departmentId: 1, whistleStatus: "resolved", reportedAt: at(50) }),
    fact({ whistleId: 200, streetId: 20, departmentId: 1, reportedAt: at(10), veto: true }),
    fact({ whistleId: 300, streetId: 30, departmentId: 3, whistleStatus: "cancelled" }),
  ];

  it("per department, keys ascending, cancelled dropped", () => {
    const g = groupMetrics(facts, "department");
    expect([...g.keys()]).toEqual([1, 2]);
    expect(g.get(1)).toMatchObject({ summoned: 2, reported: 2, reportedOnTime: 1, resolved: 1, vetoes: 1 });
    expect(g.get(1)?.responseRate).toBe(0.5); // 1 ÷ 2
    expect(g.get(1)?.avgMinutesToReport).toBe(30); // (50 + 10) ÷ 2
    expect(g.get(2)).toMatchObject({ summoned: 1, reportedOnTime: 1, resolutionRate: 1 });
  });

  it("per street, over the dispatches of its whistles", () => {
    const g = groupMetrics(facts, "street");
    expect([...g.keys()]).toEqual([10, 20]);
    expect(g.get(10)).toMatchObject({ summoned: 2, reportedOnTime: 1, resolved: 2, resolutionRate: 1 });
    expect(g.get(20)).toMatchObject({ summoned: 1, resolved: 0, resolutionRate: 0, vetoes: 1 });
  });
});

/** Metrics from counts (rates derived exactly as metricsOf does). */
const mk = (c: {
  summoned: number;
  onTime: number;
  resolved: number;
  rated?: number;
  good?: number;
  vetoes?: number;
}): Metrics => {
  const rated = c.rated ?? 0;
  const good = c.good ?? 0;
  return {
    ...EMPTY,
    summoned: c.summoned,
    reportedOnTime: c.onTime,
    reported: c.onTime,
    responseRate: c.summoned ? c.onTime / c.summoned : null,
    reportRate: c.summoned ? c.onTime / c.summoned : null,
    resolved: c.resolved,
    resolutionRate: c.summoned ? c.resolved / c.summoned : null,
    rated,
    satisfied: good,
    unsatisfied: rated - good,
    satisfactionRate: rated ? good / rated : null,
    vetoes: c.vetoes ?? 0,
  };
};

describe("assessmentScore", () => {
  it("default weights are 40/30/30", () => {
    expect(DEFAULT_WEIGHTS).toEqual({ response: 0.4, resolution: 0.3, satisfaction: 0.3 });
    // 100 × (0.4 × 1 + 0.3 × 1 + 0.3 × 1) = 100
    expect(assessmentScore(mk({ summoned: 4, onTime: 4, resolved: 4, rated: 4, good: 4 }))).toBe(100);
    // 100 × (0.4 × 0 + 0.3 × 0 + 0.3 × 0) = 0
    expect(assessmentScore(mk({ summoned: 4, onTime: 0, resolved: 0, rated: 4, good: 0 }))).toBe(0);
  });

  it("a veto caps 95 at 60", () => {
    // 6 dispatches, all on time and resolved, 5 of 6 satisfied:
    // 100 × (0.4 × 1 + 0.3 × 1 + 0.3 × 5/6) = 100 × (0.4 + 0.3 + 0.25) = 95
    const m = mk({ summoned: 6, onTime: 6, resolved: 6, rated: 6, good: 5 });
    expect(assessmentScore(m)).toBe(95);
    expect(assessmentScore({ ...m, vetoes: 1 })).toBe(VETO_CAP);
    expect(VETO_CAP).toBe(60);
  });

  it("a veto leaves a score already below 60 alone", () => {
    // 100 × (0.4 × 0.5 + 0.3 × 0.5 + 0.3 × 0.5) = 50
    const m = mk({ summoned: 4, onTime: 2, resolved: 2, rated: 4, good: 2, vetoes: 2 });
    expect(assessmentScore(m)).toBe(50);
  });

  it("a null rate drops out and the other weights are renormalised", () => {
    // nothing rated: 100 × (0.4 × 0.5 + 0.3 × 1) ÷ (0.4 + 0.3) = 100 × 0.5 ÷ 0.7 = 71.43 → 71.4
    expect(assessmentScore(mk({ summoned: 2, onTime: 1, resolved: 2 }))).toBe(71.4);
  });

  it("null when nothing weighted can be scored", () => {
    expect(assessmentScore(mk({ summoned: 0, onTime: 0, resolved: 0 }))).toBeNull();
    // only 满意率 weighted, nothing rated — even with a veto there is nothing to cap
    const unrated = mk({ summoned: 2, onTime: 2, resolved: 2, vetoes: 1 });
    expect(assessmentScore(unrated, { response: 0, resolution: 0, satisfaction: 1 })).toBeNull();
  });

  it("rounds to one decimal", () => {
    // only 响应率: 100 × 2/3 = 66.67 → 66.7
    const w = { response: 1, resolution: 0, satisfaction: 0 };
    expect(assessmentScore(mk({ summoned: 3, onTime: 2, resolved: 0 }), w)).toBe(66.7);
    // 100 × (0.4 × 7/8 + 0.3 × 5/8 + 0.3 × 3/4) = 100 × (0.35 + 0.1875 + 0.225) = 76.25 → 76.3
    expect(assessmentScore(mk({ summoned: 8, onTime: 7, resolved: 5, rated: 4, good: 3 }))).toBe(76.3);
  });

  it("weights not summing to 1 are normalised: 4/3/3 and 40/30/30 score as 0.4/0.3/0.3", () => {
    const m = mk({ summoned: 5, onTime: 3, resolved: 3, rated: 3, good: 2 }); // 62.0 as above
    expect(assessmentScore(m, { response: 4, resolution: 3, satisfaction: 3 })).toBe(62);
    expect(assessmentScore(m, { response: 40, resolution: 30, satisfaction: 30 })).toBe(62);
    // 50/50 on 响应率 and 满意率: 100 × (0.6 + 2/3) ÷ 2 = 63.33 → 63.3
    expect(assessmentScore(m, { response: 1, resolution: 0, satisfaction: 1 })).toBe(63.3);
  });

  it("negative, non-finite or all-zero weights are rejected", () => {
    const m = mk({ summoned: 1, onTime: 1, resolved: 1 });
    for (const w of [
      { response: -0.1, resolution: 0.6, satisfaction: 0.5 },
      { response: Number.NaN, resolution: 0.5, satisfaction: 0.5 },
      { response: Number.POSITIVE_INFINITY, resolution: 0, satisfaction: 0 },
      { response: 0, resolution: 0, satisfaction: 0 },
    ]) {
      expect(invalidWeights(w)).toBeTypeOf("string");
      expect(() => assessmentScore(m, w)).toThrow(RangeError);
    }
    expect(invalidWeights(DEFAULT_WEIGHTS)).toBeUndefined();
  });
});

describe("rank", () => {
  // Scores with the default weights (100 × (0.4 × 响应率 + 0.3 × 解决率 + 0.3 × 满意率)):
  const groups = new Map<number, Metrics>([
    [4, mk({ summoned: 8, onTime: 8, resolved: 4, rated: 2, good: 1 })], // 40 + 15 + 15 = 70
    [2, mk({ summoned: 5, onTime: 4, resolved: 4, rated: 5, good: 4 })], // 32 + 24 + 24 = 80, 响应 0.8, vol 5
    [7, mk({ summoned: 2, onTime: 2, resolved: 2 })], // below the minimum sample
    [1, mk({ summoned: 10, onTime: 9, resolved: 8, rated: 10, good: 10 })], // 36 + 24 + 30 = 90
    [9, mk({ summoned: 3, onTime: 3, resolved: 3, rated: 3, good: 3, vetoes: 1 })], // 100 → capped 60
    [3, mk({ summoned: 5, onTime: 4, resolved: 4, rated: 5, good: 4 })], // same as 2 on every key
    [8, mk({ summoned: 1, onTime: 1, resolved: 1 })], // below the minimum sample
    [6, mk({ summoned: 10, onTime: 8, resolved: 8, rated: 10, good: 8 })], // 80, 响应 0.8, vol 10
    [10, mk({ summoned: 2, onTime: 0, resolved: 0 })], // below the minimum sample
    [5, mk({ summoned: 10, onTime: 9, resolved: 8, rated: 3, good: 2 })], // 36 + 24 + 20 = 80, 响应 0.9
  ]);

  it("by score, then 响应率, then volume; full ties share a rank (…, 4, 4, 6)", () => {
    const { ranked } = rank(groups);
    expect(ranked.map((r) => [r.id, r.score, r.rank])).toEqual([
      [1, 90, 1],
      [5, 80, 2], // 80 like 6, 2, 3 but 响应率 0.9
      [6, 80, 3], // 80, 0.8, but volume 10
      [2, 80, 4], // 80, 0.8, 5 …
      [3, 80, 4], // … the same: tie, listed by id
      [4, 70, 6],
      [9, 60, 7], // exactly the minimum sample of 3; vetoed
    ]);
  });

  it("fewer than the minimum sample are listed separately, by volume then id", () => {
    const { unranked } = rank(groups);
    expect(unranked.map((u) => u.id)).toEqual([7, 10, 8]); // 2, 2, 1 dispatches
    expect(rank(groups, { minSample: 1 }).ranked).toHaveLength(10);
    expect(rank(groups, { minSample: 0 }).ranked).toHaveLength(10);
    const none = rank(groups, { minSample: 11 });
    expect(none.ranked).toEqual([]);
    expect(none.unranked).toHaveLength(10);
  });

  it("by volume, then score, then 响应率", () => {
    const { ranked } = rank(groups, { by: "volume" });
    expect(ranked.map((r) => [r.id, r.rank])).toEqual([
      [1, 1], // 10, 90
      [5, 2], // 10, 80, 0.9
      [6, 3], // 10, 80, 0.8
      [4, 4], // 8
      [2, 5], // 5, 80, 0.8
      [3, 5], // tie
      [9, 7], // 3
    ]);
  });

  it("uses the given weights", () => {
    const { ranked } = rank(groups, { weights: { response: 1, resolution: 0, satisfaction: 0 } });
    // 响应率 only: 4 → 100, 9 → 100 capped to 60, 1 and 5 → 90, 6, 2, 3 → 80
    expect(ranked.map((r) => [r.id, r.score, r.rank])).toEqual([
      [4, 100, 1],
      [1, 90, 2], // 90, 0.9, 10 — tie with 5
      [5, 90, 2],
      [6, 80, 4],
      [2, 80, 5],
      [3, 80, 5],
      [9, 60, 7],
    ]);
  });

  it("a null score ranks after every score", () => {
    const w = { response: 0, resolution: 0, satisfaction: 1 };
    const g = new Map<number, Metrics>([
      [1, mk({ summoned: 3, onTime: 3, resolved: 3 })], // nothing rated → null
      [2, mk({ summoned: 3, onTime: 0, resolved: 0, rated: 3, good: 0 })], // 0
    ]);
    expect(rank(g, { weights: w }).ranked.map((r) => [r.id, r.score, r.rank])).toEqual([
      [2, 0, 1],
      [1, null, 2],
    ]);
  });

  it("nothing to rank", () => {
    expect(rank(new Map())).toEqual({ ranked: [], unranked: [] });
  });
});

describe("topByVolume", () => {
  const groups = new Map<number, Metrics>([
    [30, mk({ summoned: 5, onTime: 5, resolved: 5 })],
    [10, mk({ summoned: 9, onTime: 0, resolved: 0 })],
    [20, mk({ summoned: 9, onTime: 9, resolved: 9 })],
    [40, mk({ summoned: 1, onTime: 1, resolved: 1 })],
    [50, mk({ summoned: 0, onTime: 0, resolved: 0 })],
  ]);

  it("most dispatches first, no minimum sample, none with 0; equal volumes share a rank", () => {
    expect(topByVolume(groups).map((r) => [r.id, r.metrics.summoned, r.rank])).toEqual([
      [10, 9, 1],
      [20, 9, 1],
      [30, 5, 3],
      [40, 1, 4],
    ]);
  });

  it("cuts at n (default 10)", () => {
    expect(topByVolume(groups, 2).map((r) => r.id)).toEqual([10, 20]);
    expect(topByVolume(groups, 0)).toEqual([]);
    const many = new Map(
      Array.from({ length: 15 }, (_, i) => [i + 1, mk({ summoned: i + 1, onTime: 0, resolved: 0 })]),
    );
    expect(topByVolume(many).map((r) => r.id)).toEqual([15, 14, 13, 12, 11, 10, 9, 8, 7, 6]);
  });
});

describe("percent", () => {
  it("shows a rate, or — for no data", () => {
    expect(percent(null)).toBe("—");
    expect(percent(0)).toBe("0%");
    expect(percent(1)).toBe("100%");
    expect(percent(0.875)).toBe("87.5%");
    expect(percent(2 / 3)).toBe("66.7%");
    expect(percent(metricsOf([]).responseRate)).toBe("—");
  });
});
