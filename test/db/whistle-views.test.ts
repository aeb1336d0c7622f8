import { eq, sql } from "drizzle-orm";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { renderDepartmentCard } from "../../src/bot/cards/department-card";
import { executeRows } from "../../src/db/database";
import { departmentCardViews } from "../../src/db/queries/department-cards";
import { addTimelineEntries, epochMs, timelineOf, whistleViews } from "../../src/db/queries/whistles";
import { dispatches, progressNotes, reportIns, whistles } from "../../src/db/schema";
import { VIEW_NOTES, VIEW_REPORTERS } from "../../src/domain/whistle";
import { resetDatabase, type TestDatabase, testDatabase } from "../support/db";
import { insertDispatch, insertUnit, insertWhistle } from "../support/fixtures";

let t: TestDatabase;
beforeAll(async () => {
  t = await testDatabase();
});
beforeEach(async () => {
  await resetDatabase(t);
});

const base = new Date("2026-11-27T06:00:00.123Z");
const at = (seconds: number) => new Date(base.getTime() + seconds * 1000);

/** A street's two whistles: the first to 城管执法队 (`busy`) and 派出所 (`quiet`), the second to 城管执法队. */
async function twoWhistles() {
  const street = await insertUnit(t.db, "street", "朝阳门街道");
  const cg = await insertUnit(t.db, "department", "城管执法队");
  const ga = await insertUnit(t.db, "department", "派出所");
  const w1 = await insertWhistle(t.db, street.id, "W261127-01", base);
  const w2 = await insertWhistle(t.db, street.id, "W261127-02", base);
  const busy = await insertDispatch(t.db, w1.id, cg.id, at(1800));
  const quiet = await insertDispatch(t.db, w1.id, ga.id, at(1800));
  const elsewhere = await insertDispatch(t.db, w2.id, cg.id, at(1800));
  return { street, cg, w1, w2, busy, quiet, elsewhere };
}

/** 12 progress notes (第0条 … 第11条) by one person, a second apart from `fromSecond`. */
async function addNotes(dispatchId: number, openId: string, fromSecond: number) {
  await t.db.insert(progressNotes).values(
    Array.from({ length: 12 }, (_, i) => ({
      dispatchId,
      openId,
      note: `第${i}条`,
      at: at(fromSecond + i),
    })),
  );
}

describe(`whistle views (${process.env.TEST_DATABASE_URL ? "postgres" : "pglite"})`, () => {
  it("carry every column, the first report-ins and the latest notes with their counts, in the order asked", async () => {
    const { street, cg, w1, w2, busy, quiet } = await twoWhistles();
    await t.db
      .update(dispatches)
      .set({
        state: "on_site",
        reportedAt: at(60),
        reportedBy: "ou_0",
        lateMinutes: 2,
        onSiteAt: at(600),
        onSiteBy: "ou_1",
        overdueAt: at(1801),
        escalationCount: 3,
        cardMessageId: "om_card",
      })
      .where(eq(dispatches.id, busy.id));
    await t.db
      .update(whistles)
      .set({ summaryMessageId: "om_summary", place: "南小街5号" })
      .where(eq(whistles.id, w1.id));
    // 30 people tapped (inserted out of order), 12 notes.
    const people = Array.from({ length: 30 }, (_, i) => ({
      dispatchId: busy.id,
      openId: `ou_${i}`,
      at: at(60 + i),
    }));
    await t.db.insert(reportIns).values([...people].reverse());
    await addNotes(busy.id, "ou_1", 700);

    const views = await whistleViews(t.db, [w2.id, w1.id, 999]);
    expect(views.map((v) => v.code)).toEqual(["W261127-02", "W261127-01"]);
    const v = views[1];
    if (!v) throw new Error("no view");
    expect(v).toMatchObject({
      id: w1.id,
      type: w1.type,
      matter: w1.matter,
      place: "南小街5号",
      street: { id: street.id, name: "朝阳门街道", chatId: w1.streetChatId },
      whistlerOpenId: w1.whistlerOpenId,
      status: "open",
      limitMinutes: w1.limitMinutes,
      resolvedAt: null,
      cancelledAt: null,
      summaryMessageId: "om_summary",
    });
    expect(v.createdAt).toEqual(base);
    expect(v.deadlineAt).toEqual(w1.deadlineAt);
    expect(v.dispatches.map((d) => d.id)).toEqual([busy.id, quiet.id]);
    const [d, q] = v.dispatches;
    expect(d).toMatchObject({
      department: { id: cg.id, name: "城管执法队" },
      chatId: busy.chatId,
      cardMessageId: "om_card",
      state: "on_site",
      reportedBy: "ou_0",
      lateMinutes: 2,
      onSiteBy: "ou_1",
      escalationCount: 3,
      reporterCount: 30,
      progressCount: 12,
    });
    expect(d?.deadlineAt).toEqual(at(1800));
    expect(d?.reportedAt).toEqual(at(60));
    expect(d?.onSiteAt).toEqual(at(600));
    expect(d?.overdueAt).toEqual(at(1801));
    expect(d?.reporters).toEqual(
      people.slice(0, VIEW_REPORTERS).map((p) => ({ openId: p.openId, at: p.at })),
    );
    expect(d?.progress.map((p) => p.note)).toEqual(
      Array.from({ length: 12 }, (_, i) => `第${i}条`).slice(-VIEW_NOTES),
    );
    expect(d?.progress[0]?.at).toEqual(at(702));
    expect(q).toMatchObject({
      state: "pending",
      reportedAt: null,
      reporters: [],
      reporterCount: 0,
      progress: [],
    });
    expect(await whistleViews(t.db, [])).toEqual([]);
  });

  it("for department cards: one dispatch's card data, the same as its whistle's view gives, whatever the state", async () => {
    const { w1, w2, busy, quiet, elsewhere } = await twoWhistles();
    await t.db
      .update(dispatches)
      .set({
        state: "reported",
        reportedAt: at(60),
        reportedBy: "ou_0",
        lateMinutes: 4,
        cardMessageId: "om_c",
      })
      .where(eq(dispatches.id, busy.id));
    await t.db
      .insert(reportIns)
      .values(
        Array.from({ length: 25 }, (_, i) => ({ dispatchId: busy.id, openId: `ou_${i}`, at: at(60 + i) })),
      );
    await addNotes(quiet.id, "ou_p", 90);
    await t.db
      .update(whistles)
      .set({ status: "resolved", resolvedAt: at(3600), resolvedBy: "ou_official", resolution: "已清理" })
      .where(eq(whistles.id, w2.id));

    const ids = [busy.id, quiet.id, elsewhere.id];
    const cards = await departmentCardViews(t.db, [...ids, 999]);
    expect([...cards.keys()].sort()).toEqual([...ids].sort());
    const views = await whistleViews(t.db, [w1.id, w2.id]);
    const now = at(1900);
    for (const v of views) {
      for (const d of v.dispatches) {
        const c = cards.get(d.id);
        expect(c?.dispatch).toEqual(d);
        expect(c?.whistle).toEqual({
          ...v,
          dispatches: v.dispatches.map((x) => ({ id: x.id, department: x.department })),
        });
        if (!c) continue;
        expect(renderDepartmentCard(c.whistle, c.dispatch, now, "Asia/Shanghai")).toEqual(
          renderDepartmentCard(v, d, now, "Asia/Shanghai"),
        );
      }
    }
    expect(cards.get(busy.id)?.dispatch).toMatchObject({ reporterCount: 25, lateMinutes: 4 });
    expect(cards.get(busy.id)?.dispatch.reporters).toHaveLength(VIEW_REPORTERS);
    expect(cards.get(quiet.id)?.dispatch.progress.map((p) => p.note)).toEqual(
      Array.from({ length: 12 }, (_, i) => `第${i}条`).slice(-VIEW_NOTES),
    );
    expect(cards.get(quiet.id)?.dispatch).toMatchObject({
      progressCount: 12,
      reporters: [],
      reporterCount: 0,
    });
    expect(cards.get(elsewhere.id)?.whistle).toMatchObject({ status: "resolved", resolution: "已清理" });
    expect(await departmentCardViews(t.db, [])).toEqual(new Map());
  });
});

describe(`epoch milliseconds in views (${process.env.TEST_DATABASE_URL ? "postgres" : "pglite"})`, () => {
  it("truncate exactly like the drivers, for whole milliseconds and for microseconds, 1970 to 2100", async () => {
    const rows = await executeRows<{ checked: number | string; wrong: number | string }>(
      t.db,
      sql`select count(*) as checked,
            count(*) filter (where ${epochMs(sql`v`)} <> floor(extract(epoch from v) * 1000)::float8) as wrong
          from (select timestamptz 'epoch' + (us::text || ' microseconds')::interval as v
                from (select i * 41231597000 as us from generate_series(0::bigint, 100000) i
                      union all
                      select i * 41231597123 + i % 1000 from generate_series(0::bigint, 100000) i) n) x`,
    );
    expect(Number(rows[0]?.checked)).toBe(200002);
    expect(Number(rows[0]?.wrong)).toBe(0);
  });
});

describe(`a whistle's timeline (${process.env.TEST_DATABASE_URL ? "postgres" : "pglite"})`, () => {
  it("reads colleagues' report-ins from report_ins as joined entries, in time order, after the department's own", async () => {
    const { cg, w1: w, busy: d1, quiet: d2, elsewhere } = await twoWhistles();
    await t.db
      .update(dispatches)
      .set({ state: "reported", reportedAt: at(60), reportedBy: "ou_first" })
      .where(eq(dispatches.id, d1.id));
    await addTimelineEntries(t.db, [
      { whistleId: w.id, at: at(0), kind: "whistled", actorOpenId: "ou_official" },
      {
        whistleId: w.id,
        at: at(60),
        kind: "reported",
        actorOpenId: "ou_first",
        departmentId: cg.id,
        data: { minutes: 1 },
      },
      {
        whistleId: w.id,
        at: at(300),
        kind: "resolved",
        actorOpenId: "ou_official",
        data: { text: "已处置" },
      },
    ]);
    await t.db.insert(reportIns).values([
      { dispatchId: d1.id, openId: "ou_late", at: at(120) },
      { dispatchId: d1.id, openId: "ou_first", at: at(60) },
      { dispatchId: d1.id, openId: "ou_same", at: at(60) },
      // A department whose first report-in is not recorded on the dispatch: every tap is a colleague's.
      { dispatchId: d2.id, openId: "ou_ga", at: at(90) },
      { dispatchId: elsewhere.id, openId: "ou_other", at: at(30) },
    ]);
    const entries = await timelineOf(t.db, w.id);
    expect(
      entries.map((e) => [e.at.getTime() - base.getTime(), e.kind, e.actorOpenId, e.departmentName]),
    ).toEqual([
      [0, "whistled", "ou_official", null],
      [60_000, "reported", "ou_first", "城管执法队"],
      [60_000, "joined", "ou_same", "城管执法队"],
      [90_000, "joined", "ou_ga", "派出所"],
      [120_000, "joined", "ou_late", "城管执法队"],
      [300_000, "resolved", "ou_official", null],
    ]);
    expect(entries[1]?.data).toEqual({ minutes: 1 });
    expect(entries[2]?.data).toEqual({});
  });
});
