import type { Db } from "../db/database";
import { claimPendingInbound, markInboundDone, markInboundFailed } from "../db/queries/inbound";
import { BackgroundLoop } from "./background";
import type { LarkEvent } from "./events";
import { type HandlerDeps, handleBatch, isTransient, type Runnable } from "./pipeline";
import type { Bot } from "./router";

/**
 * Runs the handlers of events that were recorded `pending` and acknowledged (commands and other
 * events; see pipeline.ts). Oldest first, a few per transaction — the transaction that runs a
 * handler also marks its event done, so an event is handled exactly once however often this runs,
 * in however many processes (SKIP LOCKED). A handler that keeps failing is marked `failed` after
 * MAX_ATTEMPTS with its error, and logged, instead of blocking the events behind it.
 */

export const MAX_ATTEMPTS = 3;

export interface InboundWorkerOptions extends HandlerDeps {
  db: Db;
  bot: Bot;
  now: () => Date;
  onOutbox: () => void;
  /**
   * Events per transaction. Small, so that on PGlite (one connection) an acknowledgement waiting
   * behind a processing transaction waits for a few handlers, not dozens.
   */
  batchSize?: number;
  /**
   * Resolves when acknowledgements are not waiting (the event committer is idle). Acks come first:
   * Lark redelivers what is not acknowledged in time, and on PGlite both share one connection and
   * one thread. Waited for at most GIVE_WAY_MS per batch, so a long burst cannot starve handling.
   */
  giveWay?: () => Promise<void>;
}

export const GIVE_WAY_MS = 100;

export class InboundWorker {
  private readonly loop: BackgroundLoop;

  constructor(private readonly o: InboundWorkerOptions) {
    this.loop = new BackgroundLoop(() => this.process(), o.log, "inbound processing failed");
  }

  /** Claim and handle one batch; returns how many events it claimed. */
  async processOnce(limit = this.o.batchSize ?? 8): Promise<number> {
    const now = this.o.now();
    let claimed: { id: number; eventId: string; attempts: number }[] = [];
    let wrote = 0;
    try {
      await this.o.db.transaction(async (tx) => {
        const rows = await claimPendingInbound(tx, limit);
        claimed = rows;
        if (rows.length === 0) return;
        const runnable: Runnable[] = [];
        const botOpenId = this.o.botOpenId();
        for (const row of rows) {
          const event = row.payload as LarkEvent;
          const m = this.o.bot.match(event, botOpenId);
          if (m.kind === "run") runnable.push({ event, run: m.run, prepare: m.prepare });
        }
        wrote = (await handleBatch(tx, now, runnable, this.o)).wrote;
        await markInboundDone(
          tx,
          rows.map((r) => r.id),
          now,
        );
      });
    } catch (err) {
      if (isTransient(err)) {
        // A deadlock or serialization failure: nothing was committed; they stay pending.
        this.o.log.warn("inbound batch hit a transient error; will retry", {
          size: claimed.length,
          error: err,
        });
        await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
        return claimed.length;
      }
      if (claimed.length > 1) {
        // Nothing was committed: take them one at a time to find the one that fails.
        this.o.log.warn("inbound batch rolled back; handling its events one by one", {
          size: claimed.length,
          error: err,
        });
        let n = 0;
        for (let i = 0; i < claimed.length; i++) n += await this.processOnce(1);
        return n;
      }
      const row = claimed[0];
      if (!row) throw err;
      const final = row.attempts + 1 >= MAX_ATTEMPTS;
      (final ? this.o.log.error : this.o.log.warn).call(this.o.log, "inbound event failed", {
        event_id: row.eventId,
        attempt: row.attempts + 1,
        final,
        error: err,
      });
      await markInboundFailed(this.o.db, row.id, String((err as Error)?.message ?? err), now, final);
      return 1;
    }
    for (const row of claimed) {
      this.o.log.info("inbound event", { event_id: row.eventId, status: "done" });
    }
    if (wrote > 0) this.o.onOutbox();
    return claimed.length;
  }

  /** Handle pending events until none is left (bounded). */
  async process(maxRounds = 1000): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxRounds; i++) {
      if (this.o.giveWay) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          this.o.giveWay(),
          new Promise<void>((r) => {
            timer = setTimeout(r, GIVE_WAY_MS);
          }),
        ]);
        clearTimeout(timer);
      }
      const n = await this.processOnce();
      total += n;
      if (n === 0) break;
    }
    return total;
  }

  /** Start processing in the background unless it is running; a running loop picks up new events. */
  kick(): Promise<void> {
    return this.loop.kick();
  }

  /** Wait until background processing is done (tests, graceful shutdown, Workers' waitUntil). */
  idle(): Promise<void> {
    return this.loop.idle();
  }
}
