import { count, eq, inArray, sql } from "drizzle-orm";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  addReportIns,
  chatsOfDepartments,
  lockDispatches,
  lockWhistlesShared,
  reportersAmong,
} from "../../src/db/queries/whistles";
import { chatBindings, dispatches, reportIns, whistles } from "../../src/db/schema";
import { Statement } from "../../src/db/statement";
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

describe(`statements built once (${process.env.TEST_DATABASE_URL ? "postgres" : "pglite"})`, () => {
  it("lock whistles and dispatches into exactly the rows drizzle's select gives, every column decoded", async () => {
    const street = await insertUnit(t.db, "street", "朝阳门街道");
    const cg = await insertUnit(t.db, "department", "城管执法队");
    const ga = await insertUnit(t.db, "department", "派出所");
    const w1 = await insertWhistle(t.db, street.id, "W261127-01", base);
    const w2 = await insertWhistle(t.db, street.id, "W261127-02", base);
    await t.db
      .update(whistles)
      .set({
        status: "resolved",
        place: "东直门",
        resolvedAt: at(3600),
        resolvedBy: "ou_official",
        resolution: "已清理",
        summaryMessageId: "om_summary",
        ratingRemindedAt: at(7200),
      })
      .where(eq(whistles.id, w1.id));
    const full = await insertDispatch(t.db, w1.id, cg.id, at(1800));
    const bare = await insertDispatch(t.db, w1.id, ga.id, at(1800));
    await t.db
      .update(dispatches)
      .set({
        state: "on_site",
        cardMessageId: "om_card",
        reportedAt: at(60),
        reportedBy: "ou_0",
        lateMinutes: 0,
        onSiteAt: at(600),
        onSiteBy: "ou_1",
        remindedAt: at(1500),
        overdueAt: at(1801),
        escalationCount: 2,
        lastEscalatedAt: at(1900),
        lastProgressAskAt: at(2000),
        nextCheckAt: at(2100),
      })
      .where(eq(dispatches.id, full.id));

    const expectedWhistles = await t.db
      .select()
      .from(whistles)
      .where(inArray(whistles.id, [w1.id, w2.id]))
      .orderBy(whistles.id);
    const expectedDispatches = await t.db
      .select()
      .from(dispatches)
      .where(inArray(dispatches.id, [full.id, bare.id]))
      .orderBy(dispatches.id);
    const [locked, gotDispatches] = await t.db.transaction(async (tx) =>
      Promise.all([
        lockWhistlesShared(tx, [w2.id, w1.id], [w1.id]),
        lockDispatches(tx, [bare.id, full.id, 999_999]),
      ]),
    );
    const gotWhistles = locked.map((l) => l.row);
    expect(gotWhistles).toEqual(expectedWhistles);
    // With the street's name, and the summoned departments of the whistles asked for only.
    expect(locked.map((l) => l.streetName)).toEqual(["朝阳门街道", "朝阳门街道"]);
    expect(locked.map((l) => l.summoned)).toEqual([
      [
        [full.id, cg.id, "城管执法队"],
        [bare.id, ga.id, "派出所"],
      ],
      null,
    ]);
    expect(gotDispatches).toEqual(expectedDispatches);
    expect(gotDispatches[0]?.reportedAt).toBeInstanceOf(Date);
    expect(gotDispatches[0]?.reportedAt?.getTime()).toBe(at(60).getTime());
    expect(gotDispatches[1]?.reportedAt).toBeNull();
    expect(gotWhistles[0]?.resolvedAt?.getTime()).toBe(at(3600).getTime());
  });

  it("run in the transaction they are given, and one placeholder used twice takes its value twice", async () => {
    const street = await insertUnit(t.db, "street", "朝阳门街道");
    const cg = await insertUnit(t.db, "department", "城管执法队");
    await t.db.insert(chatBindings).values([
      { chatId: "oc_a", unitId: cg.id, role: "department", boundBy: "ou_admin" },
      { chatId: "oc_b", unitId: cg.id, role: "department", boundBy: "ou_admin" },
    ]);
    const w = await insertWhistle(t.db, street.id, "W261127-01", base);
    const d = await insertDispatch(t.db, w.id, cg.id, at(1800));

    const rolledBack = new Error("roll back");
    await expect(
      t.db.transaction(async (tx) => {
        await addReportIns(tx, [
          { dispatchId: d.id, openId: "ou_1", at: at(10) },
          { dispatchId: d.id, openId: "ou_2", at: at(20) },
        ]);
        // Seen inside the transaction …
        expect(
          await reportersAmong(tx, [
            { dispatchId: d.id, openId: "ou_2" },
            { dispatchId: d.id, openId: "ou_3" },
          ]),
        ).toEqual([{ dispatchId: d.id, openId: "ou_2" }]);
        throw rolledBack;
      }),
    ).rejects.toBe(rolledBack);
    // … and gone with it.
    const [left] = await t.db.select({ n: count() }).from(reportIns);
    expect(Number(left?.n)).toBe(0);

    const chats = await chatsOfDepartments(t.db, [d.id, d.id]);
    expect([...chats.entries()].map(([unit, list]) => [unit, [...list].sort()])).toEqual([
      [cg.id, ["oc_a", "oc_b"]],
    ]);

    const twice = new Statement<{ n: number }>((p) => sql`select ${p("n")}::int + ${p("n")}::int as sum`);
    expect(twice.text.sql).toBe("select $1::int + $2::int as sum");
    expect(twice.text).toBe(twice.text); // built once
    expect(await twice.rows<{ sum: number }>(t.db, { n: 21 })).toEqual([{ sum: 42 }]);
  });
});
