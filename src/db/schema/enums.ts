import { pgEnum } from "drizzle-orm/pg-core";

/** Kinds of organisation (单位). A street is a 街道; a township a 乡镇; both whistle. */
export const unitKind = pgEnum("unit_kind", [
  "district",
  "street",
  "township",
  "community",
  "department",
  "oversight",
]);

/** What a bound chat is for. A department may have several chats; one of them is its card group. */
export const chatRole = pgEnum("chat_role", ["street", "department", "oversight"]);

/** The three whistles (三声哨). */
export const whistleType = pgEnum("whistle_type", ["enforcement", "emergency", "key"]);

export const whistleStatus = pgEnum("whistle_status", ["open", "resolved", "cancelled"]);

/** Where a whistle came from: a typed command, the form card, a script, a 12345 ticket. */
export const whistleSource = pgEnum("whistle_source", ["command", "form", "import", "ticket"]);

/** One department's part of a whistle: pending → reported → on_site. Overdue/late are marks, not states. */
export const dispatchState = pgEnum("dispatch_state", ["pending", "reported", "on_site"]);

export const ratingLevel = pgEnum("rating_level", ["satisfied", "basic", "unsatisfied"]);

export const inboundStatus = pgEnum("inbound_status", ["pending", "done", "failed"]);

/** Every Lark call the bot makes goes through the outbox as one of these. */
export const outboxKind = pgEnum("outbox_kind", [
  "send",
  "reply",
  "patch_card",
  "card_update",
  "buzz",
  "upload",
]);

export const outboxStatus = pgEnum("outbox_status", [
  "pending",
  "sending",
  "sent",
  "failed",
  "dropped",
  "superseded",
]);
