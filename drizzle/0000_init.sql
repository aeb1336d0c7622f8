CREATE TYPE "public"."chat_role" AS ENUM('street', 'department', 'oversight');--> statement-breakpoint
CREATE TYPE "public"."dispatch_state" AS ENUM('pending', 'reported', 'on_site');--> statement-breakpoint
CREATE TYPE "public"."inbound_status" AS ENUM('pending', 'done', 'failed');--> statement-breakpoint
CREATE TYPE "public"."outbox_kind" AS ENUM('send', 'reply', 'patch_card', 'card_update', 'buzz', 'upload');--> statement-breakpoint
CREATE TYPE "public"."outbox_status" AS ENUM('pending', 'sending', 'sent', 'failed', 'dropped', 'superseded');--> statement-breakpoint
CREATE TYPE "public"."rating_level" AS ENUM('satisfied', 'basic', 'unsatisfied');--> statement-breakpoint
CREATE TYPE "public"."unit_kind" AS ENUM('district', 'street', 'township', 'community', 'department', 'oversight');--> statement-breakpoint
CREATE TYPE "public"."whistle_source" AS ENUM('command', 'form', 'import', 'ticket');--> statement-breakpoint
CREATE TYPE "public"."whistle_status" AS ENUM('open', 'resolved', 'cancelled');--> statement-breakpoint
CREATE TYPE "public"."whistle_type" AS ENUM('enforcement', 'emergency', 'key');--> statement-breakpoint
CREATE TABLE "admins" (
	"open_id" text PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"added_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "chat_bindings" (
	"chat_id" text PRIMARY KEY NOT NULL,
	"unit_id" integer NOT NULL,
	"role" "chat_role" NOT NULL,
	"is_card_group" boolean DEFAULT false NOT NULL,
	"chat_name" text,
	"bound_by" text,
	"bound_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "chat_bindings_card_group_is_department" CHECK (NOT "chat_bindings"."is_card_group" OR "chat_bindings"."role" = 'department')
);
--> statement-breakpoint
CREATE TABLE "chat_member_syncs" (
	"chat_id" text PRIMARY KEY NOT NULL,
	"synced_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "chat_members" (
	"chat_id" text NOT NULL,
	"open_id" text NOT NULL,
	"fetched_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "chat_members_chat_id_open_id_pk" PRIMARY KEY("chat_id","open_id")
);
--> statement-breakpoint
CREATE TABLE "duty_contacts" (
	"department_id" integer NOT NULL,
	"open_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "duty_contacts_department_id_open_id_pk" PRIMARY KEY("department_id","open_id")
);
--> statement-breakpoint
CREATE TABLE "force_sets" (
	"street_id" integer NOT NULL,
	"department_id" integer NOT NULL,
	"position" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "force_sets_street_id_department_id_pk" PRIMARY KEY("street_id","department_id")
);
--> statement-breakpoint
CREATE TABLE "people" (
	"open_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "unit_aliases" (
	"unit_id" integer NOT NULL,
	"alias" text NOT NULL,
	"alias_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "unit_aliases_unit_id_alias_key_pk" PRIMARY KEY("unit_id","alias_key")
);
--> statement-breakpoint
CREATE TABLE "units" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "units_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"kind" "unit_kind" NOT NULL,
	"name" text NOT NULL,
	"name_key" text NOT NULL,
	"parent_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "type_policies" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "type_policies_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"street_id" integer,
	"type" "whistle_type" NOT NULL,
	"report_limit_minutes" integer DEFAULT 30 NOT NULL,
	"remind_before_minutes" integer DEFAULT 10 NOT NULL,
	"escalate_every_minutes" integer DEFAULT 30 NOT NULL,
	"escalate_max_times" integer DEFAULT 3 NOT NULL,
	"progress_every_hours" integer DEFAULT 4 NOT NULL,
	"buzz_channels" text[] DEFAULT '{}'::text[] NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "type_policies_street_type_key" UNIQUE NULLS NOT DISTINCT("street_id","type"),
	CONSTRAINT "type_policies_limit_positive" CHECK ("type_policies"."report_limit_minutes" BETWEEN 1 AND 1440),
	CONSTRAINT "type_policies_buzz_channels" CHECK ("type_policies"."buzz_channels" <@ ARRAY['sms','phone']::text[])
);
--> statement-breakpoint
CREATE TABLE "inbound_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "inbound_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_id" text NOT NULL,
	"message_id" text,
	"event_type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"status" "inbound_status" DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "job_runs" (
	"job" text NOT NULL,
	"run_key" text NOT NULL,
	"ran_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" "outbox_kind" NOT NULL,
	"target" text NOT NULL,
	"payload" jsonb NOT NULL,
	"idempotency_key" text,
	"coalesce_key" text,
	"guard" jsonb,
	"whistle_id" integer,
	"status" "outbox_status" DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"claimed_until" timestamp with time zone,
	"last_error" text,
	"result_message_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "dispatches" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "dispatches_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"whistle_id" integer NOT NULL,
	"department_id" integer NOT NULL,
	"chat_id" text NOT NULL,
	"card_message_id" text,
	"state" "dispatch_state" DEFAULT 'pending' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deadline_at" timestamp with time zone NOT NULL,
	"reported_at" timestamp with time zone,
	"reported_by" text,
	"late_minutes" integer,
	"on_site_at" timestamp with time zone,
	"on_site_by" text,
	"reminded_at" timestamp with time zone,
	"overdue_at" timestamp with time zone,
	"escalation_count" integer DEFAULT 0 NOT NULL,
	"last_escalated_at" timestamp with time zone,
	"last_progress_ask_at" timestamp with time zone,
	"next_check_at" timestamp with time zone,
	CONSTRAINT "dispatches_whistle_department_key" UNIQUE("whistle_id","department_id"),
	CONSTRAINT "dispatches_reported_fields" CHECK ("dispatches"."state" = 'pending' OR ("dispatches"."reported_at" IS NOT NULL AND "dispatches"."reported_by" IS NOT NULL)),
	CONSTRAINT "dispatches_late_nonnegative" CHECK ("dispatches"."late_minutes" IS NULL OR "dispatches"."late_minutes" >= 0)
);
--> statement-breakpoint
CREATE TABLE "progress_notes" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "progress_notes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"dispatch_id" integer NOT NULL,
	"open_id" text NOT NULL,
	"note" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ratings" (
	"dispatch_id" integer PRIMARY KEY NOT NULL,
	"level" "rating_level" NOT NULL,
	"comment" text,
	"veto" boolean DEFAULT false NOT NULL,
	"veto_reason" text,
	"rated_by" text NOT NULL,
	"rated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "ratings_veto_needs_reason" CHECK (NOT "ratings"."veto" OR ("ratings"."veto_reason" IS NOT NULL AND length(btrim("ratings"."veto_reason")) > 0))
);
--> statement-breakpoint
CREATE TABLE "report_ins" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "report_ins_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"dispatch_id" integer NOT NULL,
	"open_id" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "report_ins_dispatch_person_key" UNIQUE("dispatch_id","open_id")
);
--> statement-breakpoint
CREATE TABLE "timeline" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "timeline_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"whistle_id" integer NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"kind" text NOT NULL,
	"actor_open_id" text,
	"department_id" integer,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "whistle_code_counters" (
	"day" text PRIMARY KEY NOT NULL,
	"last" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "whistles" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "whistles_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"code" text NOT NULL,
	"type" "whistle_type" NOT NULL,
	"matter" text NOT NULL,
	"place" text,
	"street_id" integer NOT NULL,
	"street_chat_id" text NOT NULL,
	"whistler_open_id" text NOT NULL,
	"status" "whistle_status" DEFAULT 'open' NOT NULL,
	"limit_minutes" integer NOT NULL,
	"source" "whistle_source" NOT NULL,
	"source_message_id" text,
	"summary_message_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deadline_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	"resolved_by" text,
	"resolution" text,
	"cancelled_at" timestamp with time zone,
	"cancelled_by" text,
	"cancel_reason" text,
	"rating_reminded_at" timestamp with time zone,
	CONSTRAINT "whistles_code_key" UNIQUE("code"),
	CONSTRAINT "whistles_limit_positive" CHECK ("whistles"."limit_minutes" BETWEEN 1 AND 1440),
	CONSTRAINT "whistles_final_fields" CHECK (("whistles"."status" <> 'resolved' OR "whistles"."resolved_at" IS NOT NULL) AND ("whistles"."status" <> 'cancelled' OR "whistles"."cancelled_at" IS NOT NULL))
);
--> statement-breakpoint
ALTER TABLE "chat_bindings" ADD CONSTRAINT "chat_bindings_unit_id_units_id_fk" FOREIGN KEY ("unit_id") REFERENCES "public"."units"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "duty_contacts" ADD CONSTRAINT "duty_contacts_department_id_units_id_fk" FOREIGN KEY ("department_id") REFERENCES "public"."units"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "force_sets" ADD CONSTRAINT "force_sets_street_id_units_id_fk" FOREIGN KEY ("street_id") REFERENCES "public"."units"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "force_sets" ADD CONSTRAINT "force_sets_department_id_units_id_fk" FOREIGN KEY ("department_id") REFERENCES "public"."units"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "unit_aliases" ADD CONSTRAINT "unit_aliases_unit_id_units_id_fk" FOREIGN KEY ("unit_id") REFERENCES "public"."units"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "units" ADD CONSTRAINT "units_parent_id_units_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."units"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "type_policies" ADD CONSTRAINT "type_policies_street_id_units_id_fk" FOREIGN KEY ("street_id") REFERENCES "public"."units"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispatches" ADD CONSTRAINT "dispatches_whistle_id_whistles_id_fk" FOREIGN KEY ("whistle_id") REFERENCES "public"."whistles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dispatches" ADD CONSTRAINT "dispatches_department_id_units_id_fk" FOREIGN KEY ("department_id") REFERENCES "public"."units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "progress_notes" ADD CONSTRAINT "progress_notes_dispatch_id_dispatches_id_fk" FOREIGN KEY ("dispatch_id") REFERENCES "public"."dispatches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ratings" ADD CONSTRAINT "ratings_dispatch_id_dispatches_id_fk" FOREIGN KEY ("dispatch_id") REFERENCES "public"."dispatches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "report_ins" ADD CONSTRAINT "report_ins_dispatch_id_dispatches_id_fk" FOREIGN KEY ("dispatch_id") REFERENCES "public"."dispatches"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "timeline" ADD CONSTRAINT "timeline_whistle_id_whistles_id_fk" FOREIGN KEY ("whistle_id") REFERENCES "public"."whistles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "timeline" ADD CONSTRAINT "timeline_department_id_units_id_fk" FOREIGN KEY ("department_id") REFERENCES "public"."units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "whistles" ADD CONSTRAINT "whistles_street_id_units_id_fk" FOREIGN KEY ("street_id") REFERENCES "public"."units"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chat_bindings_unit" ON "chat_bindings" USING btree ("unit_id");--> statement-breakpoint
CREATE UNIQUE INDEX "chat_bindings_one_card_group" ON "chat_bindings" USING btree ("unit_id") WHERE "chat_bindings"."is_card_group";--> statement-breakpoint
CREATE INDEX "chat_members_open_id" ON "chat_members" USING btree ("open_id");--> statement-breakpoint
CREATE UNIQUE INDEX "unit_aliases_alias_key" ON "unit_aliases" USING btree ("alias_key");--> statement-breakpoint
CREATE UNIQUE INDEX "units_kind_name_key" ON "units" USING btree ("kind","name_key");--> statement-breakpoint
CREATE UNIQUE INDEX "inbound_events_event_id_key" ON "inbound_events" USING btree ("event_id");--> statement-breakpoint
CREATE UNIQUE INDEX "inbound_events_message_id_key" ON "inbound_events" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "inbound_events_pending" ON "inbound_events" USING btree ("received_at") WHERE "inbound_events"."status" = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "job_runs_job_key" ON "job_runs" USING btree ("job","run_key");--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_idempotency_key" ON "outbox" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "outbox_due" ON "outbox" USING btree ("next_attempt_at","id") WHERE "outbox"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "outbox_coalesce" ON "outbox" USING btree ("coalesce_key") WHERE "outbox"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "outbox_stale_claims" ON "outbox" USING btree ("claimed_until") WHERE "outbox"."status" = 'sending';--> statement-breakpoint
CREATE INDEX "dispatches_next_check" ON "dispatches" USING btree ("next_check_at") WHERE "dispatches"."next_check_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "dispatches_department_created" ON "dispatches" USING btree ("department_id","created_at");--> statement-breakpoint
CREATE INDEX "dispatches_open_deadline" ON "dispatches" USING btree ("deadline_at") WHERE "dispatches"."state" = 'pending';--> statement-breakpoint
CREATE INDEX "progress_notes_dispatch" ON "progress_notes" USING btree ("dispatch_id","at");--> statement-breakpoint
CREATE INDEX "timeline_whistle_at" ON "timeline" USING btree ("whistle_id","at","id");--> statement-breakpoint
CREATE INDEX "whistles_street_created" ON "whistles" USING btree ("street_id","created_at");--> statement-breakpoint
CREATE INDEX "whistles_open_created" ON "whistles" USING btree ("created_at") WHERE "whistles"."status" = 'open';--> statement-breakpoint
CREATE INDEX "whistles_created" ON "whistles" USING btree ("created_at");