import { describe, expect, it } from "vitest";
import { renderDigestCard } from "../../src/bot/cards/digest-card";
import { lintCard } from "../../src/bot/cards/lint";
import { renderRankCard, renderStatsCard } from "../../src/bot/cards/stats-cards";
import { type DispatchFact, groupMetrics, metricsOf, rank } from "../../src/domain/metrics";

const t = (iso: string) => new Date(iso);
const fact = (over: Partial<DispatchFact>): DispatchFact => ({
  whistleId: 1,
  whistleStatus: "resolved",
  whistledAt: t("2026-11-20T02:00:00Z"),
  streetId: 1,
  departmentId: 10,
  deadlineAt: t("2026-11-20T02:30:00Z"),
  reportedAt: t("2026-11-20T02:10:00Z"),
  rating: "satisfied",
  veto: false,
  ...over,
});

// 城管 (10): 3 on time, all resolved and satisfied; 公安 (11): late, never, and a veto.
const facts: DispatchFact[] = [
  fact({ whistleId: 1 }),
  fact({ whistleId: 2 }),
  fact({ whistleId: 3, whistleStatus: "open", rating: null }),
  fact({
    whistleId: 1,
    departmentId: 11,
    reportedAt: t("2026-11-20T02:45:00Z"),
    rating: "unsatisfied",
    veto: true,
  }),
  fact({ whistleId: 2, departmentId: 11, reportedAt: null, rating: null }),
  fact({ whistleId: 3, departmentId: 11, whistleStatus: "open", rating: null }),
];
const names = new Map([
  [10, "城管执法队"],
  [11, "公安"],
]);

/** Charts are data only: no functions, no function-looking strings, at most 5. */
function chartsOf(card: unknown): unknown[] {
  const json = JSON.stringify(card);
  expect(json).not.toMatch(/function\s*\(|=>/);
  const charts = json.match(/"tag":"chart"/g) ?? [];
  expect(charts.length).toBeLessThanOrEqual(5);
  return charts;
}

describe("assessment cards", () => {
  it("stats card", () => {
    const groups = groupMetrics(facts, "department");
    const card = renderStatsCard({
      scopeName: "全区",
      periodLabel: "2026年11月",
      total: metricsOf(facts),
      departments: [...groups].map(([id, metrics]) => ({ name: names.get(id) ?? "", metrics })),
      daily: [
        { day: "11-20", type: "enforcement", count: 2 },
        { day: "11-20", type: "emergency", count: 1 },
      ],
    });
    expect(lintCard(card)).toEqual([]);
    expect(chartsOf(card)).toHaveLength(2);
    expect(card).toMatchSnapshot();
  });

  it("ranking card", () => {
    const groups = groupMetrics(facts, "department");
    const { ranked, unranked } = rank(groups);
    const card = renderRankCard({
      what: "部门",
      periodLabel: "2026年11月",
      names,
      ranked,
      unranked,
      groups,
      minSample: 3,
    });
    expect(lintCard(card)).toEqual([]);
    chartsOf(card);
    expect(card).toMatchSnapshot();
  });

  it("digest card", () => {
    const groups = groupMetrics(facts, "department");
    const card = renderDigestCard({
      dayLabel: "11月26日",
      byType: new Map([
        ["enforcement", 3],
        ["key", 1],
      ]),
      late: [{ department: "公安", overdue: 2 }],
      ranking: { monthLabel: "2026年11月", ranked: rank(groups).ranked, names },
      staleOpen: [
        { code: "W261121-01", street: "朝阳门街道", matter: "南小街5号群租房", ageMinutes: 5 * 24 * 60 },
      ],
    });
    expect(lintCard(card)).toEqual([]);
    expect(chartsOf(card)).toHaveLength(1);
    expect(card).toMatchSnapshot();
  });
});
