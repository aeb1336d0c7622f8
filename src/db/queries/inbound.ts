import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { columnName, type DbOrTx } from "../database";
import { inboundEvents } from "../schema";
import { Statement } from "../statement";

/**
 * The inbound log's queries. Events that need work (commands, membership events) are recorded
 * `pending` when they are acknowledged and processed afterwards; card callbacks, which must answer
 * with their result, are recorded `done` in the transaction that handles them.
 */

export interface InboundInsert {
  eventId: string;
  messageId: string | null;
  eventType: string;
  payload: unknown;
  /** "done" when handled in the same transaction; "pending" to be processed after the ack. */
  status: "pending" | "done";
}

/**
 * Record events; returns the ids of the new ones (duplicates by event_id or message_id are skipped).
 * One statement with the rows as ONE jsonb parameter, whatever the batch size: its text never
 * changes (the server plans it once), and the payloads travel as JSON once — not escaped again
 * as elements of a text array.
 */
export async function recordInbound(db: DbOrTx, rows: InboundInsert[], now: Date): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const json = JSON.stringify(
    rows.map((r) => ({ e: r.eventId, m: r.messageId, t: r.eventType, p: r.payload, s: r.status })),
  );
  const fresh = await RECORD_INBOUND.rows<{ event_id: string }>(db, { json, at: now.toISOString() });
  return new Set(fresh.map((f) => f.event_id));
}

const RECORD_INBOUND = new Statement<{ json: string; at: string }>(
  (
    p,
  ) => sql`insert into ${inboundEvents} (${columnName(inboundEvents.eventId)}, ${columnName(inboundEvents.messageId)},
      ${columnName(inboundEvents.eventType)}, ${columnName(inboundEvents.payload)}, ${columnName(inboundEvents.status)},
      ${columnName(inboundEvents.attempts)}, ${columnName(inboundEvents.receivedAt)}, ${columnName(inboundEvents.processedAt)})
    select r.v->>'e', r.v->>'m', r.v->>'t', (r.v->'p')::jsonb, (r.v->>'s')::inbound_status,
      case when r.v->>'s' = 'done' then 1 else 0 end, ${p("at")}::timestamptz,
      case when r.v->>'s' = 'done' then ${p("at")}::timestamptz end
    from jsonb_array_elements(${p("json")}::jsonb) with ordinality as r(v, n)
    order by r.n
    on conflict do nothing
    returning ${columnName(inboundEvents.eventId)}`,
);

export interface PendingInbound {
  id: number;
  eventId: string;
  payload: unknown;
  attempts: number;
}

/** Claim pending events, oldest first; SKIP LOCKED lets several processes work side by side. */
export async function claimPendingInbound(db: DbOrTx, limit: number): Promise<PendingInbound[]> {
  return db
    .select({
      id: inboundEvents.id,
      eventId: inboundEvents.eventId,
      payload: inboundEvents.payload,
      attempts: inboundEvents.attempts,
    })
    .from(inboundEvents)
    .where(eq(inboundEvents.status, "pending"))
    .orderBy(asc(inboundEvents.id))
    .limit(limit)
    .for("update", { skipLocked: true });
}

export async function markInboundDone(db: DbOrTx, ids: number[], now: Date): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(inboundEvents)
    .set({ status: "done", processedAt: now, attempts: sql`${inboundEvents.attempts} + 1`, lastError: null })
    .where(inArray(inboundEvents.id, ids));
}

/** A failed attempt: counted, with the error; `failed` once it has had its chances. */
export async function markInboundFailed(
  db: DbOrTx,
  id: number,
  error: string,
  now: Date,
  final: boolean,
): Promise<void> {
  await db
    .update(inboundEvents)
    .set({
      status: final ? "failed" : "pending",
      attempts: sql`${inboundEvents.attempts} + 1`,
      lastError: error.slice(0, 500),
      processedAt: final ? now : null,
    })
    .where(and(eq(inboundEvents.id, id), eq(inboundEvents.status, "pending")));
}

export async function pendingInboundCount(db: DbOrTx): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(inboundEvents)
    .where(eq(inboundEvents.status, "pending"));
  return Number(row?.n ?? 0);
}
