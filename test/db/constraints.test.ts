import { eq } from "drizzle-orm";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  admins,
  chatBindings,
  dispatches,
  inboundEvents,
  jobRuns,
  outbox,
  ratings,
  reportIns,
  typePolicies,
  unitAliases,
  units,
  whistles,
} from "../../src/db/schema";
import { resetDatabase, type TestDatabase, testDatabase } from "../support/db";
import { insertDispatch, insertUnit, insertWhistle } from "../support/fixtures";

let t: TestDatabase;
beforeAll(async () => {
  t = await testDatabase();
});
beforeEach(async () => {
  await resetDatabase(t);
});

/** Postgres error code of a rejected statement (drizzle wraps the driver error in `cause`). */
async function pgCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: string; cause?: { code?: string } };
    return e.cause?.code ?? e.code ?? "unknown";
  }
  return "accepted";
}

const UNIQUE = "23505";
const CHECK = "23514";
const FK = "23503";

async function world() {
  const street = await insertUnit(t.db, "street", "朝阳门街道");
  const dept = await insertUnit(t.db, "department", "城管执法队");
  const whistle = await insertWhistle(t.db, street.id, "W20261127-001");
  const dispatch = await insertDispatch(t.db, whistle.id, dept.id, whistle.deadlineAt);
  return { street, dept, whistle, dispatch };
}

describe(`database constraints (${process.env.TEST_DATABASE_URL ? "postgres" : "pglite"})`, () => {
  it("one report-in per person per dispatch", async () => {
    const { dispatch } = await world();
    await t.db.insert(reportIns).values({ dispatchId: dispatch.id, openId: "ou_a" });
    await t.db.insert(reportIns).values({ dispatchId: dispatch.id, openId: "ou_b" });
    expect(await pgCode(t.db.insert(reportIns).values({ dispatchId: dispatch.id, openId: "ou_a" }))).toBe(
      UNIQUE,
    );
    expect(await t.db.select().from(reportIns)).toHaveLength(2);
  });

  it("one dispatch per department per whistle", async () => {
    const { whistle, dept } = await world();
    expect(await pgCode(insertDispatch(t.db, whistle.id, dept.id, whistle.deadlineAt))).toBe(UNIQUE);
    const other = await insertUnit(t.db, "department", "公安");
    await insertDispatch(t.db, whistle.id, other.id, whistle.deadlineAt);
    expect(await t.db.select().from(dispatches)).toHaveLength(2);
  });

  it("a dispatch needs an existing whistle and department", async () => {
    const { dept } = await world();
    expect(await pgCode(insertDispatch(t.db, 9999, dept.id, new Date()))).toBe(FK);
  });

  it("whistle codes are unique", async () => {
    const { street } = await world();
    expect(await pgCode(insertWhistle(t.db, street.id, "W20261127-001"))).toBe(UNIQUE);
  });

  it("a resolved whistle must say when", async () => {
    const { whistle } = await world();
    expect(
      await pgCode(t.db.update(whistles).set({ status: "resolved" }).where(eq(whistles.id, whistle.id))),
    ).toBe(CHECK);
    await t.db
      .update(whistles)
      .set({ status: "resolved", resolvedAt: new Date(), resolvedBy: "ou_official" })
      .where(eq(whistles.id, whistle.id));
  });

  it("a reported dispatch records who and when", async () => {
    const { dispatch } = await world();
    expect(
      await pgCode(t.db.update(dispatches).set({ state: "reported" }).where(eq(dispatches.id, dispatch.id))),
    ).toBe(CHECK);
  });

  it("inbound events are deduplicated by event_id and by message_id", async () => {
    const base = { eventType: "im.message.receive_v1", payload: {} };
    await t.db.insert(inboundEvents).values({ ...base, eventId: "ev1", messageId: "om_1" });
    expect(await pgCode(t.db.insert(inboundEvents).values({ ...base, eventId: "ev1" }))).toBe(UNIQUE);
    expect(
      await pgCode(t.db.insert(inboundEvents).values({ ...base, eventId: "ev2", messageId: "om_1" })),
    ).toBe(UNIQUE);
    // Events without a message (card callbacks, member events) do not collide on the NULL message id.
    await t.db.insert(inboundEvents).values({ ...base, eventId: "ev3" });
    await t.db.insert(inboundEvents).values({ ...base, eventId: "ev4" });
    expect(await t.db.select().from(inboundEvents)).toHaveLength(3);
  });

  it("outbox idempotency keys are unique", async () => {
    const row = { kind: "send" as const, target: "oc_x", payload: {}, idempotencyKey: "k1" };
    await t.db.insert(outbox).values(row);
    expect(await pgCode(t.db.insert(outbox).values(row))).toBe(UNIQUE);
    await t.db.insert(outbox).values({ ...row, idempotencyKey: null });
    await t.db.insert(outbox).values({ ...row, idempotencyKey: null });
  });

  it("a department has at most one card group, and only department chats are card groups", async () => {
    const { dept, street } = await world();
    await t.db
      .insert(chatBindings)
      .values({ chatId: "oc_d1", unitId: dept.id, role: "department", isCardGroup: true });
    await t.db.insert(chatBindings).values({ chatId: "oc_d2", unitId: dept.id, role: "department" });
    expect(
      await pgCode(
        t.db
          .insert(chatBindings)
          .values({ chatId: "oc_d3", unitId: dept.id, role: "department", isCardGroup: true }),
      ),
    ).toBe(UNIQUE);
    expect(
      await pgCode(
        t.db
          .insert(chatBindings)
          .values({ chatId: "oc_s1", unitId: street.id, role: "street", isCardGroup: true }),
      ),
    ).toBe(CHECK);
    expect(
      await pgCode(t.db.insert(chatBindings).values({ chatId: "oc_d1", unitId: street.id, role: "street" })),
    ).toBe(UNIQUE);
  });

  it("names are unique per kind and aliases unique across units", async () => {
    const { dept, street } = await world();
    expect(await pgCode(insertUnit(t.db, "department", "城管执法队"))).toBe(UNIQUE);
    await insertUnit(t.db, "oversight", "城管执法队"); // another kind may share the name
    await t.db.insert(unitAliases).values({ unitId: dept.id, alias: "城管", aliasKey: "城管" });
    expect(
      await pgCode(t.db.insert(unitAliases).values({ unitId: street.id, alias: "城管", aliasKey: "城管" })),
    ).toBe(UNIQUE);
  });

  it("a veto needs a reason", async () => {
    const { dispatch } = await world();
    const base = { dispatchId: dispatch.id, level: "unsatisfied" as const, ratedBy: "ou_official" };
    expect(await pgCode(t.db.insert(ratings).values({ ...base, veto: true }))).toBe(CHECK);
    expect(await pgCode(t.db.insert(ratings).values({ ...base, veto: true, vetoReason: "  " }))).toBe(CHECK);
    await t.db.insert(ratings).values({ ...base, veto: true, vetoReason: "未到场处置" });
    expect(await pgCode(t.db.insert(ratings).values({ ...base, level: "satisfied" }))).toBe(UNIQUE);
  });

  it("one policy per street and type, the district default (NULL street) included", async () => {
    const { street } = await world();
    await t.db.insert(typePolicies).values({ type: "emergency", reportLimitMinutes: 20 });
    expect(await pgCode(t.db.insert(typePolicies).values({ type: "emergency" }))).toBe(UNIQUE);
    await t.db
      .insert(typePolicies)
      .values({ streetId: street.id, type: "emergency", reportLimitMinutes: 15 });
    expect(await pgCode(t.db.insert(typePolicies).values({ streetId: street.id, type: "emergency" }))).toBe(
      UNIQUE,
    );
    expect(
      await pgCode(t.db.insert(typePolicies).values({ type: "key", buzzChannels: ["sms", "fax"] })),
    ).toBe(CHECK);
  });

  it("periodic jobs run once per key", async () => {
    await t.db.insert(jobRuns).values({ job: "digest", runKey: "2026-11-27" });
    expect(await pgCode(t.db.insert(jobRuns).values({ job: "digest", runKey: "2026-11-27" }))).toBe(UNIQUE);
  });

  it("admins are unique by open_id", async () => {
    await t.db.insert(admins).values({ openId: "ou_admin", source: "env" });
    expect(await pgCode(t.db.insert(admins).values({ openId: "ou_admin", source: "chat" }))).toBe(UNIQUE);
  });

  it("deleting a unit cascades to its aliases and bindings", async () => {
    const { street } = await world();
    const other = await insertUnit(t.db, "department", "园林");
    await t.db.insert(unitAliases).values({ unitId: other.id, alias: "园林局", aliasKey: "园林局" });
    await t.db.insert(chatBindings).values({ chatId: "oc_y", unitId: other.id, role: "department" });
    await t.db.delete(units).where(eq(units.id, other.id));
    expect(await t.db.select().from(unitAliases)).toHaveLength(0);
    expect(await t.db.select().from(chatBindings)).toHaveLength(0);
    expect(street.id).toBeGreaterThan(0);
  });
});
