import { getTableName, is, sql } from "drizzle-orm";
import { PgTable } from "drizzle-orm/pg-core";
import postgres from "postgres";
import { inject } from "vitest";
import type { Database } from "../../src/db/database";
import { migrateDatabase } from "../../src/db/migrate";
import { openPglite } from "../../src/db/pglite";
import { openPostgres } from "../../src/db/postgres";
import * as schema from "../../src/db/schema";

/**
 * The database under test: one per test worker, shared by the files that worker runs.
 * PGlite in memory by default; with TEST_DATABASE_URL, a fresh database on that server named
 * after the run and the worker (dropped by the global teardown).
 */
let shared: Promise<TestDatabase> | undefined;

export interface TestDatabase extends Database {
  /** For Postgres: the URL of this worker's own database. */
  url?: string;
}

export function testDatabase(): Promise<TestDatabase> {
  shared ??= open();
  return shared;
}

async function open(): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    const database = await openPglite();
    await migrateDatabase(database);
    return database;
  }
  const name = `whistle_t_${inject("testRunId")}_${process.env.VITEST_POOL_ID ?? "0"}_${process.pid}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = withDatabase(serverUrl, name);
  const database = openPostgres(url, { max: 20 });
  await migrateDatabase(database, url);
  return { ...database, url };
}

/** The same server URL pointing at another database. */
export function withDatabase(serverUrl: string, name: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

const tableNames = (Object.values(schema) as unknown[])
  .filter((v): v is PgTable => is(v, PgTable))
  .map((t) => `"${getTableName(t)}"`);

/** Empty every table and restart identities: call in beforeEach. */
export async function resetDatabase(database: Database): Promise<void> {
  await database.db.execute(sql.raw(`truncate ${tableNames.join(", ")} restart identity cascade`));
}

/**
 * For tests that run the server as a process: with TEST_DATABASE_URL, a database of its own on
 * that server (created now, dropped by `drop`); without, `url` is undefined and the server uses PGlite.
 */
export async function throwawayDatabase(
  prefix: string,
): Promise<{ url: string | undefined; drop(): Promise<void> }> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) return { url: undefined, drop: async () => {} };
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  return {
    url: withDatabase(serverUrl, name),
    async drop() {
      const a = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists "${name}" with (force)`);
      await a.end();
    },
  };
}
