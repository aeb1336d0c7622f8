import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../src/db/database";
import { openPglite } from "../src/db/pglite";
import { openPostgres } from "../src/db/postgres";
import { type FakeLark, type PushTarget, startFakeLark } from "../src/sandbox/fake-lark";
import { cardText } from "./support/cards";
import { throwawayDatabase } from "./support/db";
import { ENCRYPT_KEY, larkEnv, VERIFICATION_TOKEN } from "./support/harness";
import { freePort, runServer, type ServerProcess, waitForHealth } from "./support/server-process";

/**
 * The deadline passes while the server is down (killed -9, the clock moved on); on restart the
 * sweep escalates exactly once, and further sweeps add nothing.
 */
const ADMIN = "ou_admin0000000000000000000000000a";
const OFFICIAL = "ou_official000000000000000000000b";
const CRON_SECRET = "restart-test-cron-secret-0123456789";
let fake: FakeLark;
let dataDir: string;
let databaseUrl: string | undefined;
let throwaway: Awaited<ReturnType<typeof throwawayDatabase>>;
let server: ServerProcess | undefined;
let port: number;

beforeAll(async () => {
  fake = await startFakeLark();
  dataDir = mkdtempSync(join(tmpdir(), "whistle-deadline-"));
  port = await freePort();
  throwaway = await throwawayDatabase("whistle_dl");
  databaseUrl = throwaway.url;
});
afterAll(async () => {
  await server?.stop("SIGKILL");
  await fake.close();
  rmSync(dataDir, { recursive: true, force: true });
  await throwaway.drop();
});

async function start() {
  const env: Record<string, string> = {
    PORT: String(port),
    DATA_DIR: dataDir,
    ...larkEnv(fake),
    WHISTLE_ADMINS: ADMIN,
    CRON_SECRET,
  };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  server = runServer(env);
  await waitForHealth(server);
  return server;
}

const target = (): PushTarget => ({
  url: `http://127.0.0.1:${port}/lark/events`,
  verificationToken: VERIFICATION_TOKEN,
  encryptKey: ENCRYPT_KEY,
});

async function until(cond: () => boolean, ms: number, what: string) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${server?.output().slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function say(chatId: string, who: string, text: string) {
  const r = await fake.push.message(target(), { chatId, senderOpenId: who, text });
  expect(r.status).toBe(200);
  await until(
    () => fake.messages(chatId).some((m) => m.parent_id === r.messageId),
    10_000,
    `a reply to ${text}`,
  );
}

/** Move the deadline into the past while the server is down: the time it would have taken. */
async function letDeadlinePass() {
  const database: Database = databaseUrl
    ? openPostgres(databaseUrl, { max: 1 })
    : await openPglite(join(dataDir, "pglite"));
  try {
    await database.db.execute(
      sql`update dispatches set deadline_at = now() - interval '2 minutes', next_check_at = now() - interval '2 minutes'`,
    );
    await database.db.execute(sql`update whistles set deadline_at = now() - interval '2 minutes'`);
  } finally {
    await database.close();
  }
}

const escalations = () =>
  fake.messages("oc_ov").filter((m) => m.sender === "bot" && cardText(m.content).includes("🚨 督办"));

describe(`restart after a missed deadline (${process.env.TEST_DATABASE_URL ? "postgres" : "pglite"})`, () => {
  it("escalates exactly once", async () => {
    await start();
    fake.addChat("oc_street", { name: "街道", members: [ADMIN, OFFICIAL] });
    await say("oc_street", ADMIN, "/绑定 街乡 朝阳门街道");
    await say("oc_cg", ADMIN, "/绑定 部门 城管执法队");
    await say("oc_ov", ADMIN, "/绑定 督办 东城区接诉即办中心");
    await say("oc_street", OFFICIAL, "/吹哨 执法 城管执法队 东直门内大街12号门前占道经营");
    await until(
      () => fake.messages("oc_cg").some((m) => m.msg_type === "interactive"),
      10_000,
      "the department card",
    );

    await server?.stop("SIGKILL");
    await letDeadlinePass();
    expect(escalations()).toHaveLength(0);

    await start(); // sweeps at start
    await until(() => escalations().length === 1, 20_000, "the escalation");
    // More sweeps (the external scheduler's, too) find nothing left to do.
    const res = await fetch(`http://127.0.0.1:${port}/tasks/sweep`, {
      method: "POST",
      headers: { authorization: `Bearer ${CRON_SECRET}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ok: boolean; deadlines: { overdue: number } };
    expect(body).toMatchObject({ ok: true, deadlines: { overdue: 0 } });
    const bad = await fetch(`http://127.0.0.1:${port}/tasks/sweep`, {
      method: "POST",
      headers: { authorization: "Bearer wrong" },
    });
    expect(bad.status).toBe(401);
    await new Promise((r) => setTimeout(r, 1000));
    expect(escalations()).toHaveLength(1);
    expect(cardText(escalations()[0]?.content)).toContain("城管执法队");
  }, 90_000);
});
