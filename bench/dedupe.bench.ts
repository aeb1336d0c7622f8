/**
 * bench/dedupe: the cost of the inbound dedupe insert (unique insert on event_id, ON CONFLICT DO
 * NOTHING) that every Lark event pays, against a plain `select 1` on the same database in the same
 * run. PGlite always; Postgres when BENCH_DATABASE_URL is set (a throwaway database is created).
 */
import { sql } from "drizzle-orm";
import type { Database } from "../src/db/database";
import { migrateDatabase } from "../src/db/migrate";
import { openPglite } from "../src/db/pglite";
import { inboundEvents } from "../src/db/schema";
import { drive, fmt, withBenchPostgres } from "./support";

const N = Number(process.env.BENCH_N ?? 5000);
const CONCURRENCY = 50;

async function measure(label: string, database: Database) {
  const { db } = database;
  await drive(200, CONCURRENCY, async () => void (await db.execute(sql`select 1`))); // warm-up
  const baseline = await drive(N, CONCURRENCY, async () => void (await db.execute(sql`select 1`)));
  const insert = await drive(N, CONCURRENCY, async (i) => {
    await db
      .insert(inboundEvents)
      .values({ eventId: `bench-${Date.now()}-${i}`, eventType: "bench", payload: {} })
      .onConflictDoNothing();
  });
  const dup = await drive(N, CONCURRENCY, async (i) => {
    await db
      .insert(inboundEvents)
      .values({ eventId: `dup-${i % 10}`, eventType: "bench", payload: {} })
      .onConflictDoNothing();
  });
  console.log(`${label} select 1 (baseline):  ${fmt(baseline)}`);
  console.log(
    `${label} dedupe insert (new):  ${fmt(insert)}  → ${(insert.perSecond / baseline.perSecond).toFixed(2)}× baseline`,
  );
  console.log(
    `${label} dedupe insert (dup):  ${fmt(dup)}  → ${(dup.perSecond / baseline.perSecond).toFixed(2)}× baseline`,
  );
}

const pg = await openPglite();
await migrateDatabase(pg);
await measure("pglite  ", pg);
await pg.close();

const ran = await withBenchPostgres("dedupe", { max: 20 }, async (database) => {
  await measure("postgres", database);
  return true;
});
if (ran === undefined) {
  console.log(
    "postgres: skipped (set BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to include it)",
  );
}
