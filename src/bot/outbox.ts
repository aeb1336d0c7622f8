import { and, eq } from "drizzle-orm";
import type { DbOrTx } from "../db/database";
import { outbox } from "../db/schema";
import type { BuzzChannel, MsgType, ReceiveIdType } from "./lark-client";

/**
 * The write side of the outbox: every Lark call the bot makes is a row written in the same
 * transaction as the state change that caused it. The worker (outbox-worker.ts) delivers them.
 */

/** A message id, or `outbox:<id>` for the message a not-yet-delivered send will create. */
export type MessageRef = string;

export type OutboxPayload =
  | { kind: "send"; receiveIdType: ReceiveIdType; receiveId: string; msgType: MsgType; content: string }
  | { kind: "reply"; messageId: MessageRef; msgType: MsgType; content: string; replyInThread?: boolean }
  | { kind: "patch_card"; messageId: MessageRef; content: string }
  | { kind: "card_update"; token: string; card: unknown }
  | { kind: "buzz"; messageId: MessageRef; channel: BuzzChannel; openIds: string[] };

/** Checked at delivery: the row is dropped when the named condition no longer holds. */
export interface Guard {
  name: string;
  arg: unknown;
}

/** After a send or reply is delivered, hand its message id to the named hook (e.g. store a card's id). */
export interface RecordAs {
  name: string;
  id: number;
}

export interface EnqueueOptions {
  /** Lark `uuid` (≤ 50 chars) for sends and replies; a random one is made when absent. */
  key?: string;
  /** Only the newest pending row with this key is delivered (default for card patches: one per message). */
  coalesceKey?: string;
  guard?: Guard;
  recordAs?: RecordAs;
  whistleId?: number;
  notBefore?: Date;
  /** Marks an admin notice, so a failure to deliver it does not produce another notice. */
  notice?: boolean;
}

export interface StoredPayload {
  message: OutboxPayload;
  recordAs?: RecordAs;
  notice?: boolean;
}

function targetOf(m: OutboxPayload): string {
  switch (m.kind) {
    case "send":
      return m.receiveId;
    case "reply":
    case "patch_card":
    case "buzz":
      return m.messageId;
    case "card_update":
      return "card_update";
  }
}

export async function enqueue(
  db: DbOrTx,
  message: OutboxPayload,
  opts: EnqueueOptions = {},
): Promise<number> {
  const needsUuid = message.kind === "send" || message.kind === "reply";
  const coalesceKey =
    opts.coalesceKey ?? (message.kind === "patch_card" ? `card:${message.messageId}` : undefined);
  if (coalesceKey) {
    await db
      .update(outbox)
      .set({ status: "superseded" })
      .where(and(eq(outbox.coalesceKey, coalesceKey), eq(outbox.status, "pending")));
  }
  const payload: StoredPayload = { message, recordAs: opts.recordAs, notice: opts.notice };
  const [row] = await db
    .insert(outbox)
    .values({
      kind: message.kind,
      target: targetOf(message),
      payload,
      idempotencyKey: needsUuid ? (opts.key ?? crypto.randomUUID()) : (opts.key ?? null),
      coalesceKey: coalesceKey ?? null,
      guard: opts.guard ?? null,
      whistleId: opts.whistleId ?? null,
      nextAttemptAt: opts.notBefore ?? new Date(),
    })
    .returning({ id: outbox.id });
  if (!row) throw new Error("outbox insert returned nothing");
  return row.id;
}

/** Card JSON and text as Lark's `content` strings. */
export const content = {
  text: (text: string) => JSON.stringify({ text }),
  card: (card: unknown) => JSON.stringify(card),
};

/** An outbox bound to one transaction: handlers call these, and the pipeline knows to drain after commit. */
export class OutboxWriter {
  written = 0;
  constructor(private readonly db: DbOrTx) {}

  async add(message: OutboxPayload, opts?: EnqueueOptions): Promise<number> {
    this.written++;
    return enqueue(this.db, message, opts);
  }

  sendText(chatId: string, text: string, opts?: EnqueueOptions) {
    return this.add(
      {
        kind: "send",
        receiveIdType: "chat_id",
        receiveId: chatId,
        msgType: "text",
        content: content.text(text),
      },
      opts,
    );
  }

  sendCard(chatId: string, card: unknown, opts?: EnqueueOptions) {
    return this.add(
      {
        kind: "send",
        receiveIdType: "chat_id",
        receiveId: chatId,
        msgType: "interactive",
        content: content.card(card),
      },
      opts,
    );
  }

  replyText(messageId: MessageRef, text: string, opts?: EnqueueOptions) {
    return this.add({ kind: "reply", messageId, msgType: "text", content: content.text(text) }, opts);
  }

  replyCard(messageId: MessageRef, card: unknown, opts?: EnqueueOptions) {
    return this.add({ kind: "reply", messageId, msgType: "interactive", content: content.card(card) }, opts);
  }

  patchCard(messageId: MessageRef, card: unknown, opts?: EnqueueOptions) {
    return this.add({ kind: "patch_card", messageId, content: content.card(card) }, opts);
  }

  buzz(messageId: MessageRef, channel: BuzzChannel, openIds: string[], opts?: EnqueueOptions) {
    return this.add({ kind: "buzz", messageId, channel, openIds }, opts);
  }
}
