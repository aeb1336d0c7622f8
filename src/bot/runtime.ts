import type { Db, SealableTransaction } from "../db/database";
import { dispatchStillPending, whistleStillOpen } from "../db/queries/deadlines";
import type { Logger } from "../log";
import { InboundWorker } from "./inbound-worker";
import type { LarkApi } from "./lark-client";
import type { DrainReport } from "./outbox-worker";
import { type GuardFn, type OutboxLimits, OutboxWorker, type RecordHook } from "./outbox-worker";
import { EventCommitter, type PipelineDeps } from "./pipeline";
import type { Bot } from "./router";
import { type SweepReport, sweepDeadlines, sweepDigest, sweepRatingReminders } from "./sweep";
import { CardCache } from "./whistle/card-cache";
import { cardHooks, cardRenderers } from "./whistle/publish";

/** Delivery-time conditions: a reminder, buzz or escalation is dropped once it no longer applies. */
const deliveryGuards: Record<string, GuardFn> = {
  dispatch_pending: (db, arg) =>
    dispatchStillPending(db, Array.isArray(arg) ? arg.map(Number) : [Number(arg)]),
  whistle_open: (db, arg) => whistleStillOpen(db, Number(arg)),
};

import { createWhistleBot } from "./whistle-bot";

/**
 * Everything the bot needs at run time, wired once per process: the router, the outbox worker,
 * the pipeline, and the bot's own identity (its open_id, learnt from Lark at start).
 */
export interface LarkRuntimeOptions {
  db: Db;
  lark: LarkApi;
  log: Logger;
  now?: () => Date;
  bot?: Bot;
  guards?: Record<string, GuardFn>;
  hooks?: Record<string, RecordHook>;
  leaseMs?: number;
  /** Lark rate-limit windows to share with other runtimes (Workers build a runtime per request). */
  outboxLimits?: OutboxLimits;
  /** Event transactions in flight at once (1 for PGlite; a few for Postgres). */
  commitConcurrency?: number;
  /** The database's `sealableTransaction` where it has one (Postgres): event batches commit through it. */
  transaction?: SealableTransaction;
  /**
   * Acknowledged events handled per transaction: small on PGlite (one connection: an ack waits for
   * the handling transaction in front of it), larger on Postgres. Default 8.
   */
  handleBatch?: number;
  /** TZ_DISPLAY (default Asia/Shanghai). */
  tz?: string;
  /** DIGEST_AT: when the daily digest goes to oversight ("HH:MM", default 08:30). */
  digestAt?: string;
}

export class LarkRuntime {
  readonly bot: Bot;
  readonly worker: OutboxWorker;
  /** Handles the events acknowledged before their handlers ran (commands, membership events). */
  readonly inbound: InboundWorker;
  readonly pipeline: PipelineDeps;
  readonly now: () => Date;
  botOpenId: string | undefined;
  botName: string | undefined;

  constructor(private readonly o: LarkRuntimeOptions) {
    this.now = o.now ?? (() => new Date());
    this.bot = o.bot ?? createWhistleBot();
    const tz = o.tz ?? "Asia/Shanghai";
    this.worker = new OutboxWorker({
      db: o.db,
      lark: o.lark,
      log: o.log.child({ part: "outbox" }),
      now: this.now,
      hooks: Object.assign({}, cardHooks, o.hooks),
      renderers: cardRenderers(tz),
      guards: Object.assign({}, deliveryGuards, o.guards),
      leaseMs: o.leaseMs,
      limits: o.outboxLimits,
    });
    const botOpenId = () => this.botOpenId;
    const onOutbox = () => this.pipeline.onOutbox();
    this.inbound = new InboundWorker({
      db: o.db,
      bot: this.bot,
      log: o.log.child({ part: "inbound" }),
      now: this.now,
      botOpenId,
      onOutbox,
      lookup: o.lark,
      tz,
      giveWay: () => this.pipeline.committer.idle(),
      batchSize: o.handleBatch,
    });
    this.pipeline = {
      db: o.db,
      bot: this.bot,
      log: o.log,
      now: this.now,
      botOpenId,
      onOutbox: () => void this.worker.kick(),
      tz,
      committer: new EventCommitter({
        db: o.db,
        log: o.log,
        now: this.now,
        botOpenId,
        onOutbox,
        onAccepted: () => void this.inbound.kick(),
        lookup: o.lark,
        tz,
        concurrency: o.commitConcurrency,
        transaction: o.transaction,
        cards: new CardCache(),
      }),
    };
  }

  /**
   * One sweep: act on every due reminder, deadline, escalation and progress ask, then deliver the
   * outbox. Safe to run repeatedly and from several processes at once.
   */
  async sweep(
    now = this.now(),
  ): Promise<{ deadlines: SweepReport; ratingReminders: number; digest: boolean; outbox: DrainReport }> {
    const opts = { db: this.o.db, log: this.o.log, tz: this.pipeline.tz };
    // Events acknowledged but not handled yet (a crash after the ack, another instance's backlog).
    await this.inbound.kick();
    const deadlines = await sweepDeadlines(now, opts);
    const ratingReminders = await sweepRatingReminders(now, opts);
    const digest = await sweepDigest(now, Object.assign({}, opts, { digestAt: this.o.digestAt ?? "08:30" }));
    // Deliver, and wait for a background delivery that may have claimed some of the rows.
    await this.worker.idle();
    const outbox = await this.worker.drain();
    await this.worker.idle();
    return { deadlines, ratingReminders, digest, outbox };
  }

  /**
   * Wait until everything already received has been handled and delivered as far as it can be
   * now: acknowledged events processed, then the outbox drained (tests, shutdown, Workers'
   * `waitUntil`).
   */
  async settle(): Promise<void> {
    await this.inbound.kick();
    await this.inbound.idle();
    await this.worker.kick();
    await this.worker.idle();
  }

  /** Learn the bot's open_id (GET /open-apis/bot/v3/info). Until then, any bot mention counts as ours. */
  async identify(): Promise<boolean> {
    try {
      const info = await this.o.lark.botInfo();
      this.botOpenId = info.openId;
      this.botName = info.name;
      this.o.log.info("bot identity", { open_id: info.openId, name: info.name });
      return true;
    } catch (err) {
      this.o.log.warn("cannot read the bot's identity yet; will retry", { error: err });
      return false;
    }
  }
}
