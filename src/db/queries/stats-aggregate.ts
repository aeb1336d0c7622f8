import { type SQL, sql } from "drizzle-orm";
import type { Metrics } from "../../domain/metrics";
import { type DbOrTx, executeRows } from "../database";
import { dispatches, ratings, whistles } from "../schema";

/**
 * The assessment metrics per department or per street computed by the database in one GROUP BY
 * statement: the same numbers as `groupMetrics(await dispatchFacts(db, range, scope), by)` (see
 * src/domain/metrics.ts for the formulas), without loading one row per dispatch into Node — the
 * ranking over a month of a whole district (hundreds of thousands of dispatches) stays one
 * aggregate over one join. bench/stats measures it.
 *
 * How each JS rule is kept:
 * - cancelled whistles are filtered out before grouping, so no group has summoned = 0 and a unit
 *   whose only dispatches were cancelled has no entry;
 * - minutes to report = the whole milliseconds between whistle and report-in ÷ 60 000 in float8,
 *   clamped at 0 — bit-identical to metricsOf's `(reportedAt − whistledAt) / 60 000`, because every
 *   timestamp involved is written from a JS `Date` (millisecond precision). A sub-millisecond
 *   timestamp written by hand would be off by < 1 ms (JS truncates each one to the millisecond;
 *   doing the same here with date_trunc made the statement ~40 % slower);
 * - p90 is `percentile_disc(0.9)`: the first value at position ≥ 0.9 × n, i.e. rank ⌈0.9 n⌉ — the
 *   nearest rank of `nearestRank` (float8 0.9 × n never lands above an integer, so no off-by-one).
 *   It is taken over the seconds (float8, exact to the microsecond here) and converted to minutes
 *   afterwards: the conversion is monotonic, so the value picked is the same as over the minutes;
 * - rates are float8 divisions of the exact counts (null when the denominator is 0), the same
 *   IEEE division as `n / d` in JS. Only the mean may differ from JS in the last bits (summation
 *   order).
 *
 * Keys of the map come in ascending id order, like groupMetrics. `scope` narrows the dispatches
 * first (a street's whistles, a department's dispatches; both = both), like dispatchFacts' scope.
 */

export interface GroupScope {
  streetId?: number;
  departmentId?: number;
}

/** The statement behind `groupMetricsSql` (exported for the benchmark's EXPLAIN). */
export function groupMetricsStatement(
  range: { from: Date; to: Date },
  by: "department" | "street",
  scope: GroupScope = {},
): SQL {
  const key = by === "department" ? dispatches.departmentId : whistles.streetId;
  // NULL stays NULL (never reported): greatest() alone would turn it into 0.
  const minutes = (seconds: SQL, missing: SQL | typeof dispatches.reportedAt = seconds) =>
    sql`(case when ${missing} is null then null else greatest(0, round(${seconds} * 1000) / 60000) end)::float8`;
  // Seconds from whistle to report-in as float8: exact at the microsecond for any span under ~285
  // years, so ordering by it orders the intervals, and float8 sorts far faster than intervals.
  const taken = sql`date_part('epoch', ${dispatches.reportedAt} - ${whistles.createdAt})`;
  const filters: SQL[] = [
    sql`${whistles.createdAt} >= ${range.from.toISOString()}::timestamptz`,
    sql`${whistles.createdAt} < ${range.to.toISOString()}::timestamptz`,
    sql`${whistles.status} <> 'cancelled'`,
  ];
  if (scope.streetId !== undefined) filters.push(sql`${whistles.streetId} = ${scope.streetId}::int`);
  if (scope.departmentId !== undefined)
    filters.push(sql`${dispatches.departmentId} = ${scope.departmentId}::int`);
  const rate = (n: string, d: string) =>
    sql.raw(`case when "${d}" = 0 then null else "${n}"::float8 / "${d}" end`);
  return sql`
    select "id", "summoned", "reportedOnTime", "reported",
      ${rate("reportedOnTime", "summoned")} as "responseRate",
      ${rate("reported", "summoned")} as "reportRate",
      "avgMinutesToReport", "p90MinutesToReport",
      "resolved", ${rate("resolved", "summoned")} as "resolutionRate",
      "satisfied" + "basic" + "unsatisfied" as "rated", "satisfied", "basic", "unsatisfied",
      case when "satisfied" + "basic" + "unsatisfied" = 0 then null
        else ("satisfied" + "basic")::float8 / ("satisfied" + "basic" + "unsatisfied") end as "satisfactionRate",
      "vetoes"
    from (
      select ${key} as "id",
        count(*)::int as "summoned",
        count(*) filter (where ${dispatches.reportedAt} <= ${dispatches.deadlineAt})::int as "reportedOnTime",
        count(${dispatches.reportedAt})::int as "reported",
        avg(${minutes(taken, dispatches.reportedAt)}) as "avgMinutesToReport",
        ${minutes(sql`percentile_disc(0.9) within group (order by ${taken})`)} as "p90MinutesToReport",
        count(*) filter (where ${whistles.status} = 'resolved')::int as "resolved",
        count(*) filter (where ${ratings.level} = 'satisfied')::int as "satisfied",
        count(*) filter (where ${ratings.level} = 'basic')::int as "basic",
        count(*) filter (where ${ratings.level} = 'unsatisfied')::int as "unsatisfied",
        count(*) filter (where ${ratings.veto})::int as "vetoes"
      from ${dispatches}
      join ${whistles} on ${whistles.id} = ${dispatches.whistleId}
      left join ${ratings} on ${ratings.dispatchId} = ${dispatches.id}
      where ${sql.join(filters, sql` and `)}
      group by ${key}
    ) g
    order by "id"`;
}

type Row = Metrics & { id: number };

/** Metrics per department or street of the whistles made in [from, to): see the notes above. */
export async function groupMetricsSql(
  db: DbOrTx,
  range: { from: Date; to: Date },
  by: "department" | "street",
  scope: GroupScope = {},
): Promise<Map<number, Metrics>> {
  const rows = await executeRows<Row>(db, groupMetricsStatement(range, by, scope));
  const out = new Map<number, Metrics>();
  for (const { id, ...m } of rows) {
    out.set(id, {
      summoned: m.summoned,
      reportedOnTime: m.reportedOnTime,
      reported: m.reported,
      responseRate: m.responseRate,
      reportRate: m.reportRate,
      avgMinutesToReport: m.avgMinutesToReport,
      p90MinutesToReport: m.p90MinutesToReport,
      resolved: m.resolved,
      resolutionRate: m.resolutionRate,
      rated: m.rated,
      satisfied: m.satisfied,
      basic: m.basic,
      unsatisfied: m.unsatisfied,
      satisfactionRate: m.satisfactionRate,
      vetoes: m.vetoes,
    });
  }
  return out;
}
