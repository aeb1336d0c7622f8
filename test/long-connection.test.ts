/**
 * LARK_MODE=ws: the SDK's WSClient, connected to the fake's long-connection endpoint, feeds the same
 * router and pipeline as the webhook (dedupe, outbox, card-callback answers in the ACK).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLarkClient } from "../src/bot/lark-client";
import { LarkRuntime } from "../src/bot/runtime";
import { createWhistleBot } from "../src/bot/whistle-bot";
import { loadConfig } from "../src/config";
import { createApp } from "../src/handlers/app";
import { type LongConnection, startLongConnection } from "../src/handlers/long-connection";
import { createLogger, type Logger } from "../src/log";
import { type FakeLark, type StoredMessage, startFakeLark } from "../src/sandbox/fake-lark";
import { resetDatabase, type TestDatabase, testDatabase } from "./support/db";
import { freePort, runServer, waitForHealth } from "./support/server-process";

const ALICE = "ou_alice000000000000000000000000000";
const ROOM = "oc_room0000000000000000000000000000";

const botReplies = (fake: FakeLark, chatId: string): StoredMessage[] =>
  fake.messages(chatId).filter((m) => m.sender === "bot");

/** Everything the reply shows (the help reply is a card), as one string. */
const textOf = (m: StoredMessage | undefined): string => (m ? JSON.stringify(m.content) : "");

/**
 * After a client closed, a push to the newest connection the fake knows gets no ACK. (The fake keeps
 * counting a client that closed its socket, which it sees only half-closed, so the count is no proof.)
 */
async function expectNoAnswer(fake: FakeLark): Promise<void> {
  if (fake.push.wsClients() === 0) return;
  const ack = await fake.push.wsEvent("im.chat.member.bot.added_v1", { chat_id: ROOM }, { timeoutMs: 300 });
  expect(ack).toMatchObject({ ackCode: 0, timedOut: true });
}

/** Log lines kept in memory, so a failure can show them and tests can look for a line. */
function memoryLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger({ write: (line) => lines.push(line) }), lines };
}

describe("long connection (LARK_MODE=ws) in process", () => {
  let fake: FakeLark;
  let database: TestDatabase;
  let conn: LongConnection | undefined;

  beforeAll(async () => {
    fake = await startFakeLark({ ws: true });
    database = await testDatabase();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(async () => {
    await resetDatabase(database);
    fake.reset();
  });
  afterEach(async () => {
    conn?.close();
    conn = undefined;
    await expectNoAnswer(fake);
  });

  /** A runtime on the shared test database, talking to the fake, connected over the long connection. */
  async function connect(bot = createWhistleBot()) {
    const { log, lines } = memoryLogger();
    const runtime = new LarkRuntime({
      db: database.db,
      lark: createLarkClient({ appId: fake.appId, appSecret: fake.appSecret, domain: fake.url, log }),
      log,
      bot,
    });
    expect(await runtime.identify()).toBe(true);
    conn = startLongConnection({
      appId: fake.appId,
      appSecret: fake.appSecret,
      domain: fake.url,
      runtime,
      log,
    });
    await expect
      .poll(() => lines.some((l) => l.includes('"msg":"long connection ready"')), { timeout: 5000 })
      .toBe(true);
    expect(fake.push.wsClients()).toBeGreaterThanOrEqual(1);
    return { runtime, lines };
  }

  it("routes /帮助 to a reply, dedupes a redelivery, and answers an unknown card action with a toast", async () => {
    const { runtime, lines } = await connect();

    const pushed = await fake.push.message("ws", { chatId: ROOM, senderOpenId: ALICE, text: "/帮助" });
    expect(pushed.status, lines.join("\n")).toBe(200); // ACK code 200
    expect(pushed.timedOut).toBe(false);
    await runtime.settle();
    await expect.poll(() => botReplies(fake, ROOM).length).toBe(1);
    const reply = botReplies(fake, ROOM)[0];
    expect(reply?.parent_id).toBe(pushed.messageId);
    expect(textOf(reply)).toContain("/帮助");

    // The exact same frame payload again (same event_id and message_id): ACKed, nothing new.
    const again = await fake.push.redeliver(pushed);
    expect(again.status).toBe(200);
    expect(JSON.parse(again.plaintext).header.event_id).toBe(pushed.eventId);
    await runtime.settle();
    expect(botReplies(fake, ROOM)).toHaveLength(1);
    expect(lines.filter((l) => l.includes('"status":"duplicate"'))).toHaveLength(1);

    // A card click nobody registered: the router's toast comes back in the ACK data.
    const click = await fake.push.cardAction("ws", {
      operatorOpenId: ALICE,
      messageId: reply?.message_id ?? "",
      value: { action: "nonexistent" },
    });
    expect(click.status).toBe(200);
    expect(click.errorCode).toBeUndefined();
    expect(click.body).toEqual({
      toast: { type: "warning", content: "这张卡片已过期或无法识别，请重新发起。" },
    });
    expect(click.toast).toMatchObject({ type: "warning" });
    expect(lines.some((l) => l.includes('"level":"error"'))).toBe(false);

    conn?.close();
    conn = undefined;
    await expectNoAnswer(fake);
  });

  it("hands a card action the same event over ws as over the webhook, card-update token included", async () => {
    // The product router plus one probe action that records what the handler saw.
    const seen: { cardToken: string | undefined; operator: string; chatId: string; value: unknown }[] = [];
    const bot = createWhistleBot().action("probe", async (ctx) => {
      seen.push({
        cardToken: ctx.event.cardToken,
        operator: ctx.event.operatorOpenId,
        chatId: ctx.event.chatId,
        value: ctx.event.value,
      });
      return { toast: { type: "success", content: "ok" } };
    });
    const { runtime } = await connect(bot);
    const pushed = await fake.push.message("ws", { chatId: ROOM, senderOpenId: ALICE, text: "hi" });
    const click = { operatorOpenId: ALICE, messageId: pushed.messageId, value: { action: "probe", n: 1 } };

    // Webhook path: the same runtime behind createApp, reached through app.request.
    const loaded = loadConfig({
      LARK_APP_ID: fake.appId,
      LARK_APP_SECRET: fake.appSecret,
      LARK_VERIFICATION_TOKEN: "vt-long-connection-test",
      LARK_ENCRYPT_KEY: "ek-long-connection-test",
      LARK_DOMAIN: fake.url,
    });
    if (!loaded.ok) throw new Error(loaded.problems.join("; "));
    const app = createApp({ database, config: loaded.config, log: runtime.pipeline.log, lark: runtime });
    const viaWebhook = await fake.push.cardAction(
      {
        url: "http://bot.local/lark/events",
        verificationToken: "vt-long-connection-test",
        encryptKey: "ek-long-connection-test",
        fetch: app.request,
      },
      click,
    );
    const viaWs = await fake.push.cardAction("ws", click);

    expect(viaWebhook.toast).toEqual({ type: "success", content: "ok" });
    expect(viaWs.toast).toEqual({ type: "success", content: "ok" });
    expect(seen).toEqual([
      { cardToken: viaWebhook.token, operator: ALICE, chatId: ROOM, value: { action: "probe", n: 1 } },
      { cardToken: viaWs.token, operator: ALICE, chatId: ROOM, value: { action: "probe", n: 1 } },
    ]);
  });
});

describe("long connection (LARK_MODE=ws) in the server process", () => {
  let fake: FakeLark;
  let dataDir: string;

  beforeAll(async () => {
    fake = await startFakeLark({ ws: true });
    dataDir = mkdtempSync(join(tmpdir(), "whistle-ws-"));
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("connects at start, replies to /帮助 pushed over ws, and stops cleanly on SIGTERM", async () => {
    const s = runServer({
      LARK_APP_ID: fake.appId,
      LARK_APP_SECRET: fake.appSecret,
      LARK_MODE: "ws",
      LARK_DOMAIN: fake.url,
      DATA_DIR: dataDir,
      PORT: String(await freePort()),
    });
    try {
      const health = await waitForHealth(s);
      expect(health.status).toBe(200);
      await expect
        .poll(() => s.output().includes('"msg":"long connection ready"'), { timeout: 10_000 })
        .toBe(true);
      expect(fake.push.wsClients()).toBeGreaterThanOrEqual(1);

      const pushed = await fake.push.message("ws", { chatId: ROOM, senderOpenId: ALICE, text: "/帮助" });
      expect(pushed.status, s.output()).toBe(200);
      await expect.poll(() => botReplies(fake, ROOM).length, { timeout: 5000 }).toBe(1);
      const reply = botReplies(fake, ROOM)[0];
      expect(reply?.parent_id).toBe(pushed.messageId);
      expect(textOf(reply)).toContain("/帮助");

      expect(await s.stop("SIGTERM"), s.output()).toBe(0);
      expect(s.output()).toContain('"msg":"stopped"');
      await expectNoAnswer(fake);
    } finally {
      await s.stop("SIGKILL");
    }
  }, 30_000);
});
