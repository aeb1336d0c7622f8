/**
 * bench/stats: the /排名 ranking's aggregate — `groupMetricsSql` (one GROUP BY statement) over one
 * month of a district: ~1M dispatches on ~200k whistles spread over three months (Sep–Nov 2026),
 * 30 streets, 40 departments, 1–9 departments per whistle, ~10 % cancelled, ~85 % reported (some
 * late), ratings (with a few vetoes) on about a third of the dispatches of resolved whistles. The
 * month timed is October (≈ ⅓ of the rows). Reports the median of 5 runs after a warm-up, by
 * department and by street, next to same-run baselines (`select count(*) from dispatches` and the
 * month's dispatch count through the same join), the JS path it replaces (dispatchFacts +
 * groupMetrics, once, also checked equal), and the statement's EXPLAIN (ANALYZE, BUFFERS) with the
 * indexes it uses; then one week (Oct 1–7) the same way. On Postgres it also tries two candidate
 * indexes that are NOT in the schema (each created, timed on the month and the week, dropped).
 * Timestamps are seeded at millisecond precision, as the app writes them. Postgres when
 * BENCH_DATABASE_URL is set (target: < 300 ms at 1M dispatches); PGlite always, at 100k dispatches.
 */
import { loadavg } from "node:os";
import { sql } from "drizzle-orm";
import type { Database } from "../src/db/database";
import { migrateDatabase } from "../src/db/migrate";
import { openPglite } from "../src/db/pglite";
import { dispatchFacts } from "../src/db/queries/stats";
import { groupMetricsSql, groupMetricsStatement } from "../src/db/queries/stats-aggregate";
import { groupMetrics, type Metrics } from "../src/domain/metrics";
import { withBenchPostgres } from "./support";

const STREETS = 30;
const DEPARTMENTS = 40;
const RUNS = 5;
const TARGET_MS = 300;
const span = { from: new Date("2026-09-01T00:00:00+08:00"), to: new Date("2026-12-01T00:00:00+08:00") };
const month = { from: new Date("2026-10-01T00:00:00+08:00"), to: new Date("2026-11-01T00:00:00+08:00") };
/** A shorter range (≈ 1/13 of the data, as a month is of a year's history): where an index can pay. */
const week = { from: new Date("2026-10-01T00:00:00+08:00"), to: new Date("2026-10-08T00:00:00+08:00") };

type Rows<T> = { rows: T[] } | T[];
async function query<T>(database: Database, q: ReturnType<typeof sql>): Promise<T[]> {
  const r = (await database.db.execute(q)) as unknown as Rows<T>;
  return Array.isArray(r) ? r : r.rows;
}

/** ~5 dispatches per whistle on average: whistles = dispatches / 5. */
async function seed(database: Database, whistleCount: number): Promise<number> {
  const { db } = database;
  await db.execute(sql`
    insert into units (kind, name, name_key)
    select 'street', '街道' || g, 'jd' || g from generate_series(1, ${STREETS}) g`);
  await db.execute(sql`
    insert into units (kind, name, name_key)
    select 'department', '部门' || g, 'bm' || g from generate_series(1, ${DEPARTMENTS}) g`);
  const seconds = (span.to.getTime() - span.from.getTime()) / 1000;
  // Timestamps at millisecond precision, as the app writes them (from JS Dates). Whistles in id
  // order through the three months (as the identity would number them), with a few seconds of
  // jitter; status: ~10 % cancelled, ~50 % resolved, the rest open.
  await db.execute(sql`
    insert into whistles (code, type, matter, street_id, street_chat_id, whistler_open_id, status,
      limit_minutes, source, created_at, deadline_at, resolved_at, cancelled_at)
    select 'W' || g, (array['enforcement', 'emergency', 'key'])[1 + g % 3]::whistle_type,
      '第' || g || '处占道经营', s, 'oc_street_' || s, 'ou_official',
      (case when r < 0.1 then 'cancelled' when r < 0.6 then 'resolved' else 'open' end)::whistle_status,
      30, 'command', at, at + interval '30 minutes',
      case when r >= 0.1 and r < 0.6 then at + interval '3 hours' end,
      case when r < 0.1 then at + interval '10 minutes' end
    from (
      select g, 1 + (g * 7919) % ${STREETS} as s, random() as r,
        date_trunc('milliseconds', ${span.from.toISOString()}::timestamptz
          + make_interval(secs => (g - 1) * ${seconds}::float8 / ${whistleCount} + random() * 20)) as at
      from generate_series(1, ${whistleCount}) g
    ) x`);
  // 1–9 distinct departments per whistle (k × 13 mod 40 never repeats for k < 40); ~85 % reported,
  // 0–90 minutes after the whistle against a 30-minute limit (so a share is late).
  await db.execute(sql`
    insert into dispatches (whistle_id, department_id, chat_id, card_message_id, state, created_at,
      deadline_at, reported_at, reported_by, late_minutes)
    select w.id, d, 'oc_dept_' || d, 'om_' || w.id || '_' || d,
      (case when rep is null then 'pending' else 'reported' end)::dispatch_state, w.created_at,
      w.deadline_at, rep, case when rep is not null then 'ou_staff_' || d end,
      case when rep > w.deadline_at then ceil(extract(epoch from rep - w.deadline_at) / 60)::int end
    from whistles w
    cross join lateral (
      select ${STREETS} + 1 + (w.id * 7 + k * 13) % ${DEPARTMENTS} as d,
        case when random() < 0.85
          then date_trunc('milliseconds', w.created_at + make_interval(secs => random() * 5400)) end as rep
      from generate_series(0, (w.id * 2654435761) % 9) k
    ) x`);
  await db.execute(sql`
    insert into ratings (dispatch_id, level, veto, veto_reason, rated_by)
    select d.id, (array['satisfied', 'satisfied', 'basic', 'unsatisfied'])[1 + floor(random() * 4)::int]::rating_level,
      v, case when v then '推诿' end, 'ou_official'
    from dispatches d join whistles w on w.id = d.whistle_id,
      lateral (select random() < 0.03 as v) x
    where w.status = 'resolved' and random() < 0.35`);
  await db.execute(sql`vacuum analyze`);
  const [n] = await query<{ n: number }>(database, sql`select count(*)::int as n from dispatches`);
  return n?.n ?? 0;
}

async function time(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

async function median(f: () => Promise<unknown>): Promise<{ median: number; min: number; max: number }> {
  await f(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) ms.push(await time(f));
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(RUNS / 2)] as number, min: ms[0] as number, max: ms[RUNS - 1] as number };
}

const fmtMs = (s: { median: number; min: number; max: number }) =>
  `median ${s.median.toFixed(1)} ms (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)})`;

/** Same metrics as the JS path: counts and rates exactly, the mean to 1e-9 relative. */
function sameMetrics(a: Map<number, Metrics>, b: Map<number, Metrics>): boolean {
  if (JSON.stringify([...a.keys()]) !== JSON.stringify([...b.keys()])) return false;
  for (const [id, m] of a) {
    const e = b.get(id);
    if (!e) return false;
    for (const k of Object.keys(m) as (keyof Metrics)[]) {
      const x = m[k];
      const y = e[k];
      if (x === y) continue;
      if (k !== "avgMinutesToReport" || x === null || y === null) return false;
      if (Math.abs(x - y) > 1e-9 * Math.max(1, Math.abs(y))) return false;
    }
  }
  return true;
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

async function measure(label: string, database: Database, whistleCount: number) {
  console.log(`${label} load average before: ${load()}`);
  const seedStart = performance.now();
  const total = await seed(database, whistleCount);
  const seeded = ((performance.now() - seedStart) / 1000).toFixed(1);
  const [monthRow] = await query<{ n: number; w: number }>(
    database,
    sql`select count(*)::int as n, count(distinct w.id)::int as w from dispatches d join whistles w on w.id = d.whistle_id
        where w.created_at >= ${month.from.toISOString()}::timestamptz and w.created_at < ${month.to.toISOString()}::timestamptz`,
  );
  console.log(
    `${label} seeded ${total} dispatches on ${whistleCount} whistles in ${seeded} s; October 2026: ` +
      `${monthRow?.n} dispatches on ${monthRow?.w} whistles`,
  );
  const countAll = await median(() => database.db.execute(sql`select count(*) from dispatches`));
  const countMonth = await median(() =>
    database.db.execute(
      sql`select count(*) from dispatches d join whistles w on w.id = d.whistle_id
          where w.created_at >= ${month.from.toISOString()}::timestamptz and w.created_at < ${month.to.toISOString()}::timestamptz
            and w.status <> 'cancelled'`,
    ),
  );
  console.log(`${label} baseline select count(*) from dispatches:        ${fmtMs(countAll)}`);
  console.log(`${label} baseline count(*) of the month's dispatches (join): ${fmtMs(countMonth)}`);
  const t0 = performance.now();
  const facts = await dispatchFacts(database.db, month, { all: true });
  const byDeptJs = groupMetrics(facts, "department");
  const jsMs = performance.now() - t0;
  const byStreetJs = groupMetrics(facts, "street");
  console.log(
    `${label} JS path (dispatchFacts + groupMetrics, department, once): ${jsMs.toFixed(0)} ms for ${facts.length} facts`,
  );
  for (const by of ["department", "street"] as const) {
    const stats = await median(() => groupMetricsSql(database.db, month, by));
    const result = await groupMetricsSql(database.db, month, by);
    const same = sameMetrics(result, by === "department" ? byDeptJs : byStreetJs);
    if (!same) throw new Error(`${label}: groupMetricsSql by ${by} differs from groupMetrics(dispatchFacts)`);
    console.log(
      `${label} groupMetricsSql(October, "${by}"): ${fmtMs(stats)}; ${result.size} groups, equal to the JS path; ` +
        `${(stats.median / countMonth.median).toFixed(1)}× the month's count, ${(jsMs / stats.median).toFixed(1)}× faster than the JS path` +
        (label.startsWith("postgres")
          ? ` — target < ${TARGET_MS} ms: ${stats.median < TARGET_MS ? "MET" : "MISSED"}`
          : ""),
    );
  }
  const plan = await explain(database, month);
  console.log(`${label} EXPLAIN (ANALYZE, BUFFERS) groupMetricsSql(October, "department"):`);
  for (const line of plan.lines) console.log(`  ${line}`);
  console.log(`${label} plan (October): ${plan.summary}`);
  const weekStats = await median(() => groupMetricsSql(database.db, week, "department"));
  console.log(
    `${label} groupMetricsSql(Oct 1–7, "department"): ${fmtMs(weekStats)}; plan: ${(await explain(database, week)).summary}`,
  );
  console.log(`${label} load average after: ${load()}`);
  if (!label.startsWith("postgres")) return;
  // Candidate indexes (not in the schema): does either make the statement faster?
  for (const [name, ddl] of CANDIDATES) {
    const t = performance.now();
    await database.db.execute(sql.raw(`create index ${name} on ${ddl}`));
    await database.db.execute(sql.raw(`vacuum analyze ${ddl.split(" ")[0]}`));
    const built = performance.now() - t;
    const [size] = await query<{ size: string }>(
      database,
      sql`select pg_size_pretty(pg_relation_size(${name}::regclass)) as size`,
    );
    console.log(
      `${label} candidate index ${name} on ${ddl}: built in ${(built / 1000).toFixed(1)} s, ${size?.size}`,
    );
    for (const [what, range] of [
      ["October", month],
      ["Oct 1–7", week],
    ] as const) {
      const stats = await median(() => groupMetricsSql(database.db, range, "department"));
      console.log(
        `${label}   groupMetricsSql(${what}, "department") ${fmtMs(stats)}; plan: ${(await explain(database, range)).summary}`,
      );
    }
    await database.db.execute(sql.raw(`drop index ${name}`));
  }
}

const CANDIDATES: [string, string][] = [
  ["bench_whistles_created_cover", "whistles (created_at) include (id, street_id, status)"],
  // Key columns rather than INCLUDE: the form drizzle's index builder can declare.
  ["bench_dispatches_whistle_cover", "dispatches (whistle_id, id, department_id, deadline_at, reported_at)"],
];

/** EXPLAIN (ANALYZE, BUFFERS) of the department ranking: the lines and which indexes it uses. */
async function explain(
  database: Database,
  range: { from: Date; to: Date },
): Promise<{ lines: string[]; summary: string }> {
  const plan = await query<{ "QUERY PLAN": string }>(
    database,
    sql`explain (analyze, buffers) ${groupMetricsStatement(range, "department")}`,
  );
  const lines = plan.map((r) => r["QUERY PLAN"]);
  const used = new Set<string>();
  for (const line of lines) {
    const m = /(Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)/.exec(line);
    if (m) used.add(`${m[2]} (${m[1]})`);
  }
  const seqScans = new Set(lines.flatMap((l) => /Seq Scan on (\S+)/.exec(l)?.[1] ?? []));
  const ms = lines.flatMap((l) => /Execution Time: (\S+ ms)/.exec(l)?.[1] ?? []);
  return {
    lines,
    summary:
      `indexes used: ${used.size > 0 ? [...used].join(", ") : "none"}; ` +
      `seq scans: ${seqScans.size > 0 ? [...seqScans].join(", ") : "none"}; execution ${ms[0] ?? "?"}`,
  };
}

const ran = await withBenchPostgres("stats", { max: 4 }, async (database) => {
  await measure("postgres", database, Number(process.env.BENCH_WHISTLES ?? 200_000));
  return true;
});
if (ran === undefined)
  console.log("postgres: skipped (set BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)");
const pg = await openPglite();
await migrateDatabase(pg);
await measure("pglite  ", pg, Number(process.env.BENCH_PGLITE_WHISTLES ?? 20_000));
await pg.close();
