import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { chatRole, unitKind } from "./enums";

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

/** Any organisation: district, street/township, community, department, oversight centre. */
export const units = pgTable(
  "units",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    kind: unitKind("kind").notNull(),
    name: text("name").notNull(),
    /** Name folded for matching (case, width, spaces): see domain/names. */
    nameKey: text("name_key").notNull(),
    parentId: integer("parent_id").references((): AnyPgColumn => units.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("units_kind_name_key").on(t.kind, t.nameKey)],
);

/** Other names a unit answers to (别名), e.g. 城管 for 城管执法队. Unique across all units. */
export const unitAliases = pgTable(
  "unit_aliases",
  {
    unitId: integer("unit_id")
      .notNull()
      .references(() => units.id, { onDelete: "cascade" }),
    alias: text("alias").notNull(),
    aliasKey: text("alias_key").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.unitId, t.aliasKey] }),
    uniqueIndex("unit_aliases_alias_key").on(t.aliasKey),
  ],
);

/** A Lark group bound to a unit. One chat belongs to one unit; a department may have several chats. */
export const chatBindings = pgTable(
  "chat_bindings",
  {
    chatId: text("chat_id").primaryKey(),
    unitId: integer("unit_id")
      .notNull()
      .references(() => units.id, { onDelete: "cascade" }),
    role: chatRole("role").notNull(),
    /** The department chat that receives whistle cards. */
    isCardGroup: boolean("is_card_group").notNull().default(false),
    chatName: text("chat_name"),
    boundBy: text("bound_by"),
    boundAt: timestamp("bound_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("chat_bindings_unit").on(t.unitId),
    uniqueIndex("chat_bindings_one_card_group").on(t.unitId).where(sql`${t.isCardGroup}`),
    check("chat_bindings_card_group_is_department", sql`NOT ${t.isCardGroup} OR ${t.role} = 'department'`),
  ],
);

/** People seen by the bot: a display-name cache keyed by open_id. */
export const people = pgTable("people", {
  openId: text("open_id").primaryKey(),
  name: text("name").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Admins: seeded from WHISTLE_ADMINS (source "env") or added in chat (source "chat"). */
export const admins = pgTable("admins", {
  openId: text("open_id").primaryKey(),
  source: text("source", { enum: ["env", "chat", "import"] }).notNull(),
  addedBy: text("added_by"),
  createdAt: createdAt(),
});

/** Cached chat membership (≤ 5 minutes, refreshed on member events): who is an official / staff. */
export const chatMembers = pgTable(
  "chat_members",
  {
    chatId: text("chat_id").notNull(),
    openId: text("open_id").notNull(),
    fetchedAt: timestamp("fetched_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.chatId, t.openId] }), index("chat_members_open_id").on(t.openId)],
);

/** When each chat's member list was last fetched in full. */
export const chatMemberSyncs = pgTable("chat_member_syncs", {
  chatId: text("chat_id").primaryKey(),
  syncedAt: timestamp("synced_at", { withTimezone: true }).notNull(),
});

/** A street's default force set: what "1+4" expands to in a whistle. */
export const forceSets = pgTable(
  "force_sets",
  {
    streetId: integer("street_id")
      .notNull()
      .references(() => units.id, { onDelete: "cascade" }),
    departmentId: integer("department_id")
      .notNull()
      .references(() => units.id, { onDelete: "cascade" }),
    position: integer("position").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.streetId, t.departmentId] })],
);

/** Who is buzzed when a department is overdue. */
export const dutyContacts = pgTable(
  "duty_contacts",
  {
    departmentId: integer("department_id")
      .notNull()
      .references(() => units.id, { onDelete: "cascade" }),
    openId: text("open_id").notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.departmentId, t.openId] })],
);
