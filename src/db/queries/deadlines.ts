import { and, asc, eq, inArray, isNull, lte, max, notInArray, or, sql } from "drizzle-orm";
import { DEFAULT_POLICY, type DeadlinePolicy } from "../../domain/deadlines";
import { DEFAULT_LIMIT_MINUTES, type WhistleType } from "../../domain/whistle";
import type { DbOrTx } from "../database";
import { chatBindings, dispatches, dutyContacts, progressNotes, typePolicies, whistles } from "../schema";

/** The deadline sweep's queries: claim due dispatches, read the rules, record what was done. */

export interface DueDispatch {
  dispatch: typeof dispatches.$inferSelect;
  whistle: Pick<typeof whistles.$inferSelect, "id" | "status" | "type" | "streetId" | "createdAt">;
  lastProgressAt: Date | null;
}

/**
 * The advisory-lock namespace of "a sweep is acting on this whistle" (an arbitrary constant, distinct
 * from SUMMARY_LOCK in whistles.ts: both are keyed by whistle id).
 */
const SWEEP_WHISTLE_LOCK = 57_460_832;

/**
 * Lock up to `limit` dispatches whose next check is due, oldest first. SKIP LOCKED lets several
 * sweeps run side by side without ever taking the same row; the partial index on next_check_at
 * makes the cost follow the number of due rows, not of open ones.
 *
 * A whistle's due dispatches go to one sweep: each sweep takes the whistle's advisory lock (try,
 * until its transaction ends) before a row of it, so two sweeps at once never split a whistle's late
 * departments over two escalation cards. A whistle another sweep holds is skipped, like a locked row.
 */
export async function claimDueDispatches(db: DbOrTx, now: Date, limit: number): Promise<DueDispatch[]> {
  const select = () =>
    db
      .select({
        dispatch: dispatches,
        whistle: {
          id: whistles.id,
          status: whistles.status,
          type: whistles.type,
          streetId: whistles.streetId,
          createdAt: whistles.createdAt,
        },
      })
      .from(dispatches)
      .innerJoin(whistles, eq(whistles.id, dispatches.whistleId));
  // A whistle's dispatches share a deadline: keep them together, so one escalation card names all
  // of its late departments.
  const rows = await select()
    .where(
      and(
        lte(dispatches.nextCheckAt, now),
        sql`pg_try_advisory_xact_lock(${SWEEP_WHISTLE_LOCK}::int, ${dispatches.whistleId})`,
      ),
    )
    .orderBy(asc(dispatches.nextCheckAt), asc(dispatches.whistleId), asc(dispatches.id))
    .limit(limit)
    .for("update", { of: dispatches, skipLocked: true });
  if (rows.length === 0) return [];
  const last = rows[rows.length - 1]?.whistle.id as number;
  if (rows.length === limit) {
    // The chunk may have cut the last whistle short: take the rest of its due dispatches too.
    const rest = await select()
      .where(
        and(
          eq(dispatches.whistleId, last),
          lte(dispatches.nextCheckAt, now),
          notInArray(
            dispatches.id,
            rows.map((r) => r.dispatch.id),
          ),
        ),
      )
      .for("update", { of: dispatches, skipLocked: true });
    rows.push(...rest);
  }
  const notes = await db
    .select({ dispatchId: progressNotes.dispatchId, at: max(progressNotes.at) })
    .from(progressNotes)
    .where(
      inArray(
        progressNotes.dispatchId,
        rows.map((r) => r.dispatch.id),
      ),
    )
    .groupBy(progressNotes.dispatchId);
  const lastNote = new Map(notes.map((n) => [n.dispatchId, n.at]));
  return rows.map((r) => Object.assign({}, r, { lastProgressAt: lastNote.get(r.dispatch.id) ?? null }));
}

/** The timing rules for a street's whistles of a type: the street's own row, else the district's, else defaults. */
export async function deadlinePolicy(
  db: DbOrTx,
  streetId: number,
  type: WhistleType,
): Promise<DeadlinePolicy & { reportLimitMinutes: number }> {
  const rows = await db
    .select()
    .from(typePolicies)
    .where(
      and(
        eq(typePolicies.type, type),
        or(eq(typePolicies.streetId, streetId), isNull(typePolicies.streetId)),
      ),
    );
  const own = rows.find((r) => r.streetId === streetId) ?? rows.find((r) => r.streetId === null);
  if (!own) return Object.assign({}, DEFAULT_POLICY, { reportLimitMinutes: DEFAULT_LIMIT_MINUTES });
  return {
    reportLimitMinutes: own.reportLimitMinutes,
    remindBeforeMinutes: own.remindBeforeMinutes,
    escalateEveryMinutes: own.escalateEveryMinutes,
    escalateMaxTimes: own.escalateMaxTimes,
    progressEveryHours: own.progressEveryHours,
    buzzChannels: own.buzzChannels,
  };
}

export async function dutyByDepartment(db: DbOrTx, departmentIds: number[]): Promise<Map<number, string[]>> {
  if (departmentIds.length === 0) return new Map();
  const rows = await db.select().from(dutyContacts).where(inArray(dutyContacts.departmentId, departmentIds));
  const out = new Map<number, string[]>();
  for (const r of rows) out.set(r.departmentId, [...(out.get(r.departmentId) ?? []), r.openId]);
  return out;
}

export async function oversightChats(db: DbOrTx): Promise<string[]> {
  const rows = await db
    .select({ chatId: chatBindings.chatId })
    .from(chatBindings)
    .where(eq(chatBindings.role, "oversight"));
  return rows.map((r) => r.chatId);
}

/** Still waiting for this department (pending, whistle open)? Used as a delivery guard. */
export async function dispatchStillPending(db: DbOrTx, dispatchIds: number[]): Promise<boolean> {
  if (dispatchIds.length === 0) return false;
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(dispatches)
    .innerJoin(whistles, eq(whistles.id, dispatches.whistleId))
    .where(
      and(inArray(dispatches.id, dispatchIds), eq(dispatches.state, "pending"), eq(whistles.status, "open")),
    );
  return (row?.n ?? 0) > 0;
}

export async function whistleStillOpen(db: DbOrTx, whistleId: number): Promise<boolean> {
  const [row] = await db.select({ status: whistles.status }).from(whistles).where(eq(whistles.id, whistleId));
  return row?.status === "open";
}
