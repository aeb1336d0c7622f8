import { randomUUID } from "node:crypto";
import { envelopeSchema, type LarkEvent, normalizeEnvelope } from "../../src/bot/events";
import { cardActionEvent, eventEnvelope } from "../../src/sandbox/fake-lark";
import { type Harness, VERIFICATION_TOKEN } from "./harness";

/** Talk to the bot as a person in a chat, and read what it answered. */
export interface Said {
  messageId: string;
  status: number;
  /** The bot's replies to this message (cards or text), as parsed content. */
  replies: unknown[];
  /** Everything the reply shows, as one string (for assertions on wording). */
  text: string;
}

export async function say(
  h: Harness,
  chatId: string,
  senderOpenId: string,
  text: string,
  opts: {
    mentions?: { openId: string; name: string }[];
    mentionBot?: "before" | "after";
    chatType?: "group" | "p2p";
  } = {},
): Promise<Said> {
  const r = await h.fake.push.message(h.target, { chatId, senderOpenId, text, ...opts });
  await h.runtime.settle();
  const replies = h.fake
    .messages(chatId)
    .filter((m) => m.sender === "bot" && m.parent_id === r.messageId)
    .map((m) => m.content);
  return { messageId: r.messageId, status: r.status, replies, text: JSON.stringify(replies) };
}

/** Messages the bot sent into a chat (not replies), newest last. */
export function botMessages(h: Harness, chatId: string): unknown[] {
  return h.fake
    .messages(chatId)
    .filter((m) => m.sender === "bot")
    .map((m) => m.content);
}

/**
 * A card callback as the pipeline receives it (verified and normalised), for tests that hand
 * events to `processEvent` themselves — to commit several in one transaction, or each in its own.
 */
export function cardAction(
  h: Harness,
  a: {
    operatorOpenId: string;
    messageId: string;
    chatId: string;
    value: Record<string, unknown>;
    formValue?: Record<string, unknown>;
  },
): LarkEvent {
  const app = { appId: h.fake.appId, tenantKey: h.fake.tenantKey, botOpenId: h.fake.botOpenId, botName: "b" };
  const { chatId, ...action } = a;
  const event = cardActionEvent(app, action, { token: `c-${randomUUID()}`, chatId });
  return normalizeEnvelope(
    envelopeSchema.parse(eventEnvelope(app, VERIFICATION_TOKEN, "card.action.trigger", event)),
  );
}
