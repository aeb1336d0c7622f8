import { count } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { envelopeSchema, type LarkEvent, normalizeEnvelope } from "../src/bot/events";
import { InboundWorker, MAX_ATTEMPTS } from "../src/bot/inbound-worker";
import { handleBatch, processEvent } from "../src/bot/pipeline";
import { Bot } from "../src/bot/router";
import { pendingInboundCount, recordInbound } from "../src/db/queries/inbound";
import { inboundEvents, outbox } from "../src/db/schema";
import { createLogger } from "../src/log";
import { eventEnvelope, messageEvent } from "../src/sandbox/fake-lark";
import { cardAction } from "./support/chat";
import { resetDatabase } from "./support/db";
import { type Harness, larkHarness, VERIFICATION_TOKEN } from "./support/harness";

/** A bot whose /ok replies and whose /boom fails inside its transaction. */
function testBot() {
  return new Bot()
    .command("ok", async (ctx) => {
      ctx.out.replyText({ messageId: ctx.event.messageId }, `ok ${ctx.command.args}`);
    })
    .command("boom", async (ctx) => {
      ctx.out.replyText({ messageId: ctx.event.messageId }, "never sent");
      throw new Error("handler bug");
    });
}

let h: Harness;
beforeEach(async () => {
  h = await larkHarness({ bot: testBot() });
  await resetDatabase(h.t);
});
afterEach(async () => {
  await h.close();
});

async function counts() {
  const [a] = await h.t.db.select({ n: count() }).from(inboundEvents);
  const [b] = await h.t.db.select({ n: count() }).from(outbox);
  return { inbound: a?.n, outbox: b?.n };
}

describe("event pipeline (group commit)", () => {
  it("commits a burst of concurrent events, each deduped and handled on its own", async () => {
    const pushes = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        h.fake.push.message(h.target, { chatId: `oc_${i % 4}`, senderOpenId: "ou_a", text: `/ok ${i}` }),
      ),
    );
    expect(pushes.every((p) => p.status === 200)).toBe(true);
    // Redeliver a few while new ones arrive.
    await Promise.all([
      ...pushes.slice(0, 5).map((p) => h.fake.push.redeliver(p)),
      h.fake.push.message(h.target, { chatId: "oc_0", senderOpenId: "ou_a", text: "/ok last" }),
    ]);
    await h.runtime.settle();
    expect(await counts()).toEqual({ inbound: 41, outbox: 41 });
  });

  it("events submitted together share a transaction", async () => {
    const app = {
      appId: h.fake.appId,
      tenantKey: h.fake.tenantKey,
      botOpenId: h.fake.botOpenId,
      botName: "b",
    };
    const events = Array.from({ length: 20 }, (_, i) => {
      const { event } = messageEvent(app, {
        chatId: "oc_t",
        senderOpenId: "ou_a",
        text: `/ok ${i}`,
        messageId: `om_together_${i}`,
        createTime: "1",
      });
      return normalizeEnvelope(
        envelopeSchema.parse(eventEnvelope(app, VERIFICATION_TOKEN, "im.message.receive_v1", event)),
      );
    });
    // Submitted in one tick, plus the first one again: at most two transactions, one duplicate.
    const results = await Promise.all(
      [...events, events[0]].map((e) => processEvent(e as LarkEvent, h.runtime.pipeline)),
    );
    expect(results.filter((r) => r.status === "duplicate")).toHaveLength(1);
    expect(results.filter((r) => r.status === "accepted")).toHaveLength(20);
    const acks = h.logs.filter((l) => l.msg === "inbound event" && l.status !== "done");
    const batches = new Set(acks.map((l) => l.batch));
    expect([...batches].every((b) => typeof b === "number" && b > 1)).toBe(true);
    await h.runtime.settle();
    expect(await counts()).toEqual({ inbound: 20, outbox: 20 });
  });

  it("a failing handler rolls back only its own event; the others in its batch commit", async () => {
    const pushes = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) =>
        h.fake.push.message(h.target, { chatId: "oc_b", senderOpenId: "ou_a", text: `/ok ${i}` }),
      ),
      h.fake.push.message(h.target, { chatId: "oc_b", senderOpenId: "ou_a", text: "/boom" }),
    ]);
    // All recorded, so all acknowledged; the bad one fails when it is handled.
    expect(pushes.map((p) => p.status)).toEqual(Array(11).fill(200));
    await h.runtime.settle();
    expect(await counts()).toEqual({ inbound: 11, outbox: 10 });
    const rows = await h.t.db.select().from(inboundEvents);
    const failed = rows.filter((r) => r.status === "failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.attempts).toBe(MAX_ATTEMPTS);
    expect(failed[0]?.lastError).toContain("handler bug");
    expect(rows.filter((r) => r.status === "done")).toHaveLength(10);
    expect(h.logs.some((l) => l.msg === "inbound event failed" && l.level === "error" && l.final)).toBe(true);
    // Failed for good: later sweeps do not try it again.
    await h.runtime.sweep();
    expect((await h.t.db.select().from(inboundEvents)).find((r) => r.status === "failed")?.attempts).toBe(
      MAX_ATTEMPTS,
    );
  });
});

describe("events acknowledged before they are handled", () => {
  function pendingRows(n: number) {
    const app = {
      appId: h.fake.appId,
      tenantKey: h.fake.tenantKey,
      botOpenId: h.fake.botOpenId,
      botName: "b",
    };
    return Array.from({ length: n }, (_, i) => {
      const { event } = messageEvent(app, {
        chatId: "oc_r",
        senderOpenId: "ou_a",
        text: `/ok ${i}`,
        messageId: `om_recover_${i}`,
        createTime: "1",
      });
      const e = normalizeEnvelope(
        envelopeSchema.parse(eventEnvelope(app, VERIFICATION_TOKEN, "im.message.receive_v1", event)),
      );
      return {
        eventId: e.eventId,
        messageId: e.kind === "message" ? e.messageId : null,
        eventType: e.eventType,
        payload: e,
        status: "pending" as const,
      };
    });
  }

  it("what a crash left acknowledged but unhandled is handled once by the next sweep", async () => {
    // As a process that died right after the acknowledgement leaves it: recorded, pending.
    await recordInbound(h.t.db, pendingRows(12), new Date());
    expect(await pendingInboundCount(h.t.db)).toBe(12);
    await h.runtime.sweep();
    expect(await pendingInboundCount(h.t.db)).toBe(0);
    expect(await counts()).toEqual({ inbound: 12, outbox: 12 });
    await h.runtime.sweep();
    expect(await counts()).toEqual({ inbound: 12, outbox: 12 });
    const rows = await h.t.db.select().from(inboundEvents);
    expect(rows.every((r) => r.status === "done" && r.attempts === 1 && r.processedAt !== null)).toBe(true);
  });

  it("two processes working the same backlog handle each event once", async () => {
    await recordInbound(h.t.db, pendingRows(40), new Date());
    const other = new InboundWorker({
      db: h.t.db,
      bot: testBot(),
      log: createLogger({ level: "error" }),
      now: () => new Date(),
      botOpenId: () => h.fake.botOpenId,
      onOutbox: () => {},
      tz: "Asia/Shanghai",
      batchSize: 3,
    });
    const [a, b] = await Promise.all([h.runtime.inbound.process(), other.process()]);
    expect(a + b).toBe(40);
    expect(await counts()).toEqual({ inbound: 40, outbox: 40 });
  });
});

describe("a batch whose dedupe fails", () => {
  it("is not left with an unhandled rejection when none of its handlers waited for the dedupe", async () => {
    const unhandled: unknown[] = [];
    const listener = (e: unknown) => unhandled.push(e);
    process.on("unhandledRejection", listener);
    try {
      const event = cardAction(h, {
        operatorOpenId: "ou_x",
        messageId: "om_x",
        chatId: "oc_x",
        value: { action: "bench_tap", d: 1 },
      });
      const ran: string[] = [];
      let failure: unknown;
      const result = await h.t.db.transaction((tx) => {
        // As runBatch: the dedupe's own promise is awaited by the caller; handleBatch gets its
        // freshness test, derived from it.
        const dedupe = Promise.reject(new Error("dedupe failed"));
        dedupe.catch((e) => {
          failure = e;
        });
        return handleBatch(
          tx,
          new Date(),
          [
            {
              event,
              run: async () => {
                ran.push("tap");
                return { toast: { type: "success", content: "ok" } };
              },
              prepare: { key: "unit", run: async () => {} },
            },
          ],
          {
            log: createLogger({ level: "error", write: () => {} }),
            botOpenId: () => undefined,
            tz: "Asia/Shanghai",
          },
          dedupe.then(() => () => true),
        );
      });
      expect(ran).toEqual(["tap"]);
      expect(result.answers).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
      expect(String(failure)).toContain("dedupe failed");
    } finally {
      process.off("unhandledRejection", listener);
    }
  });
});
