import { sql } from "drizzle-orm";
import { columnName, type DbOrTx } from "../db/database";
import { outbox } from "../db/schema";
import { Statement } from "../db/statement";
import type { BuzzChannel, MsgType, ReceiveIdType } from "./lark-client";

/**
 * The write side of the outbox: every Lark call the bot makes is a row written in the same
 * transaction as the state change that caused it. The worker (outbox-worker.ts) delivers them.
 */

/** A message id, or `outbox:<key>` for the message a not-yet-delivered send (with that key) will create. */
export type MessageRef = string;

export type OutboxPayload =
  | { kind: "send"; receiveIdType: ReceiveIdType; receiveId: string; msgType: MsgType; content: string }
  | {
      kind: "reply";
      messageId: MessageRef;
      msgType: MsgType;
      content: string;
      replyInThread?: boolean;
      /** The chat the reply lands in, so it counts against that chat's rate limit. */
      chatId?: string;
    }
  | { kind: "patch_card"; messageId: MessageRef; content: string }
  /** A card patch whose content is rendered when it is delivered (see `CardRender`). */
  | { kind: "patch_card"; messageId: MessageRef; render: CardRender }
  | { kind: "card_update"; token: string; card: unknown }
  | { kind: "buzz"; messageId: MessageRef; channel: BuzzChannel; openIds: string[] }
  | {
      /** Upload a file, then post it as a file message replying to `messageId`. */
      kind: "upload";
      messageId: MessageRef;
      chatId?: string;
      fileName: string;
      fileType: "xls";
      base64: string;
    };

/**
 * Rendered at delivery by the worker's renderer of that name, from the database as it is then:
 * for a card that changes in bursts (the street's summary while departments tap 报到), the patch
 * that goes out shows everything committed before it leaves, and a burst's rows coalesce into one.
 */
export interface CardRender {
  name: string;
  arg: unknown;
}

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
  /** Unique key of the row; for sends and replies also Lark's `uuid` (≤ 50 chars). Random when absent. */
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
    case "upload":
      return m.messageId;
    case "card_update":
      return "card_update";
  }
}

type OutboxInsert = typeof outbox.$inferInsert;

function toRow(
  message: OutboxPayload,
  opts: EnqueueOptions,
  now: Date,
): OutboxInsert & { idempotencyKey: string } {
  const coalesceKey =
    opts.coalesceKey ?? (message.kind === "patch_card" ? `card:${message.messageId}` : undefined);
  const payload: StoredPayload = { message, recordAs: opts.recordAs, notice: opts.notice };
  return {
    kind: message.kind,
    target: targetOf(message),
    payload,
    idempotencyKey: opts.key ?? crypto.randomUUID(),
    coalesceKey: coalesceKey ?? null,
    guard: opts.guard ?? null,
    whistleId: opts.whistleId ?? null,
    nextAttemptAt: opts.notBefore ?? now,
    createdAt: now,
  };
}

/** The reference a later row can use for the message this row's send or reply will create. */
export const refTo = (key: string): MessageRef => `outbox:${key}`;

/**
 * Write rows now: supersede older pending rows that share a coalesce key, and insert — ONE
 * statement, whose text is the same however many rows. Within one call, only the last row of
 * each coalesce key is kept.
 */
export async function writeOutbox(db: DbOrTx, rows: OutboxInsert[]): Promise<void> {
  if (rows.length === 0) return;
  const lastOfKey = new Map<string, number>();
  rows.forEach((r, i) => {
    if (r.coalesceKey) lastOfKey.set(r.coalesceKey, i);
  });
  const kept = rows.filter((r, i) => !r.coalesceKey || lastOfKey.get(r.coalesceKey) === i);
  const at = (d: Date | undefined) => (d ?? new Date()).toISOString();
  // The rows as ONE jsonb parameter: each payload (a card's JSON among them) travels as JSON
  // once, not escaped again inside a text array.
  const json = JSON.stringify(
    kept.map((r) => ({
      k: r.kind,
      t: r.target,
      p: r.payload,
      i: r.idempotencyKey ?? null,
      c: r.coalesceKey ?? null,
      g: r.guard ?? undefined,
      w: r.whistleId ?? null,
      n: at(r.nextAttemptAt),
      a: at(r.createdAt),
    })),
  );
  await WRITE_OUTBOX.run(db, { keys: [...lastOfKey.keys()], json });
}

// The update and the insert see the same snapshot: the update never supersedes the new rows.
const WRITE_OUTBOX = new Statement<{ keys: string[]; json: string }>(
  (p) => sql`with superseded as (
      update ${outbox} set ${columnName(outbox.status)} = 'superseded'
      where ${outbox.coalesceKey} = any(${p("keys")}::text[]) and ${outbox.status} = 'pending'
    )
    insert into ${outbox} (${columnName(outbox.kind)}, ${columnName(outbox.target)}, ${columnName(outbox.payload)},
      ${columnName(outbox.idempotencyKey)}, ${columnName(outbox.coalesceKey)}, ${columnName(outbox.guard)},
      ${columnName(outbox.whistleId)}, ${columnName(outbox.nextAttemptAt)}, ${columnName(outbox.createdAt)})
    select (r.v->>'k')::outbox_kind, r.v->>'t', (r.v->'p')::jsonb, r.v->>'i', r.v->>'c', (r.v->'g')::jsonb,
      (r.v->>'w')::int, (r.v->>'n')::timestamptz, (r.v->>'a')::timestamptz
    from jsonb_array_elements(${p("json")}::jsonb) with ordinality as r(v, n)
    order by r.n`,
);

/** Write one row at once; returns the reference to the message it will create. */
export async function enqueue(
  db: DbOrTx,
  message: OutboxPayload,
  opts: EnqueueOptions = {},
  now: Date = new Date(),
): Promise<MessageRef> {
  const row = toRow(message, opts, now);
  await writeOutbox(db, [row]);
  return refTo(row.idempotencyKey);
}

/** Card JSON and text as Lark's `content` strings. */
export const content = {
  text: (text: string) => JSON.stringify({ text }),
  card: (card: unknown) => JSON.stringify(card),
};

/**
 * The outbox as handlers see it: rows are collected while the handler decides and written in one
 * go when its transaction is about to commit (`flush`). Each call returns the reference to the
 * message the row will create, so a later row (a card patch, a buzz) can point at it.
 */
export class OutboxWriter {
  private rows: OutboxInsert[] = [];
  written = 0;
  /** `now`: the clock of the change that causes these rows (the rows are due from then). */
  constructor(
    private readonly db: DbOrTx,
    private readonly now: Date = new Date(),
  ) {}

  add(message: OutboxPayload, opts: EnqueueOptions = {}): MessageRef {
    const row = toRow(message, opts, this.now);
    this.rows.push(row);
    this.written++;
    return refTo(row.idempotencyKey);
  }

  /** Write everything collected so far (inside the caller's transaction). */
  async flush(): Promise<void> {
    const rows = this.rows;
    this.rows = [];
    await writeOutbox(this.db, rows);
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

  replyText(to: { messageId: MessageRef; chatId?: string }, text: string, opts?: EnqueueOptions) {
    return this.add({ kind: "reply", ...to, msgType: "text", content: content.text(text) }, opts);
  }

  replyCard(to: { messageId: MessageRef; chatId?: string }, card: unknown, opts?: EnqueueOptions) {
    return this.add({ kind: "reply", ...to, msgType: "interactive", content: content.card(card) }, opts);
  }

  patchCard(messageId: MessageRef, card: unknown, opts?: EnqueueOptions) {
    return this.add({ kind: "patch_card", messageId, content: content.card(card) }, opts);
  }

  /** Patch a card with what `render` makes of the database when the row is delivered. */
  refreshCard(messageId: MessageRef, render: CardRender, opts?: EnqueueOptions) {
    return this.add({ kind: "patch_card", messageId, render }, opts);
  }

  buzz(messageId: MessageRef, channel: BuzzChannel, openIds: string[], opts?: EnqueueOptions) {
    return this.add({ kind: "buzz", messageId, channel, openIds }, opts);
  }
}
