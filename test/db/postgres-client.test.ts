import { eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeRows } from "../../src/db/database";
import { openPostgres } from "../../src/db/postgres";
import { tunedClient } from "../../src/db/postgres-client";
import { units } from "../../src/db/schema";
import { type TestDatabase, testDatabase } from "../support/db";

// A postgres.js matter: PGlite has no connections to cache statements on, and its own transactions.
describe.runIf(process.env.TEST_DATABASE_URL)(
  "the postgres.js client: prepared statements, transactions",
  () => {
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
      const db = drizzle(tunedClient(client, { prepare: true, prepared: { seen: new Set(), max: 1 } }));
      const seen = await preparedAfter(db as never, async (tx) => {
        await byId(1)(tx);
        await tx.select({ name: units.name }).from(units).where(eq(units.id, 1));
      });
      expect(seen).toHaveLength(1);
      expect(seen[0]).toContain('select "id" from "units"');
    });

    describe("transactions (BEGIN sent with the first statements)", () => {
      const names = async (db: ReturnType<typeof openPostgres>["db"]) =>
        (await db.select({ name: units.name }).from(units).where(eq(units.kind, "oversight"))).map(
          (r) => r.name,
        );

      it("commits what the callback wrote, and returns its result", async () => {
        const database = openPostgres(t.url as string, { max: 2 });
        closers.push(() => database.close());
        const r = await database.db.transaction(async (tx) => {
          await tx.insert(units).values({ kind: "oversight", name: "督办组甲", nameKey: "督办组甲" });
          return "written";
        });
        expect(r).toBe("written");
        expect(await names(database.db)).toContain("督办组甲");
      });

      it("runs the callback's statements inside the transaction", async () => {
        const database = openPostgres(t.url as string, { max: 1 });
        closers.push(() => database.close());
        const xids = await database.db.transaction(async (tx) => {
          const read = () => executeRows<{ x: string }>(tx, sql`select txid_current()::text as x`);
          return [...(await read()), ...(await read())].map((r) => r.x);
        });
        expect(new Set(xids).size).toBe(1);
      });

      it("rolls back when the callback throws, and passes its error on", async () => {
        const database = openPostgres(t.url as string, { max: 1 });
        closers.push(() => database.close());
        await expect(
          database.db.transaction(async (tx) => {
            await tx.insert(units).values({ kind: "oversight", name: "督办组乙", nameKey: "督办组乙" });
            throw new Error("handler bug");
          }),
        ).rejects.toThrow("handler bug");
        expect(await names(database.db)).not.toContain("督办组乙");
        // The connection is usable again, outside any transaction.
        expect(await database.db.transaction(async () => 1)).toBe(1);
      });

      it("fails when a statement failed even if the callback swallowed the error", async () => {
        const database = openPostgres(t.url as string, { max: 1 });
        closers.push(() => database.close());
        await expect(
          database.db.transaction(async (tx) => {
            await tx.insert(units).values({ kind: "oversight", name: "督办组丙", nameKey: "督办组丙" });
            await tx.execute(sql`select 1 / 0`).catch(() => {});
          }),
        ).rejects.toThrow(/ROLLBACK/);
        expect(await names(database.db)).not.toContain("督办组丙");
      });
    });
  },
);
