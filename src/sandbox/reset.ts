/**
 * "Reset demo": empty every product table. Sandbox-only (the page's 重置演示 button); the product
 * never deletes its data this way. The directory is then imported again, as on a first start.
 */
import { getTableName, is, sql } from "drizzle-orm";
import { PgTable } from "drizzle-orm/pg-core";
import type { Db } from "../db/database";
import * as schema from "../db/schema";

const tableNames = (Object.values(schema) as unknown[])
  .filter((v): v is PgTable => is(v, PgTable))
  .map((t) => `"${getTableName(t)}"`);

export async function emptyProductTables(db: Db): Promise<void> {
  await db.execute(sql.raw(`truncate ${tableNames.join(", ")} restart identity cascade`));
}
