import type { Db, DbOrTx, Tx } from "../db/database";
import {
  claimDueOutbox,
  deferOutbox,
  markOutboxFinal,
  markOutboxRetry,
  markOutboxSent,
  type OutboxRow,
  outboxByKey,
} from "../db/queries/outbox";
import { admins } from "../db/schema";
import type { Logger } from "../log";
import { BackgroundLoop } from "./background";
import type { LarkApi } from "./lark-client";
import { classify } from "./lark-errors";
import { content, enqueue, type MessageRef, type OutboxPayload, type StoredPayload } from "./outbox";
import { RateLimiter } from "./rate-limit";

/**
 * The read side of the outbox: claim due rows, deliver them through the Lark client within Lark's
 * rate limits, and record the outcome. Sends carry their `uuid`, so a retry after a timeout or a
 * crash never posts twice. Permanent failures are recorded and reported to the admins.
 */

/** A delivery-time condition: false drops the row (e.g. "the department has not reported in yet"). */
export type GuardFn = (db: DbOrTx, arg: unknown) => Promise<boolean>;
/** Called in a transaction once a send or reply has a message id. */
export type RecordHook = (tx: Tx, id: number, messageId: string) => Promise<void>;
/**
 * Renders a card patch at delivery (`CardRender`): the card's `content`, or undefined when there is
 * nothing left to show (the row is dropped).
 */
export type CardRenderer = (db: DbOrTx, arg: unknown, now: Date) => Promise<string | undefined>;

export interface OutboxWorkerOptions {
  db: Db;
  lark: LarkApi;
  log: Logger;
  now?: () => Date;
  random?: () => number;
  guards?: Record<string, GuardFn>;
  hooks?: Record<string, RecordHook>;
  renderers?: Record<string, CardRenderer>;
  /** How long a claimed row stays ours; a crashed worker's rows come back after it (default 20 s). */
  leaseMs?: number;
  batchSize?: number;
  maxAttempts?: number;
  /** Lark's uuid dedupes for 1 h; a send still failing after this long is given up (default 50 min). */
  uuidWindowMs?: number;
  /** Sleep used for rate-limit waits (tests may shorten it). */
  sleep?: (ms: number) => Promise<void>;
  /** Lark's rate limits, shared by every worker built with the same set (Workers: one per isolate). */
  limits?: OutboxLimits;
}

/** The sliding windows the worker books Lark calls in; one set per process or isolate. */
export interface OutboxLimits {
  app: RateLimiter;
  perChat: RateLimiter;
  perMessage: RateLimiter;
}

/** Lark: 50/s per app for the message APIs, 5/s per chat, 5 PATCH/s per message; a little margin on the window. */
export function outboxLimits(): OutboxLimits {
  return {
    app: new RateLimiter(50, 1050),
    perChat: new RateLimiter(5, 1050),
    perMessage: new RateLimiter(5, 1050),
  };
}

export interface DrainReport {
  claimed: number;
  sent: number;
  retried: number;
  deferred: number;
  failed: number;
  dropped: number;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A rate-limit wait longer than this puts the row back instead of holding its lease. */
const MAX_INLINE_WAIT_MS = 4000;
/** Extra waits after a rate-limit sleep, when earlier calls ended late (one is almost always enough). */
const EXTRA_WAIT_ROUNDS = 4;

export class OutboxWorker {
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly maxAttempts: number;
  private readonly uuidWindowMs: number;
  private readonly app: RateLimiter;
  private readonly perChat: RateLimiter;
  private readonly perMessage: RateLimiter;

  private readonly loop: BackgroundLoop;

  constructor(private readonly o: OutboxWorkerOptions) {
    this.loop = new BackgroundLoop(() => this.drain(), o.log, "outbox drain failed");
    this.now = o.now ?? (() => new Date());
    this.random = o.random ?? Math.random;
    this.sleep = o.sleep ?? defaultSleep;
    this.leaseMs = o.leaseMs ?? 20_000;
    this.batchSize = o.batchSize ?? 50;
    this.maxAttempts = o.maxAttempts ?? 12;
    this.uuidWindowMs = o.uuidWindowMs ?? 50 * 60_000;
    ({ app: this.app, perChat: this.perChat, perMessage: this.perMessage } = o.limits ?? outboxLimits());
  }

  /** Claim and deliver one batch of due rows. */
  async drainOnce(): Promise<DrainReport> {
    const report: DrainReport = { claimed: 0, sent: 0, retried: 0, deferred: 0, failed: 0, dropped: 0 };
    const rows = await claimDueOutbox(this.o.db, this.now(), this.leaseMs, this.batchSize);
    report.claimed = rows.length;
    if (rows.length === 0) return report;
    // Rows for one target go out in order, one after another; different targets in parallel.
    const groups = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      const list = groups.get(row.target) ?? [];
      list.push(row);
      groups.set(row.target, list);
    }
    await Promise.all(
      [...groups.values()].map(async (group) => {
        for (const row of group) {
          const outcome = await this.deliverSafely(row);
          report[outcome]++;
        }
      }),
    );
    return report;
  }

  /** Drain until nothing is due now (bounded), returning the summed report. */
  async drain(maxRounds = 20): Promise<DrainReport> {
    const total: DrainReport = { claimed: 0, sent: 0, retried: 0, deferred: 0, failed: 0, dropped: 0 };
    for (let i = 0; i < maxRounds; i++) {
      const r = await this.drainOnce();
      for (const k of Object.keys(total) as (keyof DrainReport)[]) total[k] += r[k];
      if (r.claimed === 0 || r.claimed === r.deferred) break;
    }
    return total;
  }

  /** Start a drain in the background unless one is running; one running drain picks up new rows. */
  kick(): Promise<void> {
    return this.loop.kick();
  }

  /** Wait for a running background drain (graceful shutdown, tests). */
  idle(): Promise<void> {
    return this.loop.idle();
  }

  private async deliverSafely(row: OutboxRow): Promise<keyof DrainReport> {
    try {
      return await this.deliver(row);
    } catch (err) {
      // A database error while recording: the lease expires and the row is retried (uuid keeps it single).
      this.o.log.error("outbox delivery crashed", { outbox: row.id, error: err });
      return "retried";
    }
  }

  private async deliver(row: OutboxRow): Promise<keyof DrainReport> {
    const { db, log } = this.o;
    const stored = row.payload as StoredPayload;
    const m = stored.message;
    const fields = {
      outbox: row.id,
      kind: row.kind,
      whistle_id: row.whistleId ?? undefined,
      attempt: row.attempts,
    };

    // A patch rendered at delivery needs its renderer; without one it can never be sent.
    const renderer = "render" in m ? this.o.renderers?.[m.render.name] : undefined;
    if ("render" in m && !renderer) {
      await markOutboxFinal(db, row.id, "failed", `unknown renderer ${m.render.name}`);
      return "failed";
    }

    if (row.guard) {
      const g = row.guard as { name: string; arg: unknown };
      const fn = this.o.guards?.[g.name];
      if (!fn) {
        await markOutboxFinal(db, row.id, "failed", `unknown guard ${g.name}`);
        return "failed";
      }
      if (!(await fn(db, g.arg))) {
        await markOutboxFinal(db, row.id, "dropped", `guard ${g.name} no longer holds`);
        log.info("outbox dropped", Object.assign({}, fields, { guard: g.name }));
        return "dropped";
      }
    }

    // A card patch or reply may point at a message a pending send will create.
    let messageId: string | undefined;
    if ("messageId" in m) {
      const resolved = await this.resolveRef(m.messageId);
      if (resolved.state === "wait") {
        await deferOutbox(
          db,
          row.id,
          new Date(this.now().getTime() + 500),
          "waiting for the referenced send",
        );
        return "deferred";
      }
      if (resolved.state === "gone") {
        await markOutboxFinal(db, row.id, "dropped", resolved.why);
        return "dropped";
      }
      messageId = resolved.messageId;
    }

    const slots = this.reserveSlots(m, messageId ?? row.target);
    let wait = slots.wait;
    if (wait > MAX_INLINE_WAIT_MS) {
      await deferOutbox(db, row.id, new Date(this.now().getTime() + wait), "rate limit");
      return "deferred";
    }
    // Wait for the slots, then until the calls before really left room (a few rounds at most).
    for (let round = 0; round < EXTRA_WAIT_ROUNDS && wait > 0; round++) {
      await this.sleep(wait);
      wait = slots.stillToWait();
    }

    try {
      let resultId: string | null = null;
      const lark =
        this.o.lark.withLogFields?.({ outbox: row.id, whistle_id: row.whistleId ?? undefined }) ??
        this.o.lark;
      try {
        let message = m;
        if ("render" in m && renderer) {
          // Rendered now, after any rate-limit wait: the card shows the state it is sent with.
          const content = await renderer(db, m.render.arg, this.now());
          if (content === undefined) {
            await markOutboxFinal(db, row.id, "dropped", "nothing to render");
            log.info("outbox dropped", Object.assign({}, fields, { renderer: m.render.name }));
            return "dropped";
          }
          message = { kind: "patch_card", messageId: m.messageId, content };
        }
        resultId = await this.call(lark, message, messageId, row.idempotencyKey, log, fields);
      } finally {
        // From now on the call counts from when it ended (Lark saw it no later than that).
        slots.finished();
      }
      const hook = stored.recordAs && resultId ? this.o.hooks?.[stored.recordAs.name] : undefined;
      if (stored.recordAs && resultId && !hook)
        log.error("no hook for recordAs", Object.assign({}, fields, { hook: stored.recordAs.name }));
      await db.transaction(async (tx) => {
        await markOutboxSent(tx, row.id, this.now(), resultId);
        if (hook && stored.recordAs && resultId) await hook(tx, stored.recordAs.id, resultId);
      });
      return "sent";
    } catch (err) {
      const verdict = classify(err, row.attempts, this.random);
      const tooOld =
        (m.kind === "send" || m.kind === "reply") &&
        this.now().getTime() - row.createdAt.getTime() > this.uuidWindowMs;
      if (verdict.action === "retry" && row.attempts < this.maxAttempts && !tooOld) {
        await markOutboxRetry(db, row.id, new Date(this.now().getTime() + verdict.delayMs), verdict.reason);
        return "retried";
      }
      const reason =
        verdict.action === "fail"
          ? verdict.reason
          : tooOld
            ? `still failing after ${Math.round(this.uuidWindowMs / 60_000)} min: ${verdict.reason}`
            : `gave up after ${row.attempts} attempts: ${verdict.reason}`;
      await markOutboxFinal(db, row.id, "failed", reason);
      log.error("outbox delivery failed for good", Object.assign({}, fields, { target: row.target, reason }));
      if (!stored.notice) await this.tellAdmins(row, reason);
      return "failed";
    }
  }

  /** The Lark call an outbox row stands for; the id of the message it created, if any. */
  private async call(
    lark: LarkApi,
    m: OutboxPayload,
    messageId: string | undefined,
    uuid: string | null,
    log: Logger,
    fields: Record<string, unknown>,
  ): Promise<string | null> {
    switch (m.kind) {
      case "send":
        return (
          await lark.send({
            receiveIdType: m.receiveIdType,
            receiveId: m.receiveId,
            msgType: m.msgType,
            content: m.content,
            uuid: uuid ?? undefined,
          })
        ).messageId;
      case "reply":
        return (
          await lark.reply({
            messageId: messageId as string,
            msgType: m.msgType,
            content: m.content,
            uuid: uuid ?? undefined,
            replyInThread: m.replyInThread,
          })
        ).messageId;
      case "patch_card":
        if (!("content" in m)) throw new Error("card patch not rendered");
        await lark.patchCard(messageId as string, m.content);
        break;
      case "card_update":
        await lark.cardUpdate(m.token, m.card);
        break;
      case "upload": {
        const { fileKey } = await lark.uploadFile({
          fileName: m.fileName,
          fileType: m.fileType,
          bytes: Uint8Array.from(atob(m.base64), (c) => c.charCodeAt(0)),
        });
        return (
          await lark.reply({
            messageId: messageId as string,
            msgType: "file",
            content: JSON.stringify({ file_key: fileKey }),
            uuid: uuid ?? undefined,
          })
        ).messageId;
      }
      case "buzz": {
        const r = await lark.buzz(messageId as string, m.channel, m.openIds);
        if (r.invalidOpenIds.length > 0)
          log.warn("buzz skipped some people", Object.assign({}, fields, { invalid: r.invalidOpenIds }));
        break;
      }
    }
    return null;
  }

  /**
   * Book rate-limit slots: the app, plus the chat a message lands in or the card being updated.
   * `stillToWait` (when the wait is over) says how much longer to wait, if any; `finished` (when the
   * call has ended) makes the bookings count from then.
   */
  private reserveSlots(
    m: OutboxPayload,
    messageId: string,
  ): { wait: number; stillToWait: () => number; finished: () => void } {
    const chat =
      m.kind === "send" && m.receiveIdType === "chat_id"
        ? m.receiveId
        : m.kind === "reply" || m.kind === "upload"
          ? m.chatId
          : undefined;
    const [limiter, key] = chat
      ? [this.perChat, chat]
      : [this.perMessage, m.kind === "send" ? m.receiveId : messageId];
    const app = this.app.book("app");
    const target = limiter.book(key);
    return {
      wait: Math.max(app.wait, target.wait),
      stillToWait: () =>
        Math.max(this.app.stillToWait("app", app.slot), limiter.stillToWait(key, target.slot)),
      finished: () => {
        this.app.finished("app", app.slot);
        limiter.finished(key, target.slot);
      },
    };
  }

  private async resolveRef(
    ref: MessageRef,
  ): Promise<{ state: "ok"; messageId: string } | { state: "wait" } | { state: "gone"; why: string }> {
    if (!ref.startsWith("outbox:")) return { state: "ok", messageId: ref };
    const row = await outboxByKey(this.o.db, ref.slice("outbox:".length));
    if (!row) return { state: "gone", why: `referenced ${ref} does not exist` };
    if (row.status === "sent" && row.resultMessageId) return { state: "ok", messageId: row.resultMessageId };
    if (row.status === "pending" || row.status === "sending") return { state: "wait" };
    return { state: "gone", why: `referenced ${ref} ended ${row.status}` };
  }

  /** Tell every admin, privately, that a message could not be delivered and why. */
  private async tellAdmins(row: OutboxRow, reason: string) {
    const list = await this.o.db.select({ openId: admins.openId }).from(admins);
    if (list.length === 0) return;
    const text = `⚠️ 吹哨报到：一条消息无法送达（${row.kind} → ${row.target}）。原因：${reason}。请检查机器人是否仍在群内、应用权限是否齐全。`;
    for (const a of list) {
      await enqueue(
        this.o.db,
        {
          kind: "send",
          receiveIdType: "open_id",
          receiveId: a.openId,
          msgType: "text",
          content: content.text(text),
        },
        { notice: true, whistleId: row.whistleId ?? undefined },
        this.now(),
      );
    }
  }
}
