import { type Db, type SealableTransaction, TransactionSealedError, type Tx } from "../db/database";
import { type InboundInsert, recordInbound } from "../db/queries/inbound";
import type { Logger } from "../log";
import { nextMacrotask } from "../next-macrotask";
import type { CardActionEvent, LarkEvent } from "./events";
import type { MemberLookup } from "./membership";
import { OutboxWriter } from "./outbox";
import {
  type BaseContext,
  type BatchPrepare,
  type Bot,
  batchMemo,
  type CallbackAnswer,
  type Deferred,
  type Match,
} from "./router";
import type { CardCache } from "./whistle/card-cache";

/**
 * The one path every verified event takes, whatever the way in:
 * match (pure) → dedupe (unique insert of event_id, and message_id for messages) → handler → outbox.
 *
 * - Card callbacks must answer with their result (a toast and the re-rendered card, within 3 s):
 *   dedupe row, handler, state and outbox commit in ONE transaction, then the answer.
 * - Everything else (commands, membership events) is recorded `pending` and acknowledged as soon
 *   as that insert commits; the inbound worker then runs the handler in its own transaction, which
 *   marks the event done together with the state and outbox rows it writes. A heavy command (a
 *   month of statistics, an export) never holds up the acknowledgement of others, and a crash
 *   after the ack loses nothing: the pending row is processed at the next start or sweep.
 *
 * Group commit: events that arrive while a transaction is running are committed together in the
 * next one (each still deduped and handled on its own), so a burst costs a few round trips and one
 * commit instead of several per event. If any handler of a batch fails, the batch is rolled back
 * and each event is retried in a transaction of its own, so one bad event never takes others down.
 */
export interface PipelineDeps {
  db: Db;
  bot: Bot;
  log: Logger;
  now: () => Date;
  botOpenId: () => string | undefined;
  /** Called after a commit that wrote outbox rows (start delivering). */
  onOutbox: () => void;
  committer: EventCommitter;
  tz: string;
}

export type PipelineResult =
  | { status: "duplicate" }
  /** Recorded; its handler runs after the acknowledgement (see `InboundWorker`). */
  | { status: "accepted" }
  | { status: "processed"; handled: boolean; why?: string; answer?: CallbackAnswer };

export async function processEvent(event: LarkEvent, deps: PipelineDeps): Promise<PipelineResult> {
  const match = deps.bot.match(event, deps.botOpenId());
  if (match.kind !== "run") {
    // Chatter, other bots, events nobody handles, stale card buttons: no effect, so nothing to
    // record or dedupe — a busy group's small talk never costs a database write.
    deps.log.debug("inbound event", {
      event_id: event.eventId,
      event_type: event.eventType,
      status: "ignored",
      why: match.kind === "none" ? match.why : "fixed answer",
    });
    return match.kind === "answer"
      ? { status: "processed", handled: true, answer: match.answer }
      : { status: "processed", handled: false, why: match.why };
  }
  return deps.committer.submit(event, match);
}

/** Only card callbacks answer with what their handler did; everything else is handled after the ack. */
export const handledBeforeAck = (event: LarkEvent): boolean => event.kind === "card_action";

/** Card callbacks name their whistle (`w`) and dispatch (`d`): the order their locks are taken in. */
function lockKey(e: LarkEvent): [number, number] {
  if (e.kind !== "card_action") return [0, 0];
  return [Number(e.value.w) || 0, Number(e.value.d) || 0];
}

const byLockKey = (a: { key: [number, number]; i: number }, b: { key: [number, number]; i: number }) =>
  a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.i - b.i;

/** Deadlock (40P01) or serialization failure (40001): safe to retry, nothing was committed. */
export function isTransient(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  const code = e?.cause?.code ?? e?.code;
  return code === "40P01" || code === "40001";
}

type RunFn = Extract<Match, { kind: "run" }>["run"];

/** An event to handle, with its matched handler. */
export interface Runnable {
  event: LarkEvent;
  run: RunFn;
  prepare: BatchPrepare | undefined;
}

/** What handlers need besides the transaction. */
export interface HandlerDeps {
  log: Logger;
  /** Kept between the batches this committer commits (see `CardCache`). */
  cards?: CardCache;
  botOpenId: () => string | undefined;
  lookup?: MemberLookup;
  tz: string;
}

/**
 * Run the handlers of a batch of events inside `tx`: in lock order, card actions that share a unit
 * of work prepared together, deferred answers rendered once the whole batch has made its changes,
 * the outbox written at the end. Returns each event's answer (undefined for one not handled) and
 * how many outbox rows were written.
 *
 * `fresh`, when given, is the dedupe still on its way, its insert sent right after the units of
 * work lock and load their rows: Postgres runs it while the handlers of those units' card actions
 * run, without waiting for it. That is safe because a redelivered tap changes nothing the first
 * one did not (the dispatch's row lock orders it after the first, which it then sees) — except a
 * write that repeats, which a handler guards with `ctx.fresh()` (a progress note). Every other
 * handler runs only for the events the dedupe says are new; a duplicate's answer is dropped.
 */
export async function handleBatch(
  tx: Tx,
  now: Date,
  items: Runnable[],
  deps: HandlerDeps,
  fresh?: Promise<(item: Runnable) => boolean>,
  /** Called once the batch will start no more statements (see `SealableTransaction`). */
  seal?: () => void,
): Promise<{ answers: (CallbackAnswer | undefined)[]; wrote: number; committed: () => void }> {
  const out = new OutboxWriter(tx, now);
  // Arrays here are built by push, never `new Array(n)` or `map`: this runs once per batch, and
  // arrays of other element kinds reaching the same lines made the JIT discard its compiled code.
  const answers: (CallbackAnswer | undefined)[] = [];
  for (let i = 0; i < items.length; i++) answers.push(undefined);
  const later: { index: number; answer: Deferred }[] = [];
  const memo = batchMemo();
  const base = (log: Logger, isNew: () => Promise<boolean> = yes): BaseContext => ({
    tx,
    now,
    log,
    fresh: isNew,
    out,
    botOpenId: deps.botOpenId(),
    lookup: deps.lookup,
    tz: deps.tz,
    batch: memo,
    cards: deps.cards,
  });
  // Handlers take row locks in the order whistle → dispatch; running the batch in that order too
  // keeps concurrent batches from waiting on each other in a circle (deadlock).
  const order: { p: Runnable; i: number; key: [number, number] }[] = [];
  for (let i = 0; i < items.length; i++) {
    const p = items[i] as Runnable;
    order.push({ p, i, key: lockKey(p.event) });
  }
  order.sort(byLockKey);
  // Card actions that share a unit of work lock and load their rows together, in lock order.
  const prepares = new Map<BatchPrepare, CardActionEvent[]>();
  for (const { p } of order) {
    if (!p.prepare || p.event.kind !== "card_action") continue;
    const events = prepares.get(p.prepare);
    if (events) events.push(p.event);
    else prepares.set(p.prepare, [p.event]);
  }
  const prepared = (async () => {
    for (const [prepare, events] of prepares) await prepare.run(base(deps.log), events);
  })();
  // Not every batch waits for the dedupe here (a batch of taps never does): its failure reaches
  // the caller through the dedupe's own promise, and must not be an unhandled rejection here.
  fresh?.catch(() => {});
  await prepared;
  for (const { p, i } of order) {
    const isNew = fresh ? () => fresh.then((f) => f(p)) : yes;
    if (!p.prepare && !(await isNew())) continue;
    const log = deps.log.child({ event_id: p.event.eventId, event_type: p.event.eventType });
    // A handler outside the units of work sees their writes, and they reload after it.
    if (!p.prepare) await memo.barrier();
    const answer = await p.run(base(log, isNew));
    if (!p.prepare) await memo.barrier();
    if (answer && "deferred" in answer) later.push({ index: i, answer });
    else answers[i] = answer;
  }
  // The units' writes, the outbox rows queued so far, then what the answers read: started one
  // after another without waiting in between (one round trip on Postgres, where the connection
  // runs them in that order, so the reads see the writes). Answers render what the whole batch
  // changed, after every handler ran, started together so what they load is loaded once for all.
  const pending: Promise<void>[] = [memo.barrier(), out.flush()];
  let readOnly = true;
  for (const { index, answer } of later) {
    if (!answer.readOnly) readOnly = false;
    pending.push(
      answer.deferred().then((a) => {
        answers[index] = a;
      }),
    );
  }
  // Every write is started, and the answers only read: the commit can follow right behind.
  if (readOnly) seal?.();
  await Promise.all(pending);
  const wrote = out.written;
  // Rows the answers queued (rendered from what they read).
  await out.flush();
  return { answers, wrote, committed: () => memo.committed() };
}

const yes = () => Promise.resolve(true);

interface Pending extends Runnable {
  resolve: (r: PipelineResult) => void;
  reject: (e: unknown) => void;
}

export interface CommitterOptions extends HandlerDeps {
  db: Db;
  now: () => Date;
  onOutbox: () => void;
  /** Called after a commit that recorded events to handle after the ack. */
  onAccepted?: () => void;
  /** Transactions in flight at once: 1 for PGlite (one backend anyway), a few for Postgres. */
  concurrency?: number;
  /** Where the database offers one (Postgres), batches commit through it: see `SealableTransaction`. */
  transaction?: SealableTransaction;
  maxBatch?: number;
}

export class EventCommitter {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly concurrency: number;
  private readonly maxBatch: number;

  constructor(private readonly o: CommitterOptions) {
    this.concurrency = o.concurrency ?? 1;
    this.maxBatch = o.maxBatch ?? 64;
  }

  submit(event: LarkEvent, match: Extract<Match, { kind: "run" }>): Promise<PipelineResult> {
    return new Promise<PipelineResult>((resolve, reject) => {
      this.queue.push({ event, run: match.run, prepare: match.prepare, resolve, reject });
      // Start after pending I/O callbacks have run (not on a microtask), so events that are ready
      // at the same moment share the transaction — PGlite runs its statements without yielding to I/O.
      if (this.queue.length === 1) nextMacrotask(() => this.pump());
    });
  }

  /** Resolves when nothing is queued or committing (the inbound worker gives way to acks). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump() {
    if (this.queue.length === 0 && this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
    while (this.inFlight < this.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      void this.commit(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async commit(batch: Pending[], attempt = 1): Promise<void> {
    let results: PipelineResult[];
    let wrote = 0;
    let committed: (() => void) | undefined;
    try {
      const run = async (tx: Tx, seal?: () => void) => {
        const r = await this.runBatch(tx, batch, seal);
        wrote = r.wrote;
        committed = r.committed;
        return r.results;
      };
      results = this.o.transaction ? await this.o.transaction(run) : await this.o.db.transaction(run);
    } catch (err) {
      if (err instanceof TransactionSealedError) {
        // Committed, but the answers were lost (a bug after the last read): not retried, which
        // would find every event a duplicate. The person taps again and sees the recorded state.
        this.o.log.error("batch committed but not answered", { size: batch.length, error: err.cause });
        for (const p of batch) p.reject(err);
        return;
      }
      if (batch.length === 1) {
        if (isTransient(err) && attempt < 4) {
          // A deadlock or serialization failure: nothing was committed; try again shortly.
          await new Promise((r) => setTimeout(r, 10 * attempt + Math.random() * 20));
          return this.commit(batch, attempt + 1);
        }
        (batch[0] as Pending).reject(err);
        return;
      }
      this.o.log.warn("batch rolled back; retrying its events one by one", {
        size: batch.length,
        error: err,
      });
      for (const p of batch) await this.commit([p]);
      return;
    }
    committed?.();
    let accepted = 0;
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as Pending;
      const r = results[i] as PipelineResult;
      if (r.status === "accepted") accepted++;
      this.o.log.info("inbound event", {
        event_id: p.event.eventId,
        event_type: p.event.eventType,
        message_id: p.event.kind === "message" ? p.event.messageId : undefined,
        status: r.status,
        batch: batch.length > 1 ? batch.length : undefined,
      });
      p.resolve(r);
    }
    if (wrote > 0) this.o.onOutbox();
    if (accepted > 0) this.o.onAccepted?.();
  }

  private async runBatch(
    tx: Tx,
    batch: Pending[],
    seal?: () => void,
  ): Promise<{ results: PipelineResult[]; wrote: number; committed?: () => void }> {
    const now = this.o.now();
    // Loops and push, not `map`/`filter`/`new Array(n)` (see handleBatch).
    const results: (PipelineResult | undefined)[] = [];
    // The same event twice in one batch: the insert keeps one row; only the first copy counts.
    const seen = new Set<string>();
    const firsts: { p: Pending; i: number }[] = [];
    const rows: InboundInsert[] = [];
    const handleNow: Runnable[] = [];
    /** Where each of `handleNow` sits in the batch. */
    const handleAt: number[] = [];
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as Pending;
      results.push(undefined);
      if (seen.has(p.event.eventId)) {
        results[i] = { status: "duplicate" };
        continue;
      }
      seen.add(p.event.eventId);
      firsts.push({ p, i });
      const beforeAck = handledBeforeAck(p.event);
      rows.push({
        eventId: p.event.eventId,
        messageId: p.event.kind === "message" ? p.event.messageId : null,
        eventType: p.event.eventType,
        payload: p.event,
        status: beforeAck ? "done" : "pending",
      });
      if (beforeAck) {
        handleNow.push(p);
        handleAt.push(i);
      }
    }
    // The handlers' locks and loads go out first, the dedupe insert right behind them (see
    // `handleBatch`): it is started once `handleBatch` has started its statements.
    let record!: () => void;
    const recorded = new Promise<Set<string>>((resolve, reject) => {
      record = () => recordInbound(tx, rows, now).then(resolve, reject);
    });
    const handled =
      handleNow.length === 0
        ? undefined
        : handleBatch(
            tx,
            now,
            handleNow,
            this.o,
            recorded.then((ids) => (item: Runnable) => ids.has(item.event.eventId)),
            seal,
          );
    record();
    const [fresh, answered] = await Promise.all([recorded, handled]);
    for (const { p, i } of firsts) {
      if (!fresh.has(p.event.eventId)) results[i] = { status: "duplicate" };
      else if (!handledBeforeAck(p.event)) results[i] = { status: "accepted" };
    }
    for (let k = 0; k < handleAt.length; k++) {
      const i = handleAt[k] as number;
      if (results[i]) continue;
      results[i] = { status: "processed", handled: true, answer: answered?.answers[k] };
    }
    return {
      results: results as PipelineResult[],
      wrote: answered?.wrote ?? 0,
      committed: answered?.committed,
    };
  }
}
