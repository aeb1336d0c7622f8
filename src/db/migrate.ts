import { fileURLToPath } from "node:url";
import type { PgliteDatabase } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import type { Database } from "./database";

/** The drizzle-kit output folder, next to src/. Node-only: the migrator reads it from disk. */
export const migrationsFolder = fileURLToPath(new URL("../../drizzle", import.meta.url));

/** An arbitrary constant: the advisory lock that keeps two starting instances from migrating at once. */
const MIGRATION_LOCK = 72_641_127;

/** Apply pending migrations to a Postgres server, serialised across processes by an advisory lock. */
export async function migratePostgresUrl(url: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK})`;
    try {
      await migratePostgres(drizzlePostgres(client), { migrationsFolder });
    } finally {
      await client`select pg_advisory_unlock(${MIGRATION_LOCK})`;
    }
  } finally {
    await client.end({ timeout: 5 });
  }
}

/**
 * Bring an open database up to the latest migration. PGlite is one process by construction;
 * Postgres goes through `url` on a dedicated connection that holds the advisory lock.
 */
export async function migrateDatabase(database: Database, url?: string): Promise<void> {
  if (database.kind === "pglite") {
    await migratePglite(database.db as unknown as PgliteDatabase, { migrationsFolder });
    return;
  }
  if (!url) throw new Error("migrateDatabase: a Postgres database needs its URL to migrate");
  await migratePostgresUrl(url);
}
