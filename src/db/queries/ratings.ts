import { and, eq, inArray, isNull, lte } from "drizzle-orm";
import type { ExistingRating, RatingLevel } from "../../domain/rating";
import type { DbOrTx } from "../database";
import { dispatches, ratings, whistles } from "../schema";

/** Ratings of the given dispatches, by dispatch id. */
export async function ratingsOf(db: DbOrTx, dispatchIds: number[]): Promise<Map<number, ExistingRating>> {
  if (dispatchIds.length === 0) return new Map();
  const rows = await db.select().from(ratings).where(inArray(ratings.dispatchId, dispatchIds));
  return new Map(
    rows.map((r) => [
      r.dispatchId,
      { level: r.level, veto: r.veto, comment: r.comment, vetoReason: r.vetoReason, ratedAt: r.ratedAt },
    ]),
  );
}

/** Set a rating; the first rating's time stays (it starts the 24 h window). */
export async function saveRating(
  db: DbOrTx,
  dispatchId: number,
  r: { level: RatingLevel; veto: boolean; comment: string | null; vetoReason: string | null },
  by: string,
  now: Date,
): Promise<void> {
  await db
    .insert(ratings)
    .values({ dispatchId, ...r, ratedBy: by, ratedAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: ratings.dispatchId,
      set: {
        level: r.level,
        veto: r.veto,
        comment: r.comment,
        vetoReason: r.vetoReason,
        ratedBy: by,
        updatedAt: now,
      },
    });
}

/**
 * Resolved whistles still waiting for a rating reminder: resolved before `before`, not reminded,
 * with at least one unrated dispatch. Claimed with SKIP LOCKED so two sweeps remind once.
 */
export async function unratedToRemind(db: DbOrTx, before: Date, limit = 100): Promise<number[]> {
  const rows = await db
    .select({ id: whistles.id })
    .from(whistles)
    .where(
      and(
        eq(whistles.status, "resolved"),
        isNull(whistles.ratingRemindedAt),
        lte(whistles.resolvedAt, before),
      ),
    )
    .limit(limit)
    .for("update", { skipLocked: true });
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const ds = await db
    .select({ whistleId: dispatches.whistleId, rated: ratings.dispatchId })
    .from(dispatches)
    .leftJoin(ratings, eq(ratings.dispatchId, dispatches.id))
    .where(inArray(dispatches.whistleId, ids));
  const unrated = new Set(ds.filter((d) => d.rated === null).map((d) => d.whistleId));
  // Fully rated whistles need no reminder: mark them done too.
  const done = ids.filter((id) => !unrated.has(id));
  if (done.length > 0)
    await db.update(whistles).set({ ratingRemindedAt: before }).where(inArray(whistles.id, done));
  return ids.filter((id) => unrated.has(id));
}
