import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeLark, startFakeLark } from "../src/sandbox/fake-lark";
import { throwawayDatabase } from "./support/db";
import { ENCRYPT_KEY, larkEnv, VERIFICATION_TOKEN } from "./support/harness";
import { freePort, runServer, type ServerProcess, waitForHealth } from "./support/server-process";

/**
 * Kill -9 the real server after it committed an outbox row and Lark stored the message, but before
 * the server learnt so; restart it on the same database: the message is delivered once.
 */
let fake: FakeLark;
let dataDir: string;
let databaseUrl: string | undefined;
let throwaway: Awaited<ReturnType<typeof throwawayDatabase>>;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  fake = await startFakeLark();
  dataDir = mkdtempSync(join(tmpdir(), "whistle-restart-"));
  throwaway = await throwawayDatabase("whistle_restart");
  databaseUrl = throwaway.url;
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop("SIGKILL");
});
afterAll(async () => {
  await fake.close();
  rmSync(dataDir, { recursive: true, force: true });
  await throwaway.drop();
});

async function start(port: number) {
  const env: Record<string, string> = {
    PORT: String(port),
    DATA_DIR: dataDir,
    ...larkEnv(fake),
  };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const s = runServer(env);
  servers.push(s);
  expect((await waitForHealth(s)).status).toBe(200);
  return s;
}

async function until(cond: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const replyCalls = () => fake.calls.filter((c) => c.method === "POST" && c.path.endsWith("/reply"));

describe(`crash between commit and delivery (${process.env.TEST_DATABASE_URL ? "postgres" : "pglite"})`, () => {
  it("delivers the pending reply exactly once after a restart", async () => {
    const port = await freePort();
    const first = await start(port);
    // Lark will store the reply and then never answer: the server cannot know it was delivered.
    fake.faults.timeoutMs = 60_000;
    fake.faults.failNext(1, "timeout-after-commit", /\/reply$/);
    const target = {
      url: `http://127.0.0.1:${port}/lark/events`,
      verificationToken: VERIFICATION_TOKEN,
      encryptKey: ENCRYPT_KEY,
    };
    const pushed = await fake.push.message(target, {
      chatId: "oc_street",
      senderOpenId: "ou_alice",
      text: "/帮助",
    });
    expect(pushed.status).toBe(200);
    await until(() => replyCalls().length === 1, 10_000, "the first reply attempt");
    await first.stop("SIGKILL");
    const stored = fake.messages("oc_street").filter((m) => m.sender === "bot");
    expect(stored).toHaveLength(1); // Lark has it; the dead server never heard back

    await start(port);
    // The claim of the killed process expires (lease), the new one retries with the same uuid.
    await until(() => replyCalls().some((c) => c.status === 200), 45_000, "the retried reply");
    await new Promise((r) => setTimeout(r, 1500));
    const after = fake.messages("oc_street").filter((m) => m.sender === "bot");
    expect(after).toHaveLength(1);
    expect(after[0]?.parent_id).toBe(pushed.messageId);
    const retried = replyCalls().filter((c) => c.status === 200);
    expect(retried).toHaveLength(1);
    expect((retried[0]?.body as { uuid?: string } | undefined)?.uuid).toBe(stored[0]?.uuid);
  }, 90_000);
});
