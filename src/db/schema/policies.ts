import { sql } from "drizzle-orm";
import { check, integer, pgTable, text, timestamp, unique } from "drizzle-orm/pg-core";
import { units } from "./directory";
import { whistleType } from "./enums";

/**
 * Per-type timing rules. A row with street_id NULL is the district default; a street's own row
 * overrides it (e.g. 15 minutes for emergencies). Absent rows mean the built-in defaults.
 */
export const typePolicies = pgTable(
  "type_policies",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    streetId: integer("street_id").references(() => units.id, { onDelete: "cascade" }),
    type: whistleType("type").notNull(),
    reportLimitMinutes: integer("report_limit_minutes").notNull().default(30),
    remindBeforeMinutes: integer("remind_before_minutes").notNull().default(10),
    escalateEveryMinutes: integer("escalate_every_minutes").notNull().default(30),
    escalateMaxTimes: integer("escalate_max_times").notNull().default(3),
    progressEveryHours: integer("progress_every_hours").notNull().default(4),
    /** Paid buzz channels on top of in-app: subset of {"sms","phone"}. */
    buzzChannels: text("buzz_channels").array().notNull().default(sql`'{}'::text[]`),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("type_policies_street_type_key").on(t.streetId, t.type).nullsNotDistinct(),
    check("type_policies_limit_positive", sql`${t.reportLimitMinutes} BETWEEN 1 AND 1440`),
    check("type_policies_buzz_channels", sql`${t.buzzChannels} <@ ARRAY['sms','phone']::text[]`),
  ],
);
