import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
} from "drizzle-orm/pg-core";
import { units } from "./directory";
import { dispatchState, ratingLevel, whistleSource, whistleStatus, whistleType } from "./enums";

const ts = (name: string) => timestamp(name, { withTimezone: true });

/** Per-day counter behind the human whistle codes (W20261127-003). Day is the Asia/Shanghai date. */
export const whistleCodeCounters = pgTable("whistle_code_counters", {
  day: text("day").primaryKey(),
  last: integer("last").notNull(),
});

/** One summons (哨单): type, matter, place, street, departments (as dispatches), deadline. */
export const whistles = pgTable(
  "whistles",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    code: text("code").notNull().unique("whistles_code_key"),
    type: whistleType("type").notNull(),
    matter: text("matter").notNull(),
    place: text("place"),
    streetId: integer("street_id")
      .notNull()
      .references(() => units.id),
    /** The street chat it was whistled from; its summary card lives there. */
    streetChatId: text("street_chat_id").notNull(),
    whistlerOpenId: text("whistler_open_id").notNull(),
    status: whistleStatus("status").notNull().default("open"),
    /** Report-in limit in minutes (限时), copied from the policy or the command at creation. */
    limitMinutes: integer("limit_minutes").notNull(),
    source: whistleSource("source").notNull(),
    sourceMessageId: text("source_message_id"),
    summaryMessageId: text("summary_message_id"),
    createdAt: ts("created_at").notNull().defaultNow(),
    deadlineAt: ts("deadline_at").notNull(),
    resolvedAt: ts("resolved_at"),
    resolvedBy: text("resolved_by"),
    resolution: text("resolution"),
    cancelledAt: ts("cancelled_at"),
    cancelledBy: text("cancelled_by"),
    cancelReason: text("cancel_reason"),
    /** When the street was last reminded to rate (once, 24 h after resolve). */
    ratingRemindedAt: ts("rating_reminded_at"),
  },
  (t) => [
    index("whistles_street_created").on(t.streetId, t.createdAt),
    index("whistles_open_created").on(t.createdAt).where(sql`${t.status} = 'open'`),
    index("whistles_created").on(t.createdAt),
    check("whistles_limit_positive", sql`${t.limitMinutes} BETWEEN 1 AND 1440`),
    check(
      "whistles_final_fields",
      sql`(${t.status} <> 'resolved' OR ${t.resolvedAt} IS NOT NULL) AND (${t.status} <> 'cancelled' OR ${t.cancelledAt} IS NOT NULL)`,
    ),
  ],
);

/** One department's part of one whistle (派单). */
export const dispatches = pgTable(
  "dispatches",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    whistleId: integer("whistle_id")
      .notNull()
      .references(() => whistles.id, { onDelete: "cascade" }),
    departmentId: integer("department_id")
      .notNull()
      .references(() => units.id),
    /** The department card group the card went to. */
    chatId: text("chat_id").notNull(),
    cardMessageId: text("card_message_id"),
    state: dispatchState("state").notNull().default("pending"),
    createdAt: ts("created_at").notNull().defaultNow(),
    deadlineAt: ts("deadline_at").notNull(),
    reportedAt: ts("reported_at"),
    reportedBy: text("reported_by"),
    /** Minutes after the deadline the first report-in came (0 or NULL = on time). */
    lateMinutes: integer("late_minutes"),
    onSiteAt: ts("on_site_at"),
    onSiteBy: text("on_site_by"),
    remindedAt: ts("reminded_at"),
    overdueAt: ts("overdue_at"),
    escalationCount: integer("escalation_count").notNull().default(0),
    lastEscalatedAt: ts("last_escalated_at"),
    lastProgressAskAt: ts("last_progress_ask_at"),
    /** Next moment the sweep must look at this dispatch (reminder, deadline, escalation, progress ask). NULL = nothing due. */
    nextCheckAt: ts("next_check_at"),
  },
  (t) => [
    unique("dispatches_whistle_department_key").on(t.whistleId, t.departmentId),
    index("dispatches_next_check").on(t.nextCheckAt).where(sql`${t.nextCheckAt} IS NOT NULL`),
    index("dispatches_department_created").on(t.departmentId, t.createdAt),
    index("dispatches_open_deadline").on(t.deadlineAt).where(sql`${t.state} = 'pending'`),
    check(
      "dispatches_reported_fields",
      sql`${t.state} = 'pending' OR (${t.reportedAt} IS NOT NULL AND ${t.reportedBy} IS NOT NULL)`,
    ),
    check("dispatches_late_nonnegative", sql`${t.lateMinutes} IS NULL OR ${t.lateMinutes} >= 0`),
  ],
);

/** Every person who tapped 报到 on a dispatch, once each. The earliest is the department's report-in. */
export const reportIns = pgTable(
  "report_ins",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    dispatchId: integer("dispatch_id")
      .notNull()
      .references(() => dispatches.id, { onDelete: "cascade" }),
    openId: text("open_id").notNull(),
    at: ts("at").notNull().defaultNow(),
  },
  (t) => [unique("report_ins_dispatch_person_key").on(t.dispatchId, t.openId)],
);

/** Short progress notes (进展) from a department while the matter is open. */
export const progressNotes = pgTable(
  "progress_notes",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    dispatchId: integer("dispatch_id")
      .notNull()
      .references(() => dispatches.id, { onDelete: "cascade" }),
    openId: text("open_id").notNull(),
    note: text("note").notNull(),
    at: ts("at").notNull().defaultNow(),
  },
  (t) => [index("progress_notes_dispatch").on(t.dispatchId, t.at)],
);

/** The street's rating of one department on one whistle (评价), with an optional veto (否决). */
export const ratings = pgTable(
  "ratings",
  {
    dispatchId: integer("dispatch_id")
      .primaryKey()
      .references(() => dispatches.id, { onDelete: "cascade" }),
    level: ratingLevel("level").notNull(),
    comment: text("comment"),
    veto: boolean("veto").notNull().default(false),
    vetoReason: text("veto_reason"),
    ratedBy: text("rated_by").notNull(),
    ratedAt: ts("rated_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [
    check(
      "ratings_veto_needs_reason",
      sql`NOT ${t.veto} OR (${t.vetoReason} IS NOT NULL AND length(btrim(${t.vetoReason})) > 0)`,
    ),
  ],
);

/** Append-only history of a whistle: who did what, when. */
export const timeline = pgTable(
  "timeline",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    whistleId: integer("whistle_id")
      .notNull()
      .references(() => whistles.id, { onDelete: "cascade" }),
    at: ts("at").notNull().defaultNow(),
    kind: text("kind").notNull(),
    actorOpenId: text("actor_open_id"),
    departmentId: integer("department_id").references(() => units.id),
    data: jsonb("data").notNull().default({}),
  },
  (t) => [index("timeline_whistle_at").on(t.whistleId, t.at, t.id)],
);
