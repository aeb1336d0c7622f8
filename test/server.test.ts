import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { withDatabase } from "./support/db";
import { freePort, runServer, waitForHealth } from "./support/server-process";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir() {
  const d = mkdtempSync(join(tmpdir(), "whistle-server-"));
  dirs.push(d);
  return d;
}

describe("the Node server process (npm start)", () => {
  it("starts with no variables on embedded PGlite in sandbox mode, and stops cleanly on SIGTERM", async () => {
    const dataDir = tempDir();
    const s = runServer({ PORT: String(await freePort()), DATA_DIR: dataDir });
    const res = await waitForHealth(s);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, db: "pglite", mode: "sandbox" });
    expect(await s.stop("SIGTERM")).toBe(0);
    expect(s.output()).toContain('"msg":"stopped"');

    // The data survives a restart (migrations already applied, nothing to redo).
    const again = runServer({ PORT: String(await freePort()), DATA_DIR: dataDir });
    expect((await waitForHealth(again)).status).toBe(200);
    expect(await again.stop("SIGINT")).toBe(0);
  }, 60_000);

  it("refuses to start when LARK_APP_ID is set without LARK_APP_SECRET, naming the variable", async () => {
    const s = runServer({
      PORT: String(await freePort()),
      DATA_DIR: tempDir(),
      LARK_APP_ID: "cli_a1b2c3d4e5f60718",
    });
    const code = await s.exited;
    expect(code).not.toBe(0);
    expect(s.output()).toContain("LARK_APP_SECRET is required when LARK_APP_ID is set");
  }, 30_000);

  it.runIf(process.env.TEST_DATABASE_URL)(
    "with DATABASE_URL reports postgres and migrates the schema",
    async () => {
      const serverUrl = process.env.TEST_DATABASE_URL as string;
      const name = `whistle_srv_${process.pid}_${Date.now().toString(36)}`;
      const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await admin.unsafe(`create database "${name}"`);
      try {
        const url = withDatabase(serverUrl, name);
        const s = runServer({ PORT: String(await freePort()), DATABASE_URL: url });
        const res = await waitForHealth(s);
        expect(await res.json()).toEqual({ ok: true, db: "postgres", mode: "sandbox" });
        expect(await s.stop()).toBe(0);
        const db = postgres(url, { max: 1, onnotice: () => {} });
        const tables =
          await db`select count(*)::int as n from information_schema.tables where table_schema = 'public'`;
        await db.end();
        expect(tables[0]?.n).toBe(20);
      } finally {
        await admin.unsafe(`drop database if exists "${name}" with (force)`);
        await admin.end();
      }
    },
    60_000,
  );
});
