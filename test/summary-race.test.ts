import { count, inArray } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { processEvent } from "../src/bot/pipeline";
import { admins, outbox } from "../src/db/schema";
import { button, cardText } from "./support/cards";
import { cardAction, say } from "./support/chat";
import { resetDatabase } from "./support/db";
import { type Harness, larkHarness } from "./support/harness";

/**
 * The street's summary card is re-rendered by every transaction that changes a department's row.
 * Departments of one whistle reporting in at the same moment land in different (concurrent)
 * transactions; whichever commits last must have rendered the summary with both changes, or the
 * card would show a department as 待报到 after it reported in — until the next change.
 */

const ADMIN = "ou_admin000000000000000000000000001";
const OFFICIAL = "ou_official0000000000000000000000002";
const DEPTS = ["城管执法队", "派出所", "房管所", "市场监管所", "环卫所"];
const staffOf = (i: number) => `ou_staff${String(i).padStart(27, "0")}`;

let h: Harness;
beforeEach(async () => {
  h = await larkHarness();
  await resetDatabase(h.t);
  await h.t.db.insert(admins).values({ openId: ADMIN, source: "env" });
  h.fake.addChat("oc_street", { name: "街道", members: [ADMIN, OFFICIAL] });
  await say(h, "oc_street", ADMIN, "/绑定 街乡 朝阳门街道");
  for (const [i, name] of DEPTS.entries()) {
    h.fake.addChat(`oc_d${i}`, { name, members: [ADMIN, staffOf(i)] });
    await say(h, `oc_d${i}`, ADMIN, `/绑定 部门 ${name}`);
  }
});
afterEach(async () => {
  await h.close();
});

/** Deliver everything queued: Lark's rate limits (50/s per app, 5 updates/s per card) defer some rows. */
async function deliverAll() {
  for (let round = 0; ; round++) {
    await h.runtime.settle();
    const [left] = await h.t.db
      .select({ n: count() })
      .from(outbox)
      .where(inArray(outbox.status, ["pending", "sending"]));
    if (Number(left?.n) === 0) return;
    if (round > 100) throw new Error("the outbox did not drain");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("the summary card under concurrent report-ins", () => {
  it("ends up showing every department that reported in", async () => {
    const said: string[] = [];
    for (let k = 0; k < 20; k++) {
      said.push(
        (await say(h, "oc_street", OFFICIAL, `/吹哨 应急 ${DEPTS.join(",")} 第${k + 1}处燃气泄漏`)).messageId,
      );
    }
    await deliverAll();
    const whistles = said.map((messageId, k) => {
      const summary = h.fake
        .messages("oc_street")
        .find((m) => m.sender === "bot" && m.parent_id === messageId);
      const cards = DEPTS.map((_, i) => {
        const card = h.fake
          .messages(`oc_d${i}`)
          .find((m) => m.sender === "bot" && cardText(m.content).includes(`第${k + 1}处燃气泄漏`));
        return {
          messageId: card?.message_id as string,
          chatId: `oc_d${i}`,
          value: button(card?.content, "report_in"),
        };
      });
      return { summaryId: summary?.message_id as string, cards };
    });
    // One tap per department per whistle, each submitted in its own tick so that taps on the same
    // whistle are committed by different transactions, several at once (Postgres runs 4).
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < DEPTS.length; i++) {
      for (const w of whistles) {
        const c = w.cards[i] as { messageId: string; chatId: string; value: unknown };
        const event = cardAction(h, {
          operatorOpenId: staffOf(i),
          messageId: c.messageId,
          chatId: c.chatId,
          value: c.value as Record<string, unknown>,
        });
        pending.push(processEvent(event, h.runtime.pipeline));
        await new Promise((r) => setImmediate(r));
      }
    }
    await Promise.all(pending);
    await deliverAll();
    for (const w of whistles) {
      const text = cardText(h.fake.message(w.summaryId)?.content);
      expect(text).toContain(`已报到 ${DEPTS.length}/${DEPTS.length}`);
    }
  }, 60_000);
});
