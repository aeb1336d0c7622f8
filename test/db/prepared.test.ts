import { eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeRows } from "../../src/db/database";
import { openPostgres, preparing } from "../../src/db/postgres";
import { units } from "../../src/db/schema";
import { type TestDatabase, testDatabase } from "../support/db";

// Named statements are a postgres.js matter: PGlite has no connection pool to cache them on.
describe.runIf(process.env.TEST_DATABASE_URL)("prepared statements on Postgres", () => {
  let t: TestDatabase;
  const closers: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    t = await testDatabase();
  });
  afterAll(async () => {
    for (const close of closers) await close();
  });

  /** The statements prepared on the connection of a transaction, after running `run` in it. */
  async function preparedAfter(
    db: ReturnType<typeof openPostgres>["db"],
    run: (tx: Parameters<Parameters<typeof db.transaction>[0]>[0]) => Promise<unknown>,
  ) {
    return db.transaction(async (tx) => {
      await run(tx);
      const rows = await executeRows<{ statement: string }>(
        tx,
        sql`select statement from pg_prepared_statements where statement like '%units%'`,
      );
      return rows.map((r) => r.statement);
    });
  }

  const byId = (id: number) => (tx: { select: typeof t.db.select }) =>
    tx.select({ id: units.id }).from(units).where(eq(units.id, id));

  it("prepares the app's statements once per connection, in and out of transactions", async () => {
    const database = openPostgres(t.url as string, { max: 1 });
    closers.push(() => database.close());
    await byId(1)(database.db);
    const seen = await preparedAfter(database.db, (tx) => byId(2)(tx));
    expect(seen.filter((s) => s.includes('from "units" where "units"."id" = $1'))).toHaveLength(1);
  });

  it("prepares nothing when told not to (Workers: one connection per request)", async () => {
    const database = openPostgres(t.url as string, { max: 1, prepare: false });
    closers.push(() => database.close());
    expect(await preparedAfter(database.db, (tx) => byId(1)(tx))).toEqual([]);
  });

  it("prepares only the first distinct texts up to the bound; the rest run unnamed", async () => {
    const client = postgres(t.url as string, { max: 1, onnotice: () => {} });
    closers.push(() => client.end({ timeout: 5 }));
    const db = drizzle(preparing(client, { seen: new Set(), max: 1 }));
    const seen = await preparedAfter(db as never, async (tx) => {
      await byId(1)(tx);
      await tx.select({ name: units.name }).from(units).where(eq(units.id, 1));
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toContain('select "id" from "units"');
  });
});
