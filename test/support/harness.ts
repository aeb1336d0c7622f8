import { createLarkClient } from "../../src/bot/lark-client";
import type { Bot } from "../../src/bot/router";
import { LarkRuntime } from "../../src/bot/runtime";
import { loadConfig } from "../../src/config";
import { createApp } from "../../src/handlers/app";
import { createLogger, type Logger } from "../../src/log";
import {
  type FakeLark,
  type FakeLarkOptions,
  type PushTarget,
  startFakeLark,
} from "../../src/sandbox/fake-lark";
import { type TestDatabase, testDatabase } from "./db";

export const VERIFICATION_TOKEN = "vt-test-0123456789";
export const ENCRYPT_KEY = "ek-test-abcdefghij";

export interface Harness {
  t: TestDatabase;
  fake: FakeLark;
  runtime: LarkRuntime;
  app: ReturnType<typeof createApp>;
  /** Push target that reaches the app through app.request (no socket). */
  target: PushTarget;
  logs: Record<string, unknown>[];
  log: Logger;
  close(): Promise<void>;
}

export interface HarnessOptions {
  encryptKey?: string | null;
  bot?: Bot;
  fake?: FakeLarkOptions;
  clientTimeoutMs?: number;
  now?: () => Date;
}

/** The real app and runtime wired to a fake Lark and the worker's test database. */
export async function larkHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const t = await testDatabase();
  const fake = await startFakeLark(opts.fake);
  const encryptKey = opts.encryptKey === null ? undefined : (opts.encryptKey ?? ENCRYPT_KEY);
  const loaded = loadConfig({
    LARK_APP_ID: fake.appId,
    LARK_APP_SECRET: fake.appSecret,
    LARK_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
    LARK_ENCRYPT_KEY: encryptKey,
    LARK_DOMAIN: fake.url,
  });
  if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
  const logs: Record<string, unknown>[] = [];
  const log = createLogger({
    level: "debug",
    write: (l) => {
      logs.push(JSON.parse(l));
      // WHISTLE_TEST_LOGS=error (or warn …) prints those lines while debugging a test.
      if (process.env.WHISTLE_TEST_LOGS && l.includes(`"level":"${process.env.WHISTLE_TEST_LOGS}"`))
        console.error(l);
    },
  });
  const lark = createLarkClient({
    appId: fake.appId,
    appSecret: fake.appSecret,
    domain: fake.url,
    log,
    timeoutMs: opts.clientTimeoutMs,
  });
  const runtime = new LarkRuntime({
    db: t.db,
    lark,
    log,
    bot: opts.bot,
    now: opts.now,
    commitConcurrency: t.kind === "postgres" ? 4 : 1,
    transaction: t.sealableTransaction, // as src/server.ts
    handleBatch: t.kind === "postgres" ? 8 : 2,
  });
  await runtime.identify();
  const app = createApp({ database: t, config: loaded.config, log, lark: runtime });
  const target: PushTarget = {
    url: "http://whistle.test/lark/events",
    verificationToken: VERIFICATION_TOKEN,
    encryptKey,
    // As a person sees it: what they sent has been handled once Lark has its answer (the handlers
    // of acknowledged events run right after the ack; tests of the ack itself use the pipeline).
    fetch: async (url, init) => {
      const res = await app.request(url, init);
      await runtime.inbound.idle();
      return res;
    },
  };
  return {
    t,
    fake,
    runtime,
    app,
    target,
    logs,
    log,
    async close() {
      await runtime.settle();
      await fake.close();
    },
  };
}

/** The environment that points a real server process at a fake Lark (webhook mode, encrypted). */
export function larkEnv(fake: FakeLark): Record<string, string> {
  return {
    LARK_APP_ID: fake.appId,
    LARK_APP_SECRET: fake.appSecret,
    LARK_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
    LARK_ENCRYPT_KEY: ENCRYPT_KEY,
    LARK_DOMAIN: fake.url,
  };
}
