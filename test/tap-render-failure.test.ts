import { eq, sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dispatches, reportIns } from "../src/db/schema";
import { button, cardText } from "./support/cards";
import { say } from "./support/chat";
import { resetDatabase } from "./support/db";
import { standardDistrict } from "./support/district";
import { type Harness, larkHarness } from "./support/harness";

const ADMIN = "ou_admin000000000000000000000000001";
const OFFICIAL = "ou_official0000000000000000000000002";
const CG1 = "ou_cg100000000000000000000000000003";
const CG2 = "ou_cg200000000000000000000000000004";
const CG3 = "ou_cg300000000000000000000000000005";

let h: Harness;
beforeEach(async () => {
  h = await larkHarness();
  await resetDatabase(h.t);
  await standardDistrict(h, { admin: ADMIN, official: OFFICIAL, cg: [CG1, CG2, CG3] });
});
afterEach(async () => {
  await h.close();
});

describe(`a department card that cannot be rendered (${process.env.TEST_DATABASE_URL ? "postgres" : "pglite"})`, () => {
  it("does not cost the report-in: recorded, answered with the toast, logged; the next tap has the card", async () => {
    await say(h, "oc_street", OFFICIAL, "/吹哨 执法 城管 东四北大街8号占道经营");
    const card = h.fake
      .messages("oc_cg")
      .find(
        (m) =>
          m.sender === "bot" && m.msg_type === "interactive" && cardText(m.content).includes("东四北大街"),
      );
    if (!card) throw new Error("no department card");
    const tap = (who: string, action: string) =>
      h.fake.push.cardAction(h.target, {
        operatorOpenId: who,
        messageId: card.message_id,
        chatId: "oc_cg",
        value: button(
          h.fake.messages("oc_cg").find((m) => m.message_id === card.message_id)?.content,
          action,
        ),
      });
    expect((await tap(CG1, "report_in")).cardApplied).toBe(true);
    expect((await tap(CG1, "on_site")).cardApplied).toBe(true);

    // A stored time no clock can show (year 290000: Postgres keeps it, a JavaScript Date cannot):
    // every render of this card throws.
    await h.t.db.execute(sql`update dispatches set on_site_at = '290000-01-01 00:00:00+00'`);
    const second = await tap(CG2, "report_in");
    expect(second.errorCode).toBeUndefined();
    expect(second.toast).toMatchObject({ type: "success", content: "已记录你的报到。" });
    expect(second.cardApplied).toBe(false);
    expect(await h.t.db.select().from(reportIns).where(eq(reportIns.openId, CG2))).toHaveLength(1);
    expect(
      h.logs.some((l) => l.level === "error" && String(l.msg).includes("department card not rendered")),
    ).toBe(true);

    await h.t.db.update(dispatches).set({ onSiteAt: new Date() });
    const third = await tap(CG3, "report_in");
    expect(third.cardApplied).toBe(true);
    const now = h.fake.messages("oc_cg").find((m) => m.message_id === card.message_id);
    expect(cardText(now?.content)).toContain("也已报到");
  });
});
