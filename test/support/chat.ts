import type { Harness } from "./harness";

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
