import { and, asc, eq, gte, lt } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { DbOrTx } from "../database";
import { dispatches, ratings, units, whistles } from "../schema";

/** Rows for the /导出 workbook: whistles made in [from, to), their dispatches and ratings. */
export async function exportRows(db: DbOrTx, range: { from: Date; to: Date }) {
  const street = alias(units, "street");
  const dept = alias(units, "dept");
  const inRange = and(gte(whistles.createdAt, range.from), lt(whistles.createdAt, range.to));
  const ws = await db
    .select({ w: whistles, street: street.name })
    .from(whistles)
    .innerJoin(street, eq(street.id, whistles.streetId))
    .where(inRange)
    .orderBy(asc(whistles.createdAt), asc(whistles.id));
  const ds = await db
    .select({ d: dispatches, code: whistles.code, department: dept.name, rating: ratings })
    .from(dispatches)
    .innerJoin(whistles, eq(whistles.id, dispatches.whistleId))
    .innerJoin(dept, eq(dept.id, dispatches.departmentId))
    .leftJoin(ratings, eq(ratings.dispatchId, dispatches.id))
    .where(inRange)
    .orderBy(asc(whistles.createdAt), asc(dispatches.id));
  return { whistles: ws, dispatches: ds };
}
