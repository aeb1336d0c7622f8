import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import type { Database, Db } from "./database";
import * as schema from "./schema";

/**
 * Open embedded Postgres (PGlite). `dataDir` keeps the files between runs; undefined = in memory.
 * Node-only in practice (it persists to the file system); only the Node entry and tests import it.
 */
export async function openPglite(dataDir?: string): Promise<Database> {
  const client = await PGlite.create(dataDir);
  const db = drizzle(client, { schema }) as unknown as Db;
  return {
    db,
    kind: "pglite",
    async ping() {
      await client.query("select 1");
    },
    async close() {
      if (!client.closed) await client.close();
    },
  };
}
