import { eq, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Bot, type CallbackAnswer } from "../src/bot/router";
import { inboundEvents } from "../src/db/schema";
import { resetDatabase } from "./support/db";
import { type Harness, larkHarness } from "./support/harness";

const ok: CallbackAnswer = { toast: { type: "success", content: "ok" } };
const later = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Actions whose answers read after the batch's writes: at once (keeping the `readOnly` promise),
 * after a timer while promising `readOnly` (breaking it), and after a timer without promising.
 */
function testBot() {
  return new Bot()
    .action("reads_at_once", async (ctx) => ({
      readOnly: true,
      deferred: async () => {
        await ctx.tx.execute(sql`select 1`);
        return ok;
      },
    }))
    .action("reads_late_but_promised", async (ctx) => ({
      readOnly: true,
      deferred: async () => {
        await later(30);
        await ctx.tx.execute(sql`select 1`);
        return ok;
      },
    }))
    .action("reads_late", async (ctx) => ({
      deferred: async () => {
        await later(30);
        await ctx.tx.execute(sql`select 1`);
        return ok;
      },
    }));
}

let h: Harness;
beforeEach(async () => {
  h = await larkHarness({ bot: testBot() });
  await resetDatabase(h.t);
});
afterEach(async () => {
  await h.close();
});

async function tap(action: string) {
  const m = await h.fake.push.message(h.target, { chatId: "oc_x", senderOpenId: "ou_a", text: "a card" });
  const r = await h.fake.push.cardAction(h.target, {
    operatorOpenId: "ou_a",
    messageId: m.messageId,
    chatId: "oc_x",
    value: { action },
  });
  const [row] = await h.t.db
    .select({ status: inboundEvents.status })
    .from(inboundEvents)
    .where(eq(inboundEvents.eventId, r.eventId));
  return { toast: r.toast, recorded: row?.status };
}

describe(`answers that read after the batch's writes (${process.env.TEST_DATABASE_URL ? "postgres" : "pglite"})`, () => {
  it("answer from reads started at once, and from late reads of answers that do not promise otherwise", async () => {
    expect(await tap("reads_at_once")).toEqual({ toast: ok.toast, recorded: "done" });
    expect(await tap("reads_late")).toEqual({ toast: ok.toast, recorded: "done" });
  });

  it.runIf(process.env.TEST_DATABASE_URL)(
    "a late read behind a broken readOnly promise is refused after the commit: logged, not retried",
    async () => {
      const r = await tap("reads_late_but_promised");
      // The tap committed (its dedupe row stands), so a retry would only find a duplicate: the
      // person gets the generic error answer and sees the recorded state on the next tap.
      expect(r).toEqual({
        toast: { type: "error", content: "处理失败，请稍后再点一次。" },
        recorded: "done",
      });
      expect(h.logs.some((l) => l.level === "error" && l.msg === "batch committed but not answered")).toBe(
        true,
      );
      expect(h.logs.some((l) => l.msg === "batch rolled back; retrying its events one by one")).toBe(false);
    },
  );
});
