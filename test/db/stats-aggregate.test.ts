import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DbOrTx } from "../../src/db/database";
import { dispatchFacts } from "../../src/db/queries/stats";
import { groupMetricsSql } from "../../src/db/queries/stats-aggregate";
import { dispatches, ratings, units, whistles } from "../../src/db/schema";
import { groupMetrics, type Metrics, nearestRank } from "../../src/domain/metrics";
import { resetDatabase, type TestDatabase, testDatabase } from "../support/db";

let t: TestDatabase;
beforeAll(async () => {
  t = await testDatabase();
});
beforeEach(async () => {
  await resetDatabase(t);
});

/** November 2026 in Beijing time: [from, to). */
const range = { from: new Date("2026-11-01T00:00:00+08:00"), to: new Date("2026-12-01T00:00:00+08:00") };
const MIN = 60_000;

/** A small deterministic generator (mulberry32), so a failure reproduces. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

async function unit(db: DbOrTx, kind: "street" | "department", name: string): Promise<number> {
  const [row] = await db.insert(units).values({ kind, name, nameKey: name }).returning({ id: units.id });
  if (!row) throw new Error("insert failed");
  return row.id;
}

let codes = 0;
async function whistle(
  db: DbOrTx,
  w: { streetId: number; at: Date; status: "open" | "resolved" | "cancelled"; limitMinutes: number },
): Promise<{ id: number; deadlineAt: Date }> {
  const deadlineAt = new Date(w.at.getTime() + w.limitMinutes * MIN);
  const [row] = await db
    .insert(whistles)
    .values({
      code: `W${++codes}`,
      type: "enforcement",
      matter: "占道经营",
      streetId: w.streetId,
      streetChatId: `oc_street_${w.streetId}`,
      whistlerOpenId: "ou_official",
      status: w.status,
      limitMinutes: w.limitMinutes,
      source: "command",
      createdAt: w.at,
      deadlineAt,
      resolvedAt: w.status === "resolved" ? new Date(w.at.getTime() + 120 * MIN) : null,
      cancelledAt: w.status === "cancelled" ? new Date(w.at.getTime() + 5 * MIN) : null,
    })
    .returning({ id: whistles.id });
  if (!row) throw new Error("insert failed");
  return { id: row.id, deadlineAt };
}

async function dispatch(
  db: DbOrTx,
  d: {
    whistleId: number;
    departmentId: number;
    deadlineAt: Date;
    reportedAt: Date | null;
    rating?: { level: "satisfied" | "basic" | "unsatisfied"; veto: boolean };
  },
): Promise<void> {
  const [row] = await db
    .insert(dispatches)
    .values({
      whistleId: d.whistleId,
      departmentId: d.departmentId,
      chatId: `oc_dept_${d.departmentId}`,
      deadlineAt: d.deadlineAt,
      state: d.reportedAt ? "reported" : "pending",
      reportedAt: d.reportedAt,
      reportedBy: d.reportedAt ? "ou_staff" : null,
    })
    .returning({ id: dispatches.id });
  if (!row) throw new Error("insert failed");
  if (d.rating) {
    await db.insert(ratings).values({
      dispatchId: row.id,
      level: d.rating.level,
      veto: d.rating.veto,
      vetoReason: d.rating.veto ? "推诿" : null,
      ratedBy: "ou_official",
    });
  }
}

/** Equal to the JS metrics: every count and rate exactly, the mean to 1e-9 (summation order). */
function expectSameMetrics(actual: Map<number, Metrics>, expected: Map<number, Metrics>) {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [id, e] of expected) {
    const { avgMinutesToReport: avg, ...rest } = actual.get(id) ?? ({} as Metrics);
    const { avgMinutesToReport: expectedAvg, ...expectedRest } = e;
    expect({ id, ...rest }).toEqual({ id, ...expectedRest });
    if (expectedAvg === null) expect(avg).toBeNull();
    else expect(avg).toBeCloseTo(expectedAvg, 9);
  }
}

/**
 * Four streets, seven departments, 120 whistles around November: open, resolved and cancelled;
 * report-ins on time, exactly at the deadline, late, before the whistle (counts as 0 minutes), at
 * tied minutes, or never; ratings of every level with vetoes on a share; whistles exactly at and
 * one millisecond around both ends of the range. Department 7 is only ever on cancelled whistles.
 * Returns the ids and the number of dispatches that should count.
 */
async function seedVaried(db: DbOrTx) {
  const next = random(20261127);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const streets = [
    await unit(db, "street", "朝阳门街道"),
    await unit(db, "street", "建国门街道"),
    await unit(db, "street", "东四街道"),
    await unit(db, "street", "和平里街道"),
  ];
  const departments: number[] = [];
  for (const name of ["城管执法队", "公安", "市场监管", "住建", "交通", "卫健", "消防"]) {
    departments.push(await unit(db, "department", name));
  }
  const onlyCancelled = departments[6] as number;
  const span = range.to.getTime() - range.from.getTime();
  const boundaries = [
    range.from,
    new Date(range.from.getTime() - 1),
    new Date(range.from.getTime() + 1),
    range.to,
    new Date(range.to.getTime() - 1),
    new Date(range.to.getTime() + 1),
  ];
  let counted = 0;
  for (let i = 0; i < 120; i++) {
    const at =
      boundaries[i] ??
      new Date(range.from.getTime() - 3 * 86_400_000 + Math.floor(next() * (span + 6 * 86_400_000)));
    const roll = next();
    const status = roll < 0.4 ? "open" : roll < 0.85 ? "resolved" : "cancelled";
    const w = await whistle(db, { streetId: pick(streets), at, status, limitMinutes: pick([15, 30, 60]) });
    const live = status !== "cancelled" && at >= range.from && at < range.to;
    const chosen = departments.slice(0, 6).filter(() => next() < 0.45);
    if (chosen.length === 0) chosen.push(pick(departments.slice(0, 6)));
    if (status === "cancelled" && next() < 0.5) chosen.push(onlyCancelled);
    for (const departmentId of chosen) {
      const kind = next();
      const reportedAt =
        kind < 0.2
          ? null // never reported
          : kind < 0.3
            ? w.deadlineAt // exactly at the deadline: on time
            : kind < 0.35
              ? new Date(at.getTime() - 90_000) // clock skew: before the whistle, counts as 0
              : kind < 0.55
                ? new Date(at.getTime() + pick([5, 10, 20]) * MIN) // tied minutes
                : kind < 0.8
                  ? new Date(at.getTime() + Math.floor(next() * 60 * MIN)) // on time or late
                  : new Date(w.deadlineAt.getTime() + 1 + Math.floor(next() * 600 * MIN)); // late
      const rating =
        status === "resolved" && next() < 0.7
          ? { level: pick(["satisfied", "basic", "unsatisfied"] as const), veto: next() < 0.15 }
          : undefined;
      await dispatch(db, { whistleId: w.id, departmentId, deadlineAt: w.deadlineAt, reportedAt, rating });
      if (live) counted++;
    }
  }
  return { streets, departments, onlyCancelled, counted };
}

describe(`groupMetricsSql (${process.env.TEST_DATABASE_URL ? "postgres" : "pglite"})`, () => {
  it("equals groupMetrics over dispatchFacts, by department and by street", async () => {
    const { onlyCancelled, counted } = await seedVaried(t.db);
    const facts = await dispatchFacts(t.db, range, { all: true });
    expect(facts).toHaveLength(counted);
    for (const by of ["department", "street"] as const) {
      const expected = groupMetrics(facts, by);
      const actual = await groupMetricsSql(t.db, range, by);
      expectSameMetrics(actual, expected);
      expect([...actual.values()].reduce((n, m) => n + m.summoned, 0)).toBe(counted);
    }
    const byDept = await groupMetricsSql(t.db, range, "department");
    expect(byDept.has(onlyCancelled)).toBe(false);
    // The data exercises every branch (so the equality above is not vacuous).
    const all = [...byDept.values()];
    const sum = (f: (m: Metrics) => number) => all.reduce((n, m) => n + f(m), 0);
    expect(sum((m) => m.reported - m.reportedOnTime)).toBeGreaterThan(0); // late
    expect(sum((m) => m.summoned - m.reported)).toBeGreaterThan(0); // never reported
    expect(sum((m) => m.summoned - m.resolved)).toBeGreaterThan(0); // open
    expect(sum((m) => m.resolved)).toBeGreaterThan(0);
    expect(sum((m) => m.satisfied) * sum((m) => m.basic) * sum((m) => m.unsatisfied)).toBeGreaterThan(0);
    expect(sum((m) => m.vetoes)).toBeGreaterThan(0);
  });

  it("equals groupMetrics over dispatchFacts within a street's or a department's scope", async () => {
    const { streets, departments } = await seedVaried(t.db);
    const street = streets[1] as number;
    const department = departments[2] as number;
    const byStreet = await dispatchFacts(t.db, range, { streetId: street });
    expect(byStreet.length).toBeGreaterThan(0);
    expectSameMetrics(
      await groupMetricsSql(t.db, range, "department", { streetId: street }),
      groupMetrics(byStreet, "department"),
    );
    const byDepartment = await dispatchFacts(t.db, range, { departmentId: department });
    expect(byDepartment.length).toBeGreaterThan(0);
    expectSameMetrics(
      await groupMetricsSql(t.db, range, "street", { departmentId: department }),
      groupMetrics(byDepartment, "street"),
    );
    expectSameMetrics(
      await groupMetricsSql(t.db, range, "department", { streetId: street, departmentId: department }),
      groupMetrics(
        byStreet.filter((f) => f.departmentId === department),
        "department",
      ),
    );
  });

  it("p90 is the nearest rank for 1–21 report-ins, with ties", async () => {
    const street = await unit(t.db, "street", "朝阳门街道");
    const sizes = [1, 2, 3, 9, 10, 11, 19, 20, 21];
    const depts: number[] = [];
    for (const n of sizes) depts.push(await unit(t.db, "department", `部门${n}`));
    const at = new Date("2026-11-10T09:00:00+08:00");
    const next = random(90);
    const ws = [];
    for (let i = 0; i < Math.max(...sizes); i++) {
      ws.push(await whistle(t.db, { streetId: street, at, status: "open", limitMinutes: 30 }));
    }
    const minutes = new Map<number, number[]>();
    for (const [k, n] of sizes.entries()) {
      const departmentId = depts[k] as number;
      const list: number[] = [];
      for (const w of ws.slice(0, n)) {
        // Few distinct values (ties), some fractional; one never reported on the larger groups.
        const ms = Math.floor(next() * 4) * 450_000 + (next() < 0.3 ? 61 : 0);
        const reported = n < 5 || next() > 0.1;
        await dispatch(t.db, {
          whistleId: w.id,
          departmentId,
          deadlineAt: w.deadlineAt,
          reportedAt: reported ? new Date(at.getTime() + ms) : null,
        });
        if (reported) list.push(ms / MIN);
      }
      minutes.set(departmentId, list);
    }
    const actual = await groupMetricsSql(t.db, range, "department");
    expectSameMetrics(actual, groupMetrics(await dispatchFacts(t.db, range, { all: true }), "department"));
    for (const [id, list] of minutes) {
      const sorted = [...list].sort((a, b) => a - b);
      expect(actual.get(id)?.p90MinutesToReport).toBe(nearestRank(sorted, 90));
    }
  });

  it("an empty range gives no groups", async () => {
    await seedVaried(t.db);
    const empty = { from: new Date("2020-01-01T00:00:00Z"), to: new Date("2020-02-01T00:00:00Z") };
    expect((await groupMetricsSql(t.db, empty, "department")).size).toBe(0);
  });
});
