import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { migrateDatabase, migrationsFolder } from "../../src/db/migrate";
import { type TestDatabase, testDatabase } from "../support/db";

let t: TestDatabase;
beforeAll(async () => {
  t = await testDatabase();
});

async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  const r = (await t.db.execute(query)) as unknown as { rows?: T[] } | T[];
  return Array.isArray(r) ? r : (r.rows ?? []);
}

const expectedTables = [
  "admins",
  "chat_bindings",
  "chat_member_syncs",
  "chat_members",
  "dispatches",
  "duty_contacts",
  "force_sets",
  "inbound_events",
  "job_runs",
  "outbox",
  "people",
  "progress_notes",
  "ratings",
  "report_ins",
  "timeline",
  "type_policies",
  "unit_aliases",
  "units",
  "whistle_code_counters",
  "whistles",
];

describe(`migrations (${process.env.TEST_DATABASE_URL ? "postgres" : "pglite"})`, () => {
  it("create every table of the data model", async () => {
    const found = await rows<{ table_name: string }>(
      sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    expect(found.map((r) => r.table_name)).toEqual(expectedTables);
  });

  it("record every migration file as applied", async () => {
    const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta", "_journal.json"), "utf8")) as {
      entries: unknown[];
    };
    const sqlFiles = readdirSync(migrationsFolder).filter((f) => f.endsWith(".sql"));
    expect(journal.entries).toHaveLength(sqlFiles.length);
    const applied = await rows<{ n: number | string }>(
      sql`select count(*) as n from drizzle.__drizzle_migrations`,
    );
    expect(Number(applied[0]?.n)).toBe(sqlFiles.length);
  });

  it("are idempotent: running them again changes nothing", async () => {
    await migrateDatabase(t, t.url);
    const applied = await rows<{ n: number | string }>(
      sql`select count(*) as n from drizzle.__drizzle_migrations`,
    );
    expect(Number(applied[0]?.n)).toBe(
      readdirSync(migrationsFolder).filter((f) => f.endsWith(".sql")).length,
    );
  });

  it("index the hot paths", async () => {
    const idx = await rows<{ indexname: string }>(
      sql`select indexname from pg_indexes where schemaname = 'public'`,
    );
    const names = idx.map((r) => r.indexname);
    for (const name of [
      "dispatches_next_check",
      "dispatches_open_deadline",
      "dispatches_department_created",
      "whistles_street_created",
      "outbox_due",
      "inbound_events_event_id_key",
    ]) {
      expect(names).toContain(name);
    }
  });
});
