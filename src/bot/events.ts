import { z } from "zod";

/**
 * The typed events every way in (webhook, long connection, sandbox) is turned into. Validated with
 * zod at the edge; inside the bot the types are trusted.
 */

const header = z.object({
  event_id: z.string().min(1),
  event_type: z.string().min(1),
  token: z.string().optional(),
  create_time: z.string().optional(),
  app_id: z.string().optional(),
  tenant_key: z.string().optional(),
});

/** The schema-2.0 envelope Lark sends for events and card callbacks. */
export const envelopeSchema = z.object({
  schema: z.literal("2.0"),
  header,
  event: z.record(z.string(), z.unknown()),
});
export type Envelope = z.infer<typeof envelopeSchema>;

const userId = z.object({
  open_id: z.string().optional(),
  union_id: z.string().optional(),
  user_id: z.string().optional(),
});

const mentionSchema = z.object({
  key: z.string(),
  id: userId.partial().optional(),
  name: z.string().optional(),
  mentioned_type: z.string().optional(),
});

const messageEventSchema = z.object({
  sender: z.object({
    sender_id: userId.optional(),
    sender_type: z.string().optional(),
  }),
  message: z.object({
    message_id: z.string().min(1),
    chat_id: z.string().min(1),
    chat_type: z.string().optional(),
    message_type: z.string(),
    content: z.string(),
    root_id: z.string().optional(),
    parent_id: z.string().optional(),
    thread_id: z.string().optional(),
    create_time: z.string().optional(),
    mentions: z.array(mentionSchema).optional(),
  }),
});

const cardActionSchema = z.object({
  operator: z.object({ open_id: z.string().min(1) }).passthrough(),
  token: z.string().optional(),
  action: z.object({
    value: z.unknown().optional(),
    tag: z.string().optional(),
    name: z.string().optional(),
    form_value: z.record(z.string(), z.unknown()).optional(),
    input_value: z.string().optional(),
    option: z.string().optional(),
    options: z.array(z.string()).optional(),
    checked: z.boolean().optional(),
    timezone: z.string().optional(),
  }),
  host: z.string().optional(),
  context: z
    .object({ open_message_id: z.string().optional(), open_chat_id: z.string().optional() })
    .passthrough()
    .optional(),
});

export interface Mention {
  /** The placeholder in the text, e.g. "@_user_1". */
  key: string;
  openId: string | undefined;
  name: string;
  /** "bot" for a bot (Lark marks the app's own mention so), "user" otherwise. */
  type: string;
}

interface EventBase {
  eventId: string;
  eventType: string;
  createTime: string | undefined;
  tenantKey: string | undefined;
}

export interface MessageEvent extends EventBase {
  kind: "message";
  messageId: string;
  chatId: string;
  chatType: string;
  senderOpenId: string;
  senderType: string;
  messageType: string;
  /** For text messages: the text with `@_user_N` placeholders as Lark sent it; null otherwise. */
  text: string | null;
  mentions: Mention[];
  rootId: string | undefined;
  parentId: string | undefined;
}

export interface CardActionEvent extends EventBase {
  kind: "card_action";
  operatorOpenId: string;
  messageId: string;
  chatId: string;
  /** The `value` put on the component's callback behaviour. */
  value: Record<string, unknown>;
  formValue: Record<string, unknown> | undefined;
  name: string | undefined;
  tag: string | undefined;
  option: string | undefined;
  inputValue: string | undefined;
  /** The card-update token (c-…): 30 minutes, two uses, after the callback answered. */
  cardToken: string | undefined;
}

export interface OtherEvent extends EventBase {
  kind: "event";
  event: Record<string, unknown>;
}

export type LarkEvent = MessageEvent | CardActionEvent | OtherEvent;

export class EventShapeError extends Error {}

function textOf(messageType: string, content: string): string | null {
  if (messageType !== "text") return null;
  try {
    const parsed = JSON.parse(content) as { text?: unknown };
    return typeof parsed.text === "string" ? parsed.text : "";
  } catch {
    return ""; // recalled messages arrive with empty content
  }
}

function issues(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
}

/** Turn a verified envelope into a typed event. Throws EventShapeError on a malformed known event. */
export function normalizeEnvelope(env: Envelope): LarkEvent {
  // Each event is written out as one literal, base fields first: V8 (Node 20) makes every object
  // built as `{ ...base, more }` slow to create (≈ 1 µs a property) and gives each one a map of its
  // own, so every later read of an event would be megamorphic (lint/no-spread-then-properties.grit).
  const h = env.header;
  if (h.event_type === "im.message.receive_v1") {
    const r = messageEventSchema.safeParse(env.event);
    if (!r.success) throw new EventShapeError(`im.message.receive_v1: ${issues(r.error)}`);
    const { sender, message } = r.data;
    return {
      eventId: h.event_id,
      eventType: h.event_type,
      createTime: h.create_time,
      tenantKey: h.tenant_key,
      kind: "message",
      messageId: message.message_id,
      chatId: message.chat_id,
      chatType: message.chat_type ?? "group",
      senderOpenId: sender.sender_id?.open_id ?? "",
      senderType: sender.sender_type ?? "user",
      messageType: message.message_type,
      text: textOf(message.message_type, message.content),
      mentions: (message.mentions ?? []).map((m) => ({
        key: m.key,
        openId: m.id?.open_id,
        name: m.name ?? "",
        type: m.mentioned_type ?? "user",
      })),
      rootId: message.root_id,
      parentId: message.parent_id,
    };
  }
  if (h.event_type === "card.action.trigger") {
    const r = cardActionSchema.safeParse(env.event);
    if (!r.success) throw new EventShapeError(`card.action.trigger: ${issues(r.error)}`);
    const { operator, action, context, token } = r.data;
    const value =
      action.value && typeof action.value === "object" && !Array.isArray(action.value)
        ? (action.value as Record<string, unknown>)
        : typeof action.value === "string"
          ? parseValueString(action.value)
          : {};
    return {
      eventId: h.event_id,
      eventType: h.event_type,
      createTime: h.create_time,
      tenantKey: h.tenant_key,
      kind: "card_action",
      operatorOpenId: operator.open_id,
      messageId: context?.open_message_id ?? "",
      chatId: context?.open_chat_id ?? "",
      value,
      formValue: action.form_value,
      name: action.name,
      tag: action.tag,
      option: action.option,
      inputValue: action.input_value,
      cardToken: token,
    };
  }
  return {
    eventId: h.event_id,
    eventType: h.event_type,
    createTime: h.create_time,
    tenantKey: h.tenant_key,
    kind: "event",
    event: env.event,
  };
}

/** Legacy clients send `value` as a JSON string; anything else becomes `{ raw }`. */
function parseValueString(s: string): Record<string, unknown> {
  try {
    const v = JSON.parse(s) as unknown;
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { raw: s };
}
