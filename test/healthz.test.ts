import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";
import type { Database } from "../src/db/database";
import { createApp } from "../src/handlers/app";
import { createLogger, silentLogger } from "../src/log";
import { type TestDatabase, testDatabase } from "./support/db";

function sandboxConfig() {
  const r = loadConfig({});
  if (!r.ok) throw new Error("default config must load");
  return r.config;
}

let t: TestDatabase;
beforeAll(async () => {
  t = await testDatabase();
});

describe("GET /healthz", () => {
  it("answers 200 with the database kind and mode", async () => {
    const app = createApp({ database: t, config: sandboxConfig(), log: silentLogger });
    const res = await app.request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, db: t.kind, mode: "sandbox" });
  });

  it("answers 503 when the database does not answer", async () => {
    const broken: Database = { ...t, ping: () => Promise.reject(new Error("connection refused")) };
    const app = createApp({ database: broken, config: sandboxConfig(), log: silentLogger });
    const res = await app.request("/healthz");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ok: false, error: "database unavailable" });
  });

  it("logs one JSON line per request", async () => {
    const lines: string[] = [];
    const app = createApp({
      database: t,
      config: sandboxConfig(),
      log: createLogger({ write: (l) => lines.push(l) }),
    });
    await app.request("/healthz");
    await app.request("/nowhere");
    const records = lines.map((l) => JSON.parse(l));
    expect(records.filter((r) => r.msg === "request").map((r) => [r.path, r.status])).toEqual([
      ["/healthz", 200],
      ["/nowhere", 404],
    ]);
  });
});

describe("logger", () => {
  it("never writes secret-looking fields", () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) }).child({ app_secret: "x" });
    log.info("call", {
      tenant_access_token: "t-abc",
      encrypt: "base64…",
      Authorization: "Bearer t",
      whistle: "W20261127-001",
    });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ msg: "call", whistle: "W20261127-001" });
    expect(lines[0]).not.toMatch(/t-abc|base64|Bearer|app_secret/);
  });
});
