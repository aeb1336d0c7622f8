import { and, desc, eq, gte, isNotNull, lt, ne, type SQL, sql } from "drizzle-orm";
import type { DispatchFact } from "../../domain/metrics";
import type { WhistleType } from "../../domain/whistle";
import type { DbOrTx } from "../database";
import { dispatches, ratings, units, whistles } from "../schema";

/** Whistles made in [from, to) that count (cancelled ones count nowhere). */
function countedIn(range: { from: Date; to: Date }): SQL | undefined {
  return and(
    gte(whistles.createdAt, range.from),
    lt(whistles.createdAt, range.to),
    ne(whistles.status, "cancelled"),
  );
}

export type StatsScope = { all: true } | { streetId: number } | { departmentId: number };

/** The facts the assessment metrics are computed from, for whistles made in [from, to). */
export async function dispatchFacts(
  db: DbOrTx,
  range: { from: Date; to: Date },
  scope: StatsScope,
): Promise<DispatchFact[]> {
  const rows = await db
    .select({
      whistleId: whistles.id,
      whistleStatus: whistles.status,
      whistledAt: whistles.createdAt,
      streetId: whistles.streetId,
      departmentId: dispatches.departmentId,
      deadlineAt: dispatches.deadlineAt,
      reportedAt: dispatches.reportedAt,
      rating: ratings.level,
      veto: ratings.veto,
    })
    .from(dispatches)
    .innerJoin(whistles, eq(whistles.id, dispatches.whistleId))
    .leftJoin(ratings, eq(ratings.dispatchId, dispatches.id))
    .where(
      and(
        countedIn(range),
        "streetId" in scope ? eq(whistles.streetId, scope.streetId) : undefined,
        "departmentId" in scope ? eq(dispatches.departmentId, scope.departmentId) : undefined,
      ),
    );
  return rows.map((r) => Object.assign({}, r, { veto: r.veto ?? false }));
}

/** Whistles (not cancelled) in [from, to): when and of what type, for the daily chart. */
export async function whistleTimes(
  db: DbOrTx,
  range: { from: Date; to: Date },
  scope: StatsScope,
): Promise<{ at: Date; type: WhistleType }[]> {
  if ("departmentId" in scope) {
    return db
      .selectDistinct({ id: whistles.id, at: whistles.createdAt, type: whistles.type })
      .from(dispatches)
      .innerJoin(whistles, eq(whistles.id, dispatches.whistleId))
      .where(and(eq(dispatches.departmentId, scope.departmentId), countedIn(range)));
  }
  return db
    .select({ at: whistles.createdAt, type: whistles.type })
    .from(whistles)
    .where(and(countedIn(range), "streetId" in scope ? eq(whistles.streetId, scope.streetId) : undefined));
}

/** Departments that missed a deadline on whistles made in [from, to), with how often. */
export async function lateDepartments(
  db: DbOrTx,
  range: { from: Date; to: Date },
): Promise<{ department: string; overdue: number }[]> {
  const rows = await db
    .select({ department: units.name, overdue: sql<number>`count(*)::int` })
    .from(dispatches)
    .innerJoin(whistles, eq(whistles.id, dispatches.whistleId))
    .innerJoin(units, eq(units.id, dispatches.departmentId))
    .where(and(countedIn(range), isNotNull(dispatches.overdueAt)))
    .groupBy(units.name)
    .orderBy(desc(sql`count(*)`));
  return rows;
}
