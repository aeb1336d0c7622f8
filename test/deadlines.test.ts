import { and, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lintCard } from "../src/bot/cards/lint";
import { sweepDeadlines } from "../src/bot/sweep";
import { claimDueDispatches } from "../src/db/queries/deadlines";
import { dispatches, outbox, timeline, typePolicies, units, whistles } from "../src/db/schema";
import { silentLogger } from "../src/log";
import { button, cardText } from "./support/cards";
import { say } from "./support/chat";
import { resetDatabase } from "./support/db";
import { standardDistrict } from "./support/district";
import { type Harness, larkHarness } from "./support/harness";

const ADMIN = "ou_admin000000000000000000000000001";
const OFFICIAL = "ou_official0000000000000000000000002";
const CG1 = "ou_cg100000000000000000000000000003";
const CG_DUTY = "ou_cgduty0000000000000000000000004";
const GA1 = "ou_ga100000000000000000000000000005";

let h: Harness;
let clock: number;
const MIN = 60_000;
let t0: number;
const at = (min: number) => {
  clock = t0 + min * MIN;
  return new Date(clock);
};

beforeEach(async () => {
  clock = Date.now();
  t0 = clock;
  h = await larkHarness({ now: () => new Date(clock) });
  await resetDatabase(h.t);
  await standardDistrict(h, { admin: ADMIN, official: OFFICIAL, cg: [CG1, CG_DUTY], ga: [GA1] });
  await say(h, "oc_cg", ADMIN, "/值班 城管 @值班员", { mentions: [{ openId: CG_DUTY, name: "值班员" }] });
});
afterEach(async () => {
  await h.close();
});

const texts = (chat: string) =>
  h.fake
    .messages(chat)
    .filter((m) => m.sender === "bot" && m.msg_type === "text")
    .map((m) => (m.content as { text: string }).text);
const cards = (chat: string) =>
  h.fake.messages(chat).filter((m) => m.sender === "bot" && m.msg_type === "interactive");
const escalationCards = () => cards("oc_ov").filter((m) => cardText(m.content).includes("🚨 督办"));

async function whistle(text = "/吹哨 执法 城管,公安 东直门内大街12号门前占道经营") {
  await say(h, "oc_street", OFFICIAL, text);
  const [w] = await h.t.db.select().from(whistles).orderBy(whistles.id);
  const card = (chat: string) => cards(chat).find((m) => cardText(m.content).includes(w?.code as string));
  return { w, cg: card("oc_cg"), ga: card("oc_ga") };
}

async function tap(who: string, card: { message_id: string; content: unknown } | undefined) {
  const value = button(card?.content, "report_in");
  const r = await h.fake.push.cardAction(h.target, {
    operatorOpenId: who,
    messageId: card?.message_id as string,
    value,
  });
  await h.runtime.settle();
  return r;
}

describe("deadlines, reminders and escalation (injected clock)", () => {
  it("reminds, marks overdue, buzzes, escalates and repeats — and stops on report-in", async () => {
    const { w, cg, ga } = await whistle();
    const cgReport = button(cg?.content, "report_in");

    await h.runtime.sweep(at(19));
    expect(texts("oc_cg")).toHaveLength(0);

    await h.runtime.sweep(at(20));
    expect(texts("oc_cg")).toHaveLength(1);
    expect(texts("oc_cg")[0]).toContain("距报到截止还有 10 分钟");
    expect(texts("oc_cg")[0]).toContain(CG_DUTY); // @ the duty contact
    expect(texts("oc_ga")).toHaveLength(1);
    await h.runtime.sweep(at(21));
    expect(texts("oc_cg")).toHaveLength(1); // never twice

    expect((await tap(GA1, ga)).toast).toMatchObject({ type: "success" });
    await h.runtime.sweep(at(30));
    // 城管 is overdue: its card says so, its duty contact is buzzed, 督办 gets one card naming it.
    const [cgRow] = await h.t.db.select().from(dispatches).where(eq(dispatches.chatId, "oc_cg"));
    expect(cgRow).toMatchObject({ escalationCount: 1 });
    expect(cgRow?.overdueAt?.getTime()).toBe(t0 + 30 * MIN);
    expect(h.fake.message(cg?.message_id as string)?.urgent).toEqual([{ kind: "app", user_ids: [CG_DUTY] }]);
    expect(cardText(h.fake.message(cg?.message_id as string)?.content)).toContain("超时");
    expect(escalationCards()).toHaveLength(1);
    const esc = escalationCards()[0]?.content;
    expect(lintCard(esc)).toEqual([]);
    expect(cardText(esc)).toContain("城管执法队");
    expect(cardText(esc)).not.toContain("**公安**");
    expect(cardText(esc)).toContain("朝阳门街道");
    expect(cardText(esc)).toContain(w?.code as string);
    await h.runtime.sweep(at(31));
    expect(escalationCards()).toHaveLength(1);

    await h.runtime.sweep(at(60));
    expect(escalationCards()).toHaveLength(2);
    expect(cardText(escalationCards()[1]?.content)).toContain("第 2 次");

    // Queued but not yet sent when 城管 finally reports in: dropped at delivery.
    await sweepDeadlines(at(90), { db: h.t.db, log: silentLogger, tz: "Asia/Shanghai" });
    const queued = await h.t.db.select().from(outbox).where(eq(outbox.status, "pending"));
    expect(queued.length).toBeGreaterThan(0);
    const late = await h.fake.push.cardAction(h.target, {
      operatorOpenId: CG1,
      messageId: cg?.message_id as string,
      value: cgReport,
    });
    expect(JSON.stringify(late.toast)).toContain("超时 60 分钟");
    await h.runtime.settle();
    expect(escalationCards()).toHaveLength(2);
    expect(h.fake.message(cg?.message_id as string)?.urgent).toHaveLength(2); // the deadline and the repeat only
    const dropped = await h.t.db.select().from(outbox).where(eq(outbox.status, "dropped"));
    expect(dropped.length).toBe(queued.filter((q) => q.kind !== "patch_card").length);
    const [cgAfter] = await h.t.db.select().from(dispatches).where(eq(dispatches.chatId, "oc_cg"));
    expect(cgAfter).toMatchObject({ state: "reported", lateMinutes: 60 });

    // Nothing more for the late department, however long we wait — except the progress ask.
    await h.runtime.sweep(at(200));
    expect(escalationCards()).toHaveLength(2);
  });

  it("asks reported departments for progress every 4 hours while the matter is open, and stops at 办结", async () => {
    const { ga } = await whistle();
    at(5);
    await tap(GA1, ga);
    await h.runtime.sweep(at(5 + 239));
    expect(texts("oc_ga").filter((t) => t.includes("请在卡片上提交最新进展"))).toHaveLength(0);
    await h.runtime.sweep(at(5 + 240));
    expect(texts("oc_ga").filter((t) => t.includes("请在卡片上提交最新进展"))).toHaveLength(1);
    await h.runtime.sweep(at(5 + 241));
    expect(texts("oc_ga").filter((t) => t.includes("请在卡片上提交最新进展"))).toHaveLength(1);

    const summary = cards("oc_street").find((m) => cardText(m.content).includes("东直门内大街"));
    await h.fake.push.cardAction(h.target, {
      operatorOpenId: OFFICIAL,
      messageId: summary?.message_id as string,
      value: button(summary?.content, "resolve"),
      formValue: { text: "已处理" },
    });
    await h.runtime.settle();
    const toDepartments = () => [...texts("oc_ga"), ...texts("oc_cg")].length;
    const before = toDepartments();
    await h.runtime.sweep(at(5 + 480));
    await h.runtime.sweep(at(5 + 2000));
    // Nothing more for the departments (the street may be reminded to rate, a day after 办结).
    expect(toDepartments()).toBe(before);
    expect(await h.t.db.select().from(dispatches).where(eq(dispatches.chatId, "oc_ga"))).toMatchObject([
      { nextCheckAt: null },
    ]);
  });

  it("a cancelled whistle drops its queued reminders", async () => {
    const { w } = await whistle();
    await sweepDeadlines(at(20), { db: h.t.db, log: silentLogger, tz: "Asia/Shanghai" });
    await h.t.db
      .update(whistles)
      .set({ status: "cancelled", cancelledAt: new Date(clock) })
      .where(eq(whistles.id, w?.id as number));
    await h.runtime.settle();
    expect(texts("oc_cg")).toHaveLength(0);
  });

  it("uses the street's per-type limit and paid buzz channels", async () => {
    const [street] = await h.t.db.select().from(units).where(eq(units.name, "朝阳门街道"));
    await h.t.db.insert(typePolicies).values({
      streetId: street?.id,
      type: "emergency",
      reportLimitMinutes: 15,
      buzzChannels: ["sms"],
    });
    const { w, cg } = await whistle("/吹哨 应急 城管 南小街5号燃气泄漏");
    expect(w?.limitMinutes).toBe(15);
    await h.runtime.sweep(at(15));
    expect(h.fake.message(cg?.message_id as string)?.urgent.map((u) => u.kind)).toEqual(["app", "sms"]);
    await h.runtime.sweep(at(45));
    expect(h.fake.message(cg?.message_id as string)?.urgent.map((u) => u.kind)).toEqual([
      "app",
      "sms",
      "app",
    ]);
  });

  it("two sweeps at once act on each due item once", async () => {
    for (let i = 0; i < 6; i++) await whistle(`/吹哨 执法 城管,公安 第${i}处占道经营`);
    const opts = { db: h.t.db, log: silentLogger, tz: "Asia/Shanghai", chunk: 4 };
    const reports = await Promise.all([sweepDeadlines(at(30), opts), sweepDeadlines(at(30), opts)]);
    expect(reports[0].overdue + reports[1].overdue).toBe(12);
    const overdue = await h.t.db.select().from(timeline).where(eq(timeline.kind, "overdue"));
    expect(overdue).toHaveLength(12);
    const escalations = await h.t.db
      .select()
      .from(outbox)
      .where(and(eq(outbox.kind, "send"), eq(outbox.target, "oc_ov")));
    expect(escalations).toHaveLength(6);
  });

  it.runIf(process.env.TEST_DATABASE_URL)(
    "a whistle one sweep is acting on is skipped whole by a concurrent sweep (Postgres)",
    async () => {
      const { w } = await whistle();
      const [d1, d2] = await h.t.db
        .select()
        .from(dispatches)
        .where(eq(dispatches.whistleId, w?.id as number))
        .orderBy(dispatches.id);
      const gate = () => {
        let open = () => {};
        const opened = new Promise<void>((r) => {
          open = r;
        });
        return { open, opened };
      };
      const tapHolds = gate();
      const tapEnds = gate();
      const aClaimed = gate();
      const aEnds = gate();
      const due = at(30);
      // A tap holds the second department's row while sweep A claims: A gets the first one only.
      const tap = h.t.db.transaction(async (tx) => {
        await tx
          .select()
          .from(dispatches)
          .where(eq(dispatches.id, d2?.id as number))
          .for("update");
        tapHolds.open();
        await tapEnds.opened;
      });
      await tapHolds.opened;
      let claimedByA: number[] = [];
      const sweepA = h.t.db.transaction(async (tx) => {
        claimedByA = (await claimDueDispatches(tx, due, 10)).map((r) => r.dispatch.id);
        aClaimed.open();
        await aEnds.opened;
      });
      await aClaimed.opened;
      tapEnds.open();
      await tap;
      // Sweep B, while A still holds the whistle: the row the tap released is not B's to take.
      const claimedByB = await h.t.db.transaction(async (tx) =>
        (await claimDueDispatches(tx, due, 10)).map((r) => r.dispatch.id),
      );
      aEnds.open();
      await sweepA;
      expect(claimedByA).toEqual([d1?.id]);
      expect(claimedByB).toEqual([]);
    },
  );
});

describe("POST /tasks/sweep", () => {
  it("needs the bearer secret", async () => {
    const post = (auth?: string) =>
      h.app.request("/tasks/sweep", { method: "POST", headers: auth ? { authorization: auth } : {} });
    // The harness has no CRON_SECRET: refused whatever is sent.
    expect((await post()).status).toBe(401);
    expect((await post("Bearer anything-at-all-really")).status).toBe(401);
  });
});
