/**
 * Open the configured database the way every Node entry does (the server, the directory CLI):
 * Postgres when DATABASE_URL is set, otherwise embedded PGlite in DATA_DIR/pglite; migrated.
 * Node-only (file system).
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import type { Config } from "../config";
import type { Database } from "./database";
import { migrateDatabase } from "./migrate";
import { openPglite } from "./pglite";
import { openPostgres } from "./postgres";

export async function openConfiguredDatabase(
  config: Config,
  opts: { poolSize?: number } = {},
): Promise<Database> {
  if (config.databaseUrl) {
    const database = openPostgres(config.databaseUrl, {
      max: opts.poolSize,
      prepare: config.databasePrepare,
    });
    await migrateDatabase(database, config.databaseUrl);
    return database;
  }
  const dir = resolve(config.dataDir, "pglite");
  mkdirSync(dir, { recursive: true });
  const database = await openPglite(dir);
  await migrateDatabase(database);
  return database;
}

/** The one-line reason a database could not be opened, naming the variable to look at. */
export function openFailure(config: Config, err: unknown): string {
  const where = config.databaseUrl ? "DATABASE_URL" : `DATA_DIR (${config.dataDir})`;
  return `database: cannot open or migrate ${where}: ${err instanceof Error ? err.message : String(err)}`;
}
