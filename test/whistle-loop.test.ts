import { count, eq } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lintCard } from "../src/bot/cards/lint";
import { processEvent } from "../src/bot/pipeline";
import { timelineOf } from "../src/db/queries/whistles";
import { admins, dispatches, progressNotes, reportIns, timeline, whistles } from "../src/db/schema";
import { button, buttonValues, cardText } from "./support/cards";
import { cardAction, say } from "./support/chat";
import { resetDatabase } from "./support/db";
import { type Harness, larkHarness } from "./support/harness";

const ADMIN = "ou_admin000000000000000000000000001";
const OFFICIAL = "ou_official0000000000000000000000002";
const CG1 = "ou_cg100000000000000000000000000003";
const CG2 = "ou_cg200000000000000000000000000004";
const GA1 = "ou_ga100000000000000000000000000005";
const FG1 = "ou_fg100000000000000000000000000006";

let h: Harness;

async function setUp() {
  h = await larkHarness();
  await resetDatabase(h.t);
  await h.t.db.insert(admins).values({ openId: ADMIN, source: "env" });
  h.fake.addChat("oc_street", { name: "朝阳门街道工作群", members: [ADMIN, OFFICIAL] });
  h.fake.addChat("oc_cg", { name: "城管执法队", members: [ADMIN, CG1, CG2] });
  h.fake.addChat("oc_ga", { name: "公安", members: [ADMIN, GA1] });
  h.fake.addChat("oc_fg", { name: "房管", members: [ADMIN, FG1] });
  h.fake.addChat("oc_ov", { name: "督办中心", members: [ADMIN] });
  for (const [chat, cmd] of [
    ["oc_street", "/绑定 街乡 朝阳门街道"],
    ["oc_cg", "/绑定 部门 城管执法队 城管"],
    ["oc_ga", "/绑定 部门 公安 派出所"],
    ["oc_fg", "/绑定 部门 房管"],
    ["oc_ov", "/绑定 督办 东城区接诉即办中心"],
  ]) {
    const r = await say(h, chat as string, ADMIN, cmd as string);
    expect(r.text).toContain("✅");
  }
}

const botCards = (chat: string) =>
  h.fake.messages(chat).filter((m) => m.sender === "bot" && m.msg_type === "interactive");

async function click(
  operator: string,
  messageId: string,
  value: Record<string, unknown>,
  formValue?: Record<string, unknown>,
  chatId?: string,
) {
  const r = await h.fake.push.cardAction(h.target, {
    operatorOpenId: operator,
    messageId,
    value,
    formValue,
    chatId,
  });
  await h.runtime.settle();
  return r;
}

beforeEach(setUp);
afterEach(async () => {
  await h.close();
});

describe("the whistle loop, end to end through the fake Lark", () => {
  it("whistle → cards → refused outsider → report-in → summary → /状态 → resolve → all final", async () => {
    // Whistle.
    const w = await say(
      h,
      "oc_street",
      OFFICIAL,
      "/吹哨 执法 城管执法队,派出所 东直门内大街12号门前占道经营，多次劝离无效",
    );
    expect(w.replies).toHaveLength(1);
    const summary0 = w.replies[0];
    expect(lintCard(summary0)).toEqual([]);
    expect(cardText(summary0)).toContain("东直门内大街12号门前占道经营");
    const [row] = await h.t.db.select().from(whistles);
    expect(row?.code).toMatch(/^W\d{6}-01$/);

    // Both summoned departments got a card; the unsummoned one none.
    const [cgCard] = botCards("oc_cg").filter((m) => cardText(m.content).includes("东直门内大街"));
    const [gaCard] = botCards("oc_ga").filter((m) => cardText(m.content).includes("东直门内大街"));
    expect(cgCard && gaCard).toBeTruthy();
    expect(botCards("oc_fg").filter((m) => cardText(m.content).includes("东直门内大街"))).toHaveLength(0);
    for (const c of [cgCard, gaCard]) expect(lintCard(c?.content)).toEqual([]);
    const cgReport = button(cgCard?.content, "report_in");
    const gaReport = button(gaCard?.content, "report_in");

    // Someone who is not 城管 staff (the card forwarded into 房管's group) is refused; nothing changes.
    const outsider = await click(FG1, cgCard?.message_id as string, cgReport, undefined, "oc_fg");
    expect(outsider.toast).toMatchObject({ type: "error" });
    expect(JSON.stringify(outsider.toast)).toContain("只有城管执法队的工作人员");
    expect((await h.t.db.select({ n: count() }).from(reportIns))[0]?.n).toBe(0);

    // Staff report in: the first reports the department, a colleague joins, a repeat changes nothing.
    const first = await click(CG1, cgCard?.message_id as string, cgReport);
    expect(first.toast).toMatchObject({ type: "success" });
    expect(first.cardApplied).toBe(true);
    expect(cardText(h.fake.message(cgCard?.message_id as string)?.content)).toContain(CG1);
    const second = await click(CG2, cgCard?.message_id as string, cgReport);
    expect(second.toast).toMatchObject({ type: "success" });
    const repeat = await click(CG1, cgCard?.message_id as string, cgReport);
    expect(JSON.stringify(repeat.toast)).toContain("已经报到过");
    const cgNow = h.fake.message(cgCard?.message_id as string)?.content;
    expect(cardText(cgNow)).toContain(CG2);
    expect(buttonValues(cgNow).map((b) => b.action)).toContain("on_site");
    expect(buttonValues(cgNow).map((b) => b.action)).not.toContain("resolve");

    // The summary card follows through the outbox.
    const summaryMsg = h.fake
      .messages("oc_street")
      .find((m) => m.sender === "bot" && m.parent_id === w.messageId);
    const summaryNow = h.fake.message(summaryMsg?.message_id as string)?.content;
    expect(lintCard(summaryNow)).toEqual([]);
    expect(cardText(summaryNow)).toContain(CG1);

    // /状态 in the street chat shows each department's state.
    const status = await say(h, "oc_street", OFFICIAL, "/状态");
    expect(status.text).toContain("城管执法队");
    expect(status.text).toContain("公安");
    expect(status.text).toContain(row?.code as string);
    // …and the department sees its load.
    expect((await say(h, "oc_ga", GA1, "/状态")).text).toContain(row?.code as string);
    // …and the full timeline by code.
    const tl = await say(h, "oc_street", OFFICIAL, `/状态 ${row?.code}`);
    expect(tl.text).toContain(CG1);
    expect(tl.text).toContain(CG2); // a colleague's report-in, read from report_ins

    // A department member cannot resolve (the summary lives in the street chat; forwarded to them).
    const resolveValue = button(summaryNow, "resolve");
    const refused = await click(
      CG1,
      summaryMsg?.message_id as string,
      resolveValue,
      { text: "我们做完了" },
      "oc_cg",
    );
    expect(refused.toast).toMatchObject({ type: "error" });
    expect((await h.t.db.select().from(whistles))[0]?.status).toBe("open");

    // The street resolves through the form.
    const resolved = await click(OFFICIAL, summaryMsg?.message_id as string, resolveValue, {
      text: "已清理，当事人承诺不再占道",
    });
    expect(resolved.toast).toMatchObject({ type: "success" });
    expect((await h.t.db.select().from(whistles))[0]).toMatchObject({
      status: "resolved",
      resolution: "已清理，当事人承诺不再占道",
    });

    // Every card is final: no buttons anywhere.
    for (const id of [summaryMsg?.message_id, cgCard?.message_id, gaCard?.message_id]) {
      const c = h.fake.message(id as string)?.content;
      expect(lintCard(c)).toEqual([]);
      expect(buttonValues(c)).toEqual([]);
    }
    // An old button explains the state and changes nothing.
    const late = await click(GA1, gaCard?.message_id as string, gaReport);
    expect(JSON.stringify(late.toast)).toContain("已办结");
    expect((await h.t.db.select().from(dispatches)).every((d) => d.nextCheckAt === null)).toBe(true);
  }, 60_000);

  it("answers /吹哨 with nothing after it with the form, whose submit creates the whistle", async () => {
    await say(h, "oc_street", ADMIN, "/一加四 城管,公安");
    const r = await say(h, "oc_street", OFFICIAL, "/吹哨");
    const form = r.replies[0];
    expect(lintCard(form)).toEqual([]);
    const submit = button(form, "whistle_form");
    const formMsg = h.fake.messages("oc_street").find((m) => m.parent_id === r.messageId);
    const depts = await h.t.db.select().from((await import("../src/db/schema")).units);
    const ids = depts.filter((u) => u.name === "城管执法队" || u.name === "房管").map((u) => String(u.id));
    const res = await click(OFFICIAL, formMsg?.message_id as string, submit, {
      type: "emergency",
      departments: ids,
      matter: "南小街5号燃气泄漏",
      place: "南小街5号",
      limit: "15",
    });
    expect(res.toast).toMatchObject({ type: "success" });
    const [w] = await h.t.db.select().from(whistles);
    expect(w).toMatchObject({ type: "emergency", limitMinutes: 15, place: "南小街5号", source: "form" });
    expect(botCards("oc_fg").some((m) => cardText(m.content).includes("燃气泄漏"))).toBe(true);
    expect(botCards("oc_ga").some((m) => cardText(m.content).includes("燃气泄漏"))).toBe(false);
    // The form card became the summary.
    expect(cardText(h.fake.message(formMsg?.message_id as string)?.content)).toContain("燃气泄漏");
  });

  it("explains what was wrong and offers the form", async () => {
    const unknown = await say(h, "oc_street", OFFICIAL, "/吹哨 执法 城管,气象局 占道经营");
    expect(unknown.text).toContain("气象局");
    expect(buttonValues(unknown.replies[0]).map((b) => b.action)).toContain("whistle_form");
    const noMatter = await say(h, "oc_street", OFFICIAL, "/吹哨 执法 城管");
    expect(buttonValues(noMatter.replies[0]).map((b) => b.action)).toContain("whistle_form");
    const notStreet = await say(h, "oc_cg", CG1, "/吹哨 执法 公安 占道经营");
    expect(notStreet.text).toContain("只有街乡才能吹哨");
    expect(await h.t.db.select().from(whistles)).toHaveLength(0);
  });
});

describe(`concurrent taps (${process.env.TEST_DATABASE_URL ? "postgres" : "pglite"})`, () => {
  it("taps, 到场 and 办结 arriving together: every answer says what was recorded", async () => {
    const staff = Array.from({ length: 20 }, (_, i) => `ou_mix${String(i).padStart(29, "0")}`);
    h.fake.addChat("oc_cg", { name: "城管执法队", members: [ADMIN, ...staff] });
    const said = await say(h, "oc_street", OFFICIAL, "/吹哨 执法 城管 东四北大街8号占道经营");
    const [card] = botCards("oc_cg").filter((m) => cardText(m.content).includes("东四北大街"));
    const summary = botCards("oc_street").find((m) => m.parent_id === said.messageId);
    // Submitted in one tick, so they are committed in one transaction: the desk's taps and the
    // street's 办结 in the same batch (lock order puts 办结, which names no dispatch, first).
    const action = (who: string, msg: typeof card, chatId: string, value: unknown, formValue?: object) =>
      cardAction(h, {
        operatorOpenId: who,
        messageId: msg?.message_id as string,
        chatId,
        value: value as Record<string, unknown>,
        ...(formValue ? { formValue: formValue as Record<string, unknown> } : {}),
      });
    const reportIn = button(card?.content, "report_in");
    const events = [
      ...staff.map((who) => action(who, card, "oc_cg", reportIn)),
      action(OFFICIAL, summary, "oc_street", button(summary?.content, "resolve"), { text: "已劝离" }),
      ...staff.slice(0, 5).map((who) => action(who, card, "oc_cg", reportIn)),
    ];
    const results = (await Promise.all(events.map((e) => processEvent(e, h.runtime.pipeline)))).map((r) => ({
      toast: r.status === "processed" ? r.answer?.toast : undefined,
    }));
    await h.runtime.settle();
    const batches = new Set(h.logs.filter((l) => l.event_type === "card.action.trigger").map((l) => l.batch));
    expect([...batches]).toEqual([26]);
    expect(results.at(20)?.toast).toMatchObject({ type: "success" });
    const [w] = await h.t.db.select().from(whistles);
    expect(w?.status).toBe("resolved");
    const rows = await h.t.db.select().from(reportIns);
    const recorded = new Set(rows.map((r) => r.openId));
    // A person has a row exactly when one of their taps was answered "recorded"; every other
    // answer says why nothing changed (already reported in, or the matter is closed).
    const successes = new Map<string, number>();
    for (const [i, r] of results.entries()) {
      if (i === 20) continue;
      const who = (i < 20 ? staff[i] : staff[i - 21]) as string;
      const toast = r.toast;
      if (toast?.type === "success") successes.set(who, (successes.get(who) ?? 0) + 1);
      else expect(toast?.content).toMatch(/已经报到过|已办结/);
    }
    for (const who of staff) {
      expect(successes.get(who) ?? 0, who).toBeLessThanOrEqual(1);
      expect(recorded.has(who), who).toBe(successes.has(who));
    }
    // Nothing was recorded after the matter was closed, and the timeline matches the rows.
    for (const r of rows) expect(r.at.getTime()).toBeLessThanOrEqual(w?.resolvedAt?.getTime() as number);
    const entries = await timelineOf(h.t.db, w?.id as number);
    const reportEntries = entries.filter((e) => e.kind === "reported" || e.kind === "joined");
    expect(reportEntries.map((e) => e.actorOpenId).sort()).toEqual(rows.map((r) => r.openId).sort());
    // …and in the order things happened: every report-in before the resolution.
    const closedAt = entries.findIndex((e) => e.kind === "resolved");
    expect(closedAt).toBeGreaterThanOrEqual(0);
    for (const e of reportEntries) expect(entries.indexOf(e)).toBeLessThan(closedAt);
    const [d] = await h.t.db.select().from(dispatches);
    if (rows.length > 0) expect(d?.reportedBy).toBe(rows.reduce((a, b) => (a.at <= b.at ? a : b)).openId);
    else expect(d?.state).toBe("pending");
  }, 60_000);

  it("100 staff tapping at once, plus repeats: one report-in, one row per person", async () => {
    const staff = Array.from({ length: 100 }, (_, i) => `ou_staff${String(i).padStart(26, "0")}`);
    h.fake.addChat("oc_cg", { name: "城管执法队", members: [ADMIN, ...staff] });
    await say(h, "oc_street", OFFICIAL, "/吹哨 应急 城管 南小街5号燃气泄漏");
    const [card] = botCards("oc_cg").filter((m) => cardText(m.content).includes("燃气泄漏"));
    const value = button(card?.content, "report_in");
    const taps = [...staff, ...staff.slice(0, 20)].map((who) =>
      h.fake.push.cardAction(h.target, { operatorOpenId: who, messageId: card?.message_id as string, value }),
    );
    const results = await Promise.all(taps);
    const failed = results.filter((r) => r.status !== 200 || r.errorCode);
    expect(failed.map((r) => [r.status, r.errorCode, r.ms])).toEqual([]);
    const rows = await h.t.db.select().from(reportIns);
    expect(rows).toHaveLength(100);
    expect(new Set(rows.map((r) => r.openId)).size).toBe(100);
    const [d] = await h.t.db.select().from(dispatches);
    expect(d?.state).toBe("reported");
    expect(staff).toContain(d?.reportedBy);
    const reported = await h.t.db.select().from(timeline).where(eq(timeline.kind, "reported"));
    expect(reported).toHaveLength(1);
    const first = rows.reduce((a, b) => (a.at <= b.at ? a : b));
    expect(first.at.getTime()).toBe(d?.reportedAt?.getTime());
    // Every batch committed as it was: no tap was written twice and undone (report-ins are plain
    // inserts, relying on the dispatch's row lock; a duplicate would roll its batch back).
    expect(h.logs.filter((l) => l.msg === "batch rolled back; retrying its events one by one")).toEqual([]);
  }, 60_000);

  it("cards whose buttons name only the dispatch (sent before they named the whistle) still report in", async () => {
    await say(h, "oc_street", OFFICIAL, "/吹哨 应急 城管 南小街7号燃气泄漏");
    const [card] = botCards("oc_cg").filter((m) => cardText(m.content).includes("7号燃气泄漏"));
    const { w, ...older } = button(card?.content, "report_in");
    expect(w).toEqual(expect.any(Number));
    const tap = (who: string, value: Record<string, unknown>) =>
      h.fake.push.cardAction(h.target, { operatorOpenId: who, messageId: card?.message_id as string, value });
    const toast = (r: { body: unknown }) => (r.body as { toast?: { content?: string } }).toast?.content;
    // An older card and a newer one, tapped together (one batch), then the older one again.
    const together = await Promise.all([tap(CG1, older), tap(CG2, { ...older, w })]);
    const answered = together.map(toast);
    expect(answered).toHaveLength(2);
    expect(answered).toEqual(
      expect.arrayContaining([expect.stringContaining("报到成功"), "已记录你的报到。"]),
    );
    expect(toast(await tap(CG1, older))).toBe("你已经报到过了。");
    const rows = await h.t.db.select().from(reportIns);
    expect(rows.map((r) => r.openId).sort()).toEqual([CG1, CG2].sort());
    const [d] = await h.t.db.select().from(dispatches);
    expect(d?.state).toBe("reported");
  });

  it("a callback delivered again (alongside a new tap, or later) is answered as a duplicate", async () => {
    const staff = ["ou_dup1", "ou_dup2"];
    h.fake.addChat("oc_cg", { name: "城管执法队", members: [ADMIN, ...staff] });
    await say(h, "oc_street", OFFICIAL, "/吹哨 应急 城管 南小街6号燃气泄漏");
    const [card] = botCards("oc_cg").filter((m) => cardText(m.content).includes("6号燃气泄漏"));
    const value = button(card?.content, "report_in");
    const tap = (who: string) =>
      h.fake.push.cardAction(h.target, { operatorOpenId: who, messageId: card?.message_id as string, value });
    // The same events again while they are still being handled, and once more afterwards.
    const firsts = await Promise.all(staff.map(tap));
    const again = await Promise.all([...firsts.map((p) => h.fake.push.redeliver(p)), tap("ou_dup3")]);
    const late = await h.fake.push.redeliver(firsts[0] as (typeof firsts)[number]);
    const toast = (r: { body: unknown }) => (r.body as { toast?: { content?: string } }).toast?.content;
    expect(firsts.map(toast)).toEqual(
      expect.arrayContaining([expect.stringContaining("报到成功"), "已记录你的报到。"]),
    );
    // Handled once: the copies change nothing and are not answered as taps ("你已经报到过了").
    expect([...again, late].map((r) => [r.status, toast(r)])).toEqual([
      [200, undefined],
      [200, undefined],
      [200, "已记录你的报到。"],
      [200, undefined],
    ]);
    const rows = await h.t.db.select().from(reportIns);
    expect(rows.map((r) => r.openId).sort()).toEqual(["ou_dup1", "ou_dup2", "ou_dup3"]);
    expect(await h.t.db.select().from(timeline).where(eq(timeline.kind, "reported"))).toHaveLength(1);
    const [w] = await h.t.db.select().from(whistles);
    const joined = (await timelineOf(h.t.db, w?.id as number)).filter((e) => e.kind === "joined");
    expect(joined).toHaveLength(2);
  });

  it("a progress note delivered again, while the first is being handled or later, is written once", async () => {
    await say(h, "oc_street", OFFICIAL, "/吹哨 应急 城管 南小街9号燃气泄漏");
    const [card] = botCards("oc_cg").filter((m) => cardText(m.content).includes("9号燃气泄漏"));
    const value = { ...button(card?.content, "report_in"), action: "progress" };
    const note = (who: string, text: string) =>
      h.fake.push.cardAction(h.target, {
        operatorOpenId: who,
        messageId: card?.message_id as string,
        value,
        formValue: { note: text },
      });
    const first = await note(CG1, "已关闭燃气总阀");
    const again = await Promise.all([
      h.fake.push.redeliver(first),
      note(CG2, "现场已疏散"),
      h.fake.push.redeliver(first),
    ]);
    await h.fake.push.redeliver(first);
    const toast = (r: { body: unknown }) => (r.body as { toast?: { content?: string } }).toast?.content;
    expect(toast(first)).toBe("进展已提交。");
    expect(again.map(toast)).toEqual([undefined, "进展已提交。", undefined]);
    const notes = await h.t.db.select().from(progressNotes);
    expect(notes.map((n) => [n.openId, n.note]).sort()).toEqual(
      [
        [CG1, "已关闭燃气总阀"],
        [CG2, "现场已疏散"],
      ].sort(),
    );
    expect(await h.t.db.select().from(timeline).where(eq(timeline.kind, "progress"))).toHaveLength(2);
  });
});
