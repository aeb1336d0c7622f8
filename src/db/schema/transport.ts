import { sql } from "drizzle-orm";
import { bigint, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";
import { inboundStatus, outboxKind, outboxStatus } from "./enums";

const ts = (name: string) => timestamp(name, { withTimezone: true });

/**
 * Inbound events, recorded before Lark gets its 200: the dedupe keys (event_id, and message_id for
 * messages) and the normalised event, so the work survives a crash between ack and processing.
 */
export const inboundEvents = pgTable(
  "inbound_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    eventId: text("event_id").notNull(),
    messageId: text("message_id"),
    eventType: text("event_type").notNull(),
    payload: jsonb("payload").notNull(),
    status: inboundStatus("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    receivedAt: ts("received_at").notNull().defaultNow(),
    processedAt: ts("processed_at"),
  },
  (t) => [
    uniqueIndex("inbound_events_event_id_key").on(t.eventId),
    uniqueIndex("inbound_events_message_id_key").on(t.messageId),
    index("inbound_events_pending").on(t.receivedAt).where(sql`${t.status} = 'pending'`),
  ],
);

/**
 * Pending Lark API calls, written in the same transaction as the state change that caused them and
 * delivered by the outbox worker.
 */
export const outbox = pgTable(
  "outbox",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    kind: outboxKind("kind").notNull(),
    /** chat_id for sends, message_id for replies, patches and buzzes. */
    target: text("target").notNull(),
    payload: jsonb("payload").notNull(),
    /** Lark's `uuid` for sends and replies: a retry can never post twice. */
    idempotencyKey: text("idempotency_key"),
    /** One per card message: only the newest pending render is delivered. */
    coalesceKey: text("coalesce_key"),
    /** Conditions checked at delivery time; the row is dropped when they no longer hold. */
    guard: jsonb("guard"),
    whistleId: integer("whistle_id"),
    status: outboxStatus("status").notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: ts("next_attempt_at").notNull().defaultNow(),
    claimedUntil: ts("claimed_until"),
    lastError: text("last_error"),
    /** message_id Lark returned for a send or reply. */
    resultMessageId: text("result_message_id"),
    createdAt: ts("created_at").notNull().defaultNow(),
    sentAt: ts("sent_at"),
  },
  (t) => [
    uniqueIndex("outbox_idempotency_key").on(t.idempotencyKey),
    index("outbox_due").on(t.nextAttemptAt, t.id).where(sql`${t.status} = 'pending'`),
    index("outbox_coalesce").on(t.coalesceKey).where(sql`${t.status} = 'pending'`),
    index("outbox_stale_claims").on(t.claimedUntil).where(sql`${t.status} = 'sending'`),
  ],
);

/** Runs of periodic jobs (daily digest …), keyed by job and period so each runs once across instances. */
export const jobRuns = pgTable(
  "job_runs",
  {
    job: text("job").notNull(),
    runKey: text("run_key").notNull(),
    ranAt: ts("ran_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("job_runs_job_key").on(t.job, t.runKey)],
);
