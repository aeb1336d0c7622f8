import { count } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { envelopeSchema, type LarkEvent, normalizeEnvelope } from "../src/bot/events";
import { processEvent } from "../src/bot/pipeline";
import { Bot } from "../src/bot/router";
import { inboundEvents, outbox } from "../src/db/schema";
import { eventEnvelope, messageEvent } from "../src/sandbox/fake-lark";
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
    const batches = new Set(h.logs.filter((l) => l.msg === "inbound event").map((l) => l.batch));
    expect([...batches].every((b) => typeof b === "number" && b > 1)).toBe(true);
    expect(await counts()).toEqual({ inbound: 20, outbox: 20 });
  });

  it("a failing handler rolls back only its own event; the others in its batch commit", async () => {
    const pushes = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) =>
        h.fake.push.message(h.target, { chatId: "oc_b", senderOpenId: "ou_a", text: `/ok ${i}` }),
      ),
      h.fake.push.message(h.target, { chatId: "oc_b", senderOpenId: "ou_a", text: "/boom" }),
    ]);
    const statuses = pushes.map((p) => p.status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(200));
    expect(statuses[10]).toBe(500); // Lark will redeliver it
    expect(await counts()).toEqual({ inbound: 10, outbox: 10 });
    expect(h.logs.some((l) => l.msg === "lark event failed" && l.level === "error")).toBe(true);
  });
});
