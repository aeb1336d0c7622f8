/**
 * Performance metrics and the monthly assessment (考核) of departments and streets, computed from
 * one row per dispatch (one department's part of one whistle). The same rates the city publishes
 * for 12345 接诉即办: 响应率, 解决率, 满意率. Pure: callers load the facts of a period (see
 * periods.ts) and render the numbers.
 *
 * Conventions:
 * - Cancelled whistles count nowhere: their dispatches are dropped before anything is counted
 *   (not in summoned, not in any denominator, not in vetoes, and a department whose only dispatches
 *   were cancelled has no group at all).
 * - Rates are fractions in [0, 1], not percentages. A rate whose denominator is 0 is null, meaning
 *   "no data", and is shown as "—" (see `percent`), never as 0%.
 * - A street's metrics are over the dispatches of its whistles: a whistle that summoned three
 *   departments counts three times, exactly as it does across those departments.
 */

export interface DispatchFact {
  whistleId: number;
  whistleStatus: "open" | "resolved" | "cancelled";
  whistledAt: Date;
  streetId: number;
  departmentId: number;
  deadlineAt: Date;
  /** The department's first report-in (报到), or null if it never reported in. */
  reportedAt: Date | null;
  /** The street's rating of the department on this whistle, or null if not rated yet. */
  rating: "satisfied" | "basic" | "unsatisfied" | null;
  /** The street vetoed (否决) the department on this whistle. */
  veto: boolean;
}

export interface Metrics {
  /** Dispatches of whistles not cancelled. */
  summoned: number;
  /** Of those, reported in on time: reportedAt <= deadlineAt. */
  reportedOnTime: number;
  /** Of those, reported in at all (on time or late). */
  reported: number;
  /** 响应率 = reportedOnTime ÷ summoned; null when summoned = 0. */
  responseRate: number | null;
  /** 报到率 = reported ÷ summoned; null when summoned = 0. */
  reportRate: number | null;
  /** Mean of (reportedAt − whistledAt) in minutes over the reported dispatches; null when none. */
  avgMinutesToReport: number | null;
  /** 90th percentile (nearest rank) of the same minutes; null when none reported. */
  p90MinutesToReport: number | null;
  /** Dispatches of resolved whistles. */
  resolved: number;
  /** 解决率 = resolved ÷ summoned (dispatches of resolved whistles ÷ dispatches of whistles not cancelled); null when summoned = 0. */
  resolutionRate: number | null;
  /** Dispatches with a rating. */
  rated: number;
  satisfied: number;
  basic: number;
  unsatisfied: number;
  /** 满意率 = (satisfied + basic) ÷ rated (满意 + 基本满意 ÷ 已评价); null when rated = 0. */
  satisfactionRate: number | null;
  /** Dispatches vetoed (否决). */
  vetoes: number;
}

const ratio = (n: number, d: number): number | null => (d === 0 ? null : n / d);

/**
 * Nearest-rank percentile of ascending `sorted`: the value at rank ⌈p/100 × n⌉ (1-based); null
 * for an empty list. For p = 90: n = 10 → 9th value, n = 11 → 10th, n = 1 → the only value.
 */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length - 1e-9));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

/**
 * All metrics of a set of dispatches (see the formulas on `Metrics`). Cancelled whistles are
 * excluded first. Minutes to report = (reportedAt − whistledAt) / 60 000, fractional, and never
 * below 0 (a clock that puts a report-in before its whistle counts as instant).
 */
export function metricsOf(facts: readonly DispatchFact[]): Metrics {
  const live = facts.filter((f) => f.whistleStatus !== "cancelled");
  const minutes: number[] = [];
  let reportedOnTime = 0;
  let resolved = 0;
  let satisfied = 0;
  let basic = 0;
  let unsatisfied = 0;
  let vetoes = 0;
  for (const f of live) {
    if (f.reportedAt) {
      minutes.push(Math.max(0, (f.reportedAt.getTime() - f.whistledAt.getTime()) / 60_000));
      if (f.reportedAt.getTime() <= f.deadlineAt.getTime()) reportedOnTime++;
    }
    if (f.whistleStatus === "resolved") resolved++;
    if (f.rating === "satisfied") satisfied++;
    else if (f.rating === "basic") basic++;
    else if (f.rating === "unsatisfied") unsatisfied++;
    if (f.veto) vetoes++;
  }
  minutes.sort((a, b) => a - b);
  const summoned = live.length;
  const reported = minutes.length;
  const rated = satisfied + basic + unsatisfied;
  return {
    summoned,
    reportedOnTime,
    reported,
    responseRate: ratio(reportedOnTime, summoned),
    reportRate: ratio(reported, summoned),
    avgMinutesToReport: reported === 0 ? null : minutes.reduce((a, b) => a + b, 0) / reported,
    p90MinutesToReport: nearestRank(minutes, 90),
    resolved,
    resolutionRate: ratio(resolved, summoned),
    rated,
    satisfied,
    basic,
    unsatisfied,
    satisfactionRate: ratio(satisfied + basic, rated),
    vetoes,
  };
}

/**
 * Metrics per department (departmentId) or per street (streetId), keys in ascending id order.
 * Cancelled whistles are dropped before grouping, so no group has summoned = 0.
 */
export function groupMetrics(
  facts: readonly DispatchFact[],
  by: "department" | "street",
): Map<number, Metrics> {
  const buckets = new Map<number, DispatchFact[]>();
  for (const f of facts) {
    if (f.whistleStatus === "cancelled") continue;
    const id = by === "department" ? f.departmentId : f.streetId;
    const list = buckets.get(id);
    if (list) list.push(f);
    else buckets.set(id, [f]);
  }
  const out = new Map<number, Metrics>();
  for (const id of [...buckets.keys()].sort((a, b) => a - b)) out.set(id, metricsOf(buckets.get(id) ?? []));
  return out;
}

export interface ScoreWeights {
  /** Weight of 响应率. */
  response: number;
  /** Weight of 解决率. */
  resolution: number;
  /** Weight of 满意率. */
  satisfaction: number;
}

/** 40% 响应率, 30% 解决率, 30% 满意率. */
export const DEFAULT_WEIGHTS: Readonly<ScoreWeights> = { response: 0.4, resolution: 0.3, satisfaction: 0.3 };

/** A month with any veto (否决) scores at most this. */
export const VETO_CAP = 60;

/** Rankings need at least this many dispatches (summoned) in the period. */
export const DEFAULT_MIN_SAMPLE = 3;

/**
 * Checks configured weights: each finite and ≥ 0, and not all 0. They need not sum to 1 — they
 * are relative and get normalised (0.4/0.3/0.3, 4/3/3 and 40/30/30 all score the same). Returns
 * the reason when invalid, undefined when fine.
 */
export function invalidWeights(w: ScoreWeights): string | undefined {
  const all = [w.response, w.resolution, w.satisfaction];
  if (all.some((x) => typeof x !== "number" || !Number.isFinite(x) || x < 0))
    return "weights must be finite numbers ≥ 0";
  if (all.every((x) => x === 0)) return "at least one weight must be > 0";
  return undefined;
}

/** Rounds to one decimal, immune to binary noise such as 72.24999999999999. */
const oneDecimal = (x: number) => Math.round(Number((x * 10).toPrecision(12))) / 10;

/**
 * 考核分, 0–100 with one decimal, meant for a month's metrics:
 *   score = 100 × (w₁·响应率 + w₂·解决率 + w₃·满意率) ÷ (w₁ + w₂ + w₃)
 * where the sums run over the rates that exist: a rate that is null (no data — typically 满意率
 * with nothing rated yet) drops out and the remaining weights are renormalised, so missing ratings
 * neither help nor hurt. Null when no weighted rate exists (nothing to score). Any veto in the
 * metrics caps the score at 60 (VETO_CAP): min(score, 60). Weights are relative (normalised, see
 * `invalidWeights`); invalid weights throw a RangeError.
 */
export function assessmentScore(m: Metrics, w: ScoreWeights = DEFAULT_WEIGHTS): number | null {
  const bad = invalidWeights(w);
  if (bad) throw new RangeError(bad);
  let sum = 0;
  let weight = 0;
  for (const [rate, wi] of [
    [m.responseRate, w.response],
    [m.resolutionRate, w.resolution],
    [m.satisfactionRate, w.satisfaction],
  ] as const) {
    if (rate === null || wi === 0) continue;
    sum += wi * rate;
    weight += wi;
  }
  if (weight === 0) return null;
  const score = oneDecimal((100 * sum) / weight);
  return m.vetoes > 0 ? Math.min(score, VETO_CAP) : score;
}

export interface Ranked {
  id: number;
  metrics: Metrics;
  score: number | null;
  /** 1-based; entries equal on every ordering key share a rank and the next rank skips (1, 2, 2, 4). */
  rank: number;
}

export interface RankOptions {
  /** Fewer dispatches (summoned) than this → listed in `unranked`, not ranked. Default 3; at least 1. */
  minSample?: number;
  /**
   * "score" (default): score desc, then 响应率 desc, then volume (summoned) desc.
   * "volume": summoned desc, then score desc, then 响应率 desc.
   * A null score or rate sorts after every number.
   */
  by?: "score" | "volume";
  weights?: ScoreWeights;
}

/** Descending, nulls last. */
const desc = (a: number | null, b: number | null) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : b - a);

/**
 * A ranking of groups (from `groupMetrics`). Groups with summoned ≥ minSample are ranked in the
 * order described on `RankOptions.by`; two entries tie — and share a rank — only when they are
 * equal on every key of that order (so 1, 2, 2, 4). Ties are listed by ascending id. The rest go
 * to `unranked`, by volume desc then id.
 */
export function rank(
  groups: ReadonlyMap<number, Metrics>,
  opts: RankOptions = {},
): { ranked: Ranked[]; unranked: { id: number; metrics: Metrics }[] } {
  const minSample = Math.max(1, opts.minSample ?? DEFAULT_MIN_SAMPLE);
  const weights = opts.weights ?? DEFAULT_WEIGHTS;
  const rows: Omit<Ranked, "rank">[] = [];
  const unranked: { id: number; metrics: Metrics }[] = [];
  for (const [id, metrics] of groups) {
    if (metrics.summoned >= minSample) rows.push({ id, metrics, score: assessmentScore(metrics, weights) });
    else unranked.push({ id, metrics });
  }
  const keys = (r: Omit<Ranked, "rank">): (number | null)[] =>
    opts.by === "volume"
      ? [r.metrics.summoned, r.score, r.metrics.responseRate]
      : [r.score, r.metrics.responseRate, r.metrics.summoned];
  const compare = (a: Omit<Ranked, "rank">, b: Omit<Ranked, "rank">) => {
    const ka = keys(a);
    const kb = keys(b);
    for (let i = 0; i < ka.length; i++) {
      const c = desc(ka[i] ?? null, kb[i] ?? null);
      if (c !== 0) return c;
    }
    return 0;
  };
  rows.sort((a, b) => compare(a, b) || a.id - b.id);
  const ranked: Ranked[] = [];
  rows.forEach((r, i) => {
    const prev = ranked[i - 1];
    const tied = prev !== undefined && compare(prev, r) === 0;
    ranked.push(Object.assign({}, r, { rank: tied ? prev.rank : i + 1 }));
  });
  unranked.sort((a, b) => b.metrics.summoned - a.metrics.summoned || a.id - b.id);
  return { ranked, unranked };
}

/**
 * The n groups with the most dispatches (the city's daily "top 10 streets by volume"), summoned
 * desc then id asc; no minimum sample, groups with 0 left out. Equal volumes share a rank
 * (1, 2, 2, 4); the cut at n is by position.
 */
export function topByVolume(
  groups: ReadonlyMap<number, Metrics>,
  n = 10,
): { id: number; metrics: Metrics; rank: number }[] {
  const rows = [...groups]
    .filter(([, m]) => m.summoned > 0)
    .map(([id, metrics]) => ({ id, metrics }))
    .sort((a, b) => b.metrics.summoned - a.metrics.summoned || a.id - b.id)
    .slice(0, Math.max(0, n));
  const out: { id: number; metrics: Metrics; rank: number }[] = [];
  rows.forEach((r, i) => {
    const prev = out[i - 1];
    out.push(
      Object.assign({}, r, {
        rank: prev && prev.metrics.summoned === r.metrics.summoned ? prev.rank : i + 1,
      }),
    );
  });
  return out;
}

/** A rate for people: "87.5%" (one decimal, trailing ".0" dropped: "100%"), or "—" for no data. */
export function percent(rate: number | null): string {
  if (rate === null) return "—";
  return `${oneDecimal(rate * 100)}%`;
}
