import { eq } from "drizzle-orm";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLarkClient } from "../src/bot/lark-client";
import { enqueue, OutboxWriter } from "../src/bot/outbox";
import { OutboxWorker, type OutboxWorkerOptions } from "../src/bot/outbox-worker";
import { claimDueOutbox } from "../src/db/queries/outbox";
import { admins, outbox } from "../src/db/schema";
import { silentLogger } from "../src/log";
import { type FakeLark, startFakeLark } from "../src/sandbox/fake-lark";
import { resetDatabase, type TestDatabase, testDatabase } from "./support/db";

let t: TestDatabase;
let fake: FakeLark;
let clock: number;
const now = () => new Date(clock);

beforeAll(async () => {
  t = await testDatabase();
});
beforeEach(async () => {
  await resetDatabase(t);
  fake = await startFakeLark();
  fake.faults.timeoutMs = 600;
  clock = Date.now() + 5_000;
});
afterEach(async () => {
  await fake.close();
});

function worker(extra: Partial<OutboxWorkerOptions> = {}) {
  const lark = createLarkClient({
    appId: fake.appId,
    appSecret: fake.appSecret,
    domain: fake.url,
    log: silentLogger,
    timeoutMs: 300,
  });
  return new OutboxWorker({ db: t.db, lark, log: silentLogger, now, ...extra });
}

function chats(n: number) {
  const ids = Array.from({ length: n }, (_, i) => `oc_chat_${i}`);
  for (const id of ids) fake.addChat(id, { name: id, members: ["ou_a"] });
  return ids;
}

/** Collect rows in a writer, as a handler does, and write them (one commit). */
async function write(fill: (out: OutboxWriter) => void) {
  const out = new OutboxWriter(t.db);
  fill(out);
  await out.flush();
}

/** Drain, then jump the worker's clock past any backoff, until nothing is pending. */
async function drainAll(w: OutboxWorker, rounds = 40, between?: (round: number) => void) {
  for (let i = 0; i < rounds; i++) {
    await w.drain();
    between?.(i);
    const pending = await t.db.select().from(outbox).where(eq(outbox.status, "pending"));
    if (pending.length === 0) return i;
    clock += 70_000;
  }
  throw new Error("outbox did not drain");
}

const botMessages = () => fake.messages().filter((m) => m.sender === "bot");
const textOf = (m: { content: unknown }) => (m.content as { text?: string }).text;

describe(`outbox delivery (${process.env.TEST_DATABASE_URL ? "postgres" : "pglite"})`, () => {
  it("delivers every queued message exactly once while 30% of sends fail (5xx, 429, timeouts, 230020)", async () => {
    const ids = chats(6);
    const out = new OutboxWriter(t.db);
    for (let i = 0; i < 60; i++) out.sendText(ids[i % 6] as string, `消息 ${i}`);
    await out.flush();
    fake.faults.setRandom({
      rate: 0.3,
      kinds: ["5xx", "429", "timeout", "timeout-after-commit", "230020"],
      seed: 7,
      paths: /\/im\/v1\/messages/,
    });
    await drainAll(worker());

    const texts = botMessages().map(textOf);
    expect(texts).toHaveLength(60);
    expect(new Set(texts).size).toBe(60);
    const faulted = fake.calls.filter((c) => c.fault);
    expect(new Set(faulted.map((c) => c.fault))).toEqual(
      new Set(["5xx", "429", "timeout", "timeout-after-commit", "230020"]),
    );
    const rows = await t.db.select().from(outbox);
    expect(rows.every((r) => r.status === "sent" && r.resultMessageId)).toBe(true);
    // A send whose answer was lost after Lark stored it is retried with the same uuid, not posted again.
    const lostAnswers = faulted.filter((c) => c.fault === "timeout-after-commit").length;
    expect(lostAnswers).toBeGreaterThan(0);
  }, 60_000);

  it("recovers when the tenant token expires mid-run", async () => {
    const ids = chats(2);
    const out = new OutboxWriter(t.db);
    for (let i = 0; i < 10; i++) out.sendText(ids[i % 2] as string, `第一批 ${i}`);
    await out.flush();
    const w = worker();
    await w.drain();
    fake.faults.expireAllTokens();
    for (let i = 0; i < 10; i++) out.sendText(ids[i % 2] as string, `第二批 ${i}`);
    await out.flush();
    await drainAll(w);
    expect(botMessages()).toHaveLength(20);
    expect(fake.calls.some((c) => c.code === 99991663)).toBe(true);
    expect((await t.db.select().from(outbox)).every((r) => r.status === "sent")).toBe(true);
  });

  it("stops on a permanent error, records it and tells the admins privately", async () => {
    fake.addChat("oc_no_bot", { name: "no bot", members: ["ou_a"], botIn: false });
    fake.addUser("ou_admin", "管理员");
    await t.db.insert(admins).values({ openId: "ou_admin", source: "env" });
    await write((out) => out.sendText("oc_no_bot", "hello"));
    await drainAll(worker());
    const [row] = await t.db.select().from(outbox).where(eq(outbox.target, "oc_no_bot"));
    expect(row?.status).toBe("failed");
    expect(row?.attempts).toBe(1);
    expect(row?.lastError).toContain("230002");
    const notices = botMessages().filter((m) => m.chat_id !== "oc_no_bot");
    expect(notices).toHaveLength(1);
    expect(textOf(notices[0] as { content: unknown })).toContain("机器人是否仍在群内");
  });

  it("coalesces card updates: only the newest render of a message is sent", async () => {
    const [chat] = chats(1);
    const w = worker();
    await write((out) => out.sendCard(chat as string, { schema: "2.0", body: { elements: [] } }));
    await drainAll(w);
    const cardId = botMessages()[0]?.message_id as string;
    // Five changes committed one after another, and two more within one commit.
    const render = (i: number) => ({
      schema: "2.0",
      body: { elements: [{ tag: "markdown", content: `render ${i}` }] },
    });
    for (let i = 1; i <= 5; i++) await write((out) => out.patchCard(cardId, render(i)));
    await write((out) => {
      out.patchCard(cardId, render(6));
      out.patchCard(cardId, render(7));
    });
    expect(await t.db.select().from(outbox).where(eq(outbox.status, "pending"))).toHaveLength(1);
    await drainAll(w);
    const patches = fake.calls.filter((c) => c.method === "PATCH" && c.path.endsWith(cardId));
    expect(patches).toHaveLength(1);
    expect(JSON.stringify(fake.message(cardId)?.content)).toContain("render 7");
  });

  it("renders a card refresh when it is delivered, from the state then, coalesced with other patches", async () => {
    const [chat] = chats(1);
    let state = "state 1";
    const rendered: { arg: unknown; at: number }[] = [];
    const w = worker({
      renderers: {
        board: async (_db, arg, at) => {
          rendered.push({ arg, at: at.getTime() });
          return JSON.stringify({ schema: "2.0", body: { elements: [{ tag: "markdown", content: state }] } });
        },
      },
    });
    await write((out) => out.sendCard(chat as string, { schema: "2.0", body: { elements: [] } }));
    await drainAll(w);
    const cardId = botMessages()[0]?.message_id as string;
    // A rendered patch, then two refreshes in later commits: one row left, rendered once.
    await write((out) =>
      out.patchCard(cardId, { schema: "2.0", body: { elements: [{ tag: "markdown", content: "stale" }] } }),
    );
    await write((out) => out.refreshCard(cardId, { name: "board", arg: 7 }));
    await write((out) => out.refreshCard(cardId, { name: "board", arg: 7 }));
    expect(await t.db.select().from(outbox).where(eq(outbox.status, "pending"))).toHaveLength(1);
    state = "state 2"; // changed after the rows were written, before delivery
    clock += 1000;
    await drainAll(w);
    expect(rendered).toEqual([{ arg: 7, at: clock }]);
    const patches = fake.calls.filter((c) => c.method === "PATCH" && c.path.endsWith(cardId));
    expect(patches).toHaveLength(1);
    expect(JSON.stringify(fake.message(cardId)?.content)).toContain("state 2");
  });

  it("drops a refresh with nothing to render and fails one whose renderer is unknown", async () => {
    const [chat] = chats(1);
    const w = worker({ renderers: { gone: async () => undefined } });
    await write((out) => out.sendCard(chat as string, { schema: "2.0", body: { elements: [] } }));
    await drainAll(w);
    const cardId = botMessages()[0]?.message_id as string;
    await write((out) => out.refreshCard(cardId, { name: "gone", arg: 1 }));
    await drainAll(w);
    await write((out) => out.refreshCard(cardId, { name: "nobody", arg: 1 }, { coalesceKey: "other" }));
    await drainAll(w);
    const rows = await t.db.select().from(outbox).orderBy(outbox.id);
    expect(rows.slice(1).map((r) => [r.status, r.lastError])).toEqual([
      ["dropped", "nothing to render"],
      ["failed", "unknown renderer nobody"],
    ]);
    expect(fake.calls.filter((c) => c.method === "PATCH")).toHaveLength(0);
  });

  it("patches a card whose send is still queued once the send has its message id", async () => {
    const [chat] = chats(1);
    await write((out) => {
      const card = out.sendCard(chat as string, { schema: "2.0", body: { elements: [] } });
      out.patchCard(card, { schema: "2.0", body: { elements: [{ tag: "markdown", content: "v2" }] } });
    });
    fake.faults.failNext(1, "5xx", /\/im\/v1\/messages$/);
    await drainAll(worker());
    const [card] = botMessages();
    expect(JSON.stringify(card?.content)).toContain("v2");
    expect(card?.history).toHaveLength(2);
  });

  it("drops a row at delivery time when its guard no longer holds", async () => {
    const [chat] = chats(1);
    let stillDue = true;
    const w = worker({ guards: { stillDue: async () => stillDue } });
    await enqueue(
      t.db,
      {
        kind: "send",
        receiveIdType: "chat_id",
        receiveId: chat as string,
        msgType: "text",
        content: JSON.stringify({ text: "提醒" }),
      },
      { guard: { name: "stillDue", arg: 1 } },
    );
    stillDue = false;
    await drainAll(w);
    expect(botMessages()).toHaveLength(0);
    expect((await t.db.select().from(outbox))[0]?.status).toBe("dropped");
  });

  it("records a delivered card's message id through its hook, in the same transaction", async () => {
    const [chat] = chats(1);
    const seen: [number, string][] = [];
    const w = worker({
      hooks: { dispatchCard: async (_tx, id, messageId) => void seen.push([id, messageId]) },
    });
    await write((out) =>
      out.sendCard(
        chat as string,
        { schema: "2.0", body: { elements: [] } },
        { recordAs: { name: "dispatchCard", id: 42 } },
      ),
    );
    await drainAll(w);
    expect(seen).toEqual([[42, botMessages()[0]?.message_id]]);
  });

  it("picks up rows a crashed worker left half-sent once their lease ends, and sends them once", async () => {
    const [chat] = chats(1);
    await write((out) => out.sendText(chat as string, "崩溃前"));
    // The first worker claims the row and dies after Lark stored the message but before recording it.
    fake.faults.failNext(1, "timeout-after-commit");
    const claimed = await claimDueOutbox(t.db, now(), 10_000, 10);
    expect(claimed).toHaveLength(1);
    const lark = createLarkClient({
      appId: fake.appId,
      appSecret: fake.appSecret,
      domain: fake.url,
      log: silentLogger,
      timeoutMs: 300,
    });
    await expect(
      lark.send({
        receiveIdType: "chat_id",
        receiveId: chat as string,
        msgType: "text",
        content: JSON.stringify({ text: "崩溃前" }),
        uuid: claimed[0]?.idempotencyKey ?? undefined,
      }),
    ).rejects.toThrow(/no answer/);
    const second = worker();
    expect((await second.drain()).claimed).toBe(0); // still leased
    clock += 11_000;
    await drainAll(second);
    expect(botMessages().map(textOf)).toEqual(["崩溃前"]);
  });

  it("stays within 5 messages per second per chat", async () => {
    const [chat] = chats(1);
    const out = new OutboxWriter(t.db);
    for (let i = 0; i < 12; i++) out.sendText(chat as string, `burst ${i}`);
    await out.flush();
    const w = worker();
    const started = Date.now();
    await drainAll(w);
    expect(botMessages()).toHaveLength(12);
    expect(fake.calls.filter((c) => c.code === 230020)).toHaveLength(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // 12 sends at ≤ 5/s after a burst of 5
  });
});
