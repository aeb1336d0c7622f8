/**
 * bench/sweep: one deadline sweep over a big backlog of open dispatches of which a fixed number is
 * due, to show its cost follows the due items, not the open ones. For each size (10k, 30k, 100k open
 * dispatches, 1k of them due — just past their deadline, so each is marked overdue, its whistle's
 * cards re-rendered and 督办 told), it reports the sweep's time next to a same-run baseline: the
 * index-only count of the due rows. Postgres when BENCH_DATABASE_URL is set (the target: < 1 s at
 * 100k open); PGlite otherwise, at smaller sizes.
 */
import { sql } from "drizzle-orm";
import { sweepDeadlines } from "../src/bot/sweep";
import type { Database } from "../src/db/database";
import { migrateDatabase } from "../src/db/migrate";
import { openPglite } from "../src/db/pglite";
import { silentLogger } from "../src/log";
import { withBenchPostgres } from "./support";

const DUE = Number(process.env.BENCH_DUE ?? 1000);
const PER_WHISTLE = 5;

async function seed(database: Database, open: number, due: number) {
  const { db } = database;
  await db.execute(
    sql`truncate units, whistles, dispatches, outbox, timeline, chat_bindings restart identity cascade`,
  );
  await db.execute(
    sql`insert into units (kind, name, name_key) values ('street', '朝阳门街道', '朝阳门街道'), ('oversight', '督办', '督办')`,
  );
  await db.execute(sql`
    insert into units (kind, name, name_key)
    select 'department', '部门' || g, 'bm' || g from generate_series(1, 20) g`);
  await db.execute(sql`
    insert into chat_bindings (chat_id, unit_id, role, is_card_group)
    select 'oc_dept_' || id, id, 'department', true from units where kind = 'department'`);
  await db.execute(
    sql`insert into chat_bindings (chat_id, unit_id, role) values ('oc_street', 1, 'street'), ('oc_ov', 2, 'oversight')`,
  );
  const whistlesN = Math.ceil(open / PER_WHISTLE);
  const dueWhistles = Math.ceil(due / PER_WHISTLE);
  // Whistles 1..dueWhistles were whistled 31 minutes ago (deadline just passed); the rest just now.
  await db.execute(sql`
    insert into whistles (code, type, matter, street_id, street_chat_id, whistler_open_id, limit_minutes, source, created_at, deadline_at)
    select 'W' || g, 'enforcement', '第' || g || '处占道经营', 1, 'oc_street', 'ou_official', 30, 'command',
      case when g <= ${dueWhistles} then now() - interval '31 minutes' else now() end,
      case when g <= ${dueWhistles} then now() - interval '1 minute' else now() + interval '30 minutes' end
    from generate_series(1, ${whistlesN}) g`);
  await db.execute(sql`
    insert into dispatches (whistle_id, department_id, chat_id, card_message_id, deadline_at, next_check_at, created_at)
    select w.id, 3 + d, 'oc_dept_' || (3 + d), 'om_' || w.id || '_' || d, w.deadline_at,
      case when w.id <= ${dueWhistles} then w.deadline_at else now() + interval '20 minutes' end, w.created_at
    from whistles w cross join generate_series(0, ${PER_WHISTLE - 1}) d`);
  await db.execute(sql`update whistles set summary_message_id = 'om_summary_' || id`);
  await db.execute(sql`analyze`);
}

async function countDue(database: Database): Promise<{ ms: number; n: number }> {
  const t = performance.now();
  const r = (await database.db.execute(
    sql`select count(*)::int as n from dispatches where next_check_at <= now()`,
  )) as unknown as { rows: { n: number }[] } | { n: number }[];
  const rows = Array.isArray(r) ? r : r.rows;
  return { ms: performance.now() - t, n: rows[0]?.n ?? 0 };
}

async function measure(label: string, database: Database, sizes: number[]) {
  // Warm up (JIT, plan caches) on a small backlog first; not reported.
  await seed(database, 2_000, 200);
  await sweepDeadlines(new Date(), { db: database.db, log: silentLogger, tz: "Asia/Shanghai", chunk: 500 });
  for (const open of sizes) {
    await seed(database, open, DUE);
    const base = await countDue(database);
    const t = performance.now();
    const report = await sweepDeadlines(new Date(), {
      db: database.db,
      log: silentLogger,
      tz: "Asia/Shanghai",
      chunk: 500,
    });
    const ms = performance.now() - t;
    const again = performance.now();
    const second = await sweepDeadlines(new Date(), {
      db: database.db,
      log: silentLogger,
      tz: "Asia/Shanghai",
      chunk: 500,
    });
    const againMs = performance.now() - again;
    if (report.overdue !== base.n || second.overdue !== 0) {
      throw new Error(
        `${label}: expected ${base.n} overdue then 0, got ${report.overdue} then ${second.overdue}`,
      );
    }
    console.log(
      `${label} open=${String(open).padStart(6)} due=${base.n}: sweep ${ms.toFixed(0)} ms (${report.outbox} outbox rows); ` +
        `second sweep ${againMs.toFixed(1)} ms; baseline count(due) ${base.ms.toFixed(1)} ms` +
        (label.startsWith("postgres") && open >= 100_000
          ? ` — target < 1000 ms: ${ms < 1000 ? "MET" : "MISSED"}`
          : ""),
    );
  }
}

const ran = await withBenchPostgres("sweep", { max: 4 }, async (database) => {
  await measure("postgres", database, [10_000, 30_000, 100_000]);
  return true;
});
if (ran === undefined)
  console.log("postgres: skipped (set BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)");
const pg = await openPglite();
await migrateDatabase(pg);
await measure("pglite  ", pg, [10_000, 30_000]);
await pg.close();
