import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker, { type Env } from "../src/worker";

/**
 * src/worker.ts without workerd: a missing Hyperdrive binding or a bad variable is a clear 500 with
 * one line per problem (and the same lines in the log), never an exception; the cron logs and returns.
 * The real run on workerd is test/worker/worker-smoke.test.ts (`npm run test:worker`).
 */
const goodVars = {
  LARK_APP_ID: "cli_a1b2c3d4e5f60718",
  LARK_APP_SECRET: "secret",
  LARK_VERIFICATION_TOKEN: "vt-test-0123456789",
  LARK_DOMAIN: "http://127.0.0.1:9",
};

let lines: string[];
let pending: Promise<unknown>[];
/** The messages of the JSON log lines written so far. */
const logged = () => lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
const ctx = { waitUntil: (p: Promise<unknown>) => void pending.push(p) };

beforeEach(() => {
  lines = [];
  pending = [];
  vi.spyOn(console, "log").mockImplementation((line: unknown) => void lines.push(String(line)));
});
afterEach(async () => {
  await Promise.all(pending);
  vi.restoreAllMocks();
});

async function problemsFor(env: Env): Promise<string[]> {
  const res = await worker.fetch(new Request("http://whistle.test/healthz"), env, ctx);
  expect(res.status).toBe(500);
  const body = (await res.json()) as { ok: boolean; error: string; problems: string[] };
  expect(body).toMatchObject({ ok: false, error: "configuration" });
  for (const p of body.problems) expect(logged()).toContain(`config: ${p}`);
  return body.problems;
}

describe("the Workers entry refuses a bad configuration clearly", () => {
  it("names the missing Hyperdrive binding (no PGlite on Workers)", async () => {
    const problems = await problemsFor({ ...goodVars });
    expect(problems).toEqual([expect.stringContaining("HYPERDRIVE binding is missing")]);
  });

  it("reports every bad variable with the same loader as the Node server", async () => {
    const problems = await problemsFor({
      HYPERDRIVE: { connectionString: "postgres://u:p@127.0.0.1:1/db" },
      LARK_APP_ID: "cli_a1b2c3d4e5f60718",
      LARK_DOMAIN: "ftp://nope",
      CRON_SECRET: "short",
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining("LARK_DOMAIN"),
        expect.stringContaining("CRON_SECRET must be at least 16 characters"),
        expect.stringContaining("LARK_APP_SECRET is required"),
        expect.stringContaining("LARK_VERIFICATION_TOKEN is required"),
      ]),
    );
  });

  it("refuses sandbox mode and the long connection, which need the Node server", async () => {
    const hyperdrive = { connectionString: "postgres://u:p@127.0.0.1:1/db" };
    expect(await problemsFor({ HYPERDRIVE: hyperdrive })).toEqual([
      expect.stringContaining("LARK_APP_ID is required on Workers"),
    ]);
    expect(await problemsFor({ HYPERDRIVE: hyperdrive, ...goodVars, LARK_MODE: "ws" })).toEqual([
      expect.stringContaining("LARK_MODE=ws"),
    ]);
  });

  it("logs and returns from the cron instead of throwing", async () => {
    await expect(worker.scheduled({ cron: "* * * * *", scheduledTime: Date.now() }, {}, ctx)).resolves.toBe(
      undefined,
    );
    expect(logged().some((m) => m.startsWith("config: HYPERDRIVE binding is missing"))).toBe(true);
  });

  it("answers 503 on /healthz when the database behind the binding does not answer", async () => {
    const env = { ...goodVars, HYPERDRIVE: { connectionString: "postgres://u:p@127.0.0.1:1/db" } };
    const res = await worker.fetch(new Request("http://whistle.test/healthz"), env, ctx);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ok: false, db: "postgres", error: "database unavailable" });
  });
});
