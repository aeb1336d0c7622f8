import { and, asc, eq, inArray, lte, or, sql } from "drizzle-orm";
import type { DbOrTx } from "../database";
import { outbox } from "../schema";

export type OutboxRow = typeof outbox.$inferSelect;

/**
 * Claim up to `limit` due rows for delivery: pending rows whose time has come, and rows a crashed
 * worker left "sending" past their lease. SKIP LOCKED lets several workers claim side by side
 * without ever taking the same row.
 */
export async function claimDueOutbox(
  db: DbOrTx,
  now: Date,
  leaseMs: number,
  limit: number,
): Promise<OutboxRow[]> {
  const due = db
    .select({ id: outbox.id })
    .from(outbox)
    .where(
      or(
        and(eq(outbox.status, "pending"), lte(outbox.nextAttemptAt, now)),
        and(eq(outbox.status, "sending"), lte(outbox.claimedUntil, now)),
      ),
    )
    .orderBy(asc(outbox.nextAttemptAt), asc(outbox.id))
    .limit(limit)
    .for("update", { skipLocked: true });
  const rows = await db
    .update(outbox)
    .set({
      status: "sending",
      attempts: sql`${outbox.attempts} + 1`,
      claimedUntil: new Date(now.getTime() + leaseMs),
    })
    .where(inArray(outbox.id, due))
    .returning();
  return rows.sort((a, b) => a.id - b.id);
}

/** Each transition applies only while this worker still holds the row (status "sending"). */
const held = (id: number) => and(eq(outbox.id, id), eq(outbox.status, "sending"));

export async function markOutboxSent(db: DbOrTx, id: number, now: Date, messageId: string | null) {
  await db
    .update(outbox)
    .set({ status: "sent", sentAt: now, resultMessageId: messageId, claimedUntil: null, lastError: null })
    .where(held(id));
}

export async function markOutboxRetry(db: DbOrTx, id: number, at: Date, error: string) {
  await db
    .update(outbox)
    .set({ status: "pending", nextAttemptAt: at, claimedUntil: null, lastError: error.slice(0, 500) })
    .where(held(id));
}

/** Put a row back without counting the attempt (waiting for a rate-limit slot or a referenced send). */
export async function deferOutbox(db: DbOrTx, id: number, at: Date, why: string) {
  await db
    .update(outbox)
    .set({
      status: "pending",
      nextAttemptAt: at,
      claimedUntil: null,
      attempts: sql`greatest(${outbox.attempts} - 1, 0)`,
      lastError: why,
    })
    .where(held(id));
}

export async function markOutboxFinal(db: DbOrTx, id: number, status: "failed" | "dropped", reason: string) {
  await db
    .update(outbox)
    .set({ status, claimedUntil: null, lastError: reason.slice(0, 500) })
    .where(held(id));
}

export async function outboxByKey(db: DbOrTx, key: string): Promise<OutboxRow | undefined> {
  const [row] = await db.select().from(outbox).where(eq(outbox.idempotencyKey, key));
  return row;
}
