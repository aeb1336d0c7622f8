import type { DbOrTx } from "../../db/database";
import {
  addReportIns,
  addTimelineEntries,
  chatsOfDepartments,
  type DispatchPatch,
  type DispatchRow,
  lockDispatches,
  lockSummaries,
  lockWhistlesShared,
  patchDispatches,
  reportersAmong,
  type TimelineInsert,
  type WhistleRow,
  whistleIdsOfDispatches,
} from "../../db/queries/whistles";
import type { CardActionEvent } from "../events";
import type { BaseContext, BatchPrepare, BatchUnit } from "../router";

/**
 * The batch's unit of work for the buttons on department cards (报到, 到场, 进展).
 *
 * Taps arrive in bursts — a whole department tapping 报到 within seconds of the card landing —
 * and the pipeline commits a burst in one transaction. Instead of each tap locking and reading
 * its rows and writing its report-in, timeline entry and dispatch update one statement at a time,
 * the desk locks every whistle (shared) and dispatch (for update) the batch touches in two
 * statements, in id order, reads their bound chats and who already tapped, and sends the writes
 * as a few set-based statements when the pipeline reaches a barrier (before any other handler, and
 * before the answers are rendered from the database).
 *
 * Holding the dispatch's row lock is what makes the in-memory answers right: every writer of a
 * dispatch's report-ins holds that lock, so nobody else can add one between our read and flush.
 * The report-in's unique key still guards the table.
 */

export interface DeskRows {
  whistle: WhistleRow;
  dispatch: DispatchRow;
}

const DESK = "dispatch-desk";

export class DispatchDesk implements BatchUnit {
  private readonly whistles = new Map<number, WhistleRow>();
  private readonly dispatches = new Map<number, DispatchRow>();
  private readonly chats = new Map<number, string[]>();
  /** `dispatch:openId` pairs whose report-in is known: `true` when they have tapped. */
  private readonly tapped = new Map<string, boolean>();
  private reportIns: { dispatchId: number; openId: string; at: Date }[] = [];
  private patches = new Map<number, DispatchPatch>();
  private entries: TimelineInsert[] = [];
  /** Whistles whose summary card the batch updates (their summary lock is taken at the flush). */
  private summaries = new Set<number>();

  constructor(private readonly tx: DbOrTx) {}

  /**
   * Lock and load what these taps need. The reads are sent together (one round trip on Postgres,
   * which runs them in order on the connection: whistles are locked before dispatches, as
   * everywhere else).
   *
   * Plain loops, one pass over the events: this runs once per batch with every tap in it, and
   * array chains (`filter`/`map`/spreads of sets, on lists that are sometimes empty) made the JIT
   * throw away and recompile this function several times in a busy minute.
   */
  async load(events: CardActionEvent[]): Promise<void> {
    const newDispatches: number[] = [];
    /** The new dispatches whose cards do not name their whistle (older cards): looked up first. */
    const unknown: number[] = [];
    const whistleIds = new Set<number>();
    const unchecked = new Map<string, { dispatchId: number; openId: string }>();
    for (const e of events) {
      const d = Number(e.value.d);
      if (!Number.isInteger(d) || d <= 0) continue;
      if (!this.dispatches.has(d)) {
        if (!newDispatches.includes(d)) newDispatches.push(d);
        const w = Number(e.value.w) || 0;
        if (w) whistleIds.add(w);
        else if (!unknown.includes(d)) unknown.push(d);
      }
      const k = key(d, e.operatorOpenId);
      if (!this.tapped.has(k) && !unchecked.has(k))
        unchecked.set(k, { dispatchId: d, openId: e.operatorOpenId });
    }
    if (newDispatches.length === 0 && unchecked.size === 0) return;
    if (unknown.length > 0) {
      for (const w of (await whistleIdsOfDispatches(this.tx, unknown)).values()) whistleIds.add(w);
    }
    const toLock: number[] = [];
    for (const id of whistleIds) if (!this.whistles.has(id)) toLock.push(id);
    const pairs = Array.from(unchecked.values());
    const [ws, ds, chats, found] = await Promise.all([
      lockWhistlesShared(this.tx, toLock),
      lockDispatches(this.tx, newDispatches),
      chatsOfDepartments(this.tx, newDispatches),
      reportersAmong(this.tx, pairs),
    ]);
    for (const w of ws) this.whistles.set(w.id, w);
    for (const d of ds) {
      this.dispatches.set(d.id, d);
      this.chats.set(d.departmentId, chats.get(d.departmentId) ?? []);
    }
    for (const k of unchecked.keys()) this.tapped.set(k, false);
    for (const r of found) this.tapped.set(key(r.dispatchId, r.openId), true);
  }

  /** The rows behind a tap (locked), or undefined when the card names nothing that exists. */
  async rows(event: CardActionEvent): Promise<DeskRows | undefined> {
    const d = Number(event.value.d);
    // The batch's taps were loaded together before their handlers ran (`prepareDesk`).
    if (!this.dispatches.has(d) || !this.tapped.has(key(d, event.operatorOpenId))) await this.load([event]);
    const dispatch = this.dispatches.get(d);
    if (!dispatch) return undefined;
    const whistle = this.whistles.get(dispatch.whistleId);
    const named = Number(event.value.w);
    if (!whistle || (named && named !== whistle.id)) return undefined;
    return { whistle, dispatch };
  }

  /** The chats bound to a unit the desk has loaded a dispatch of. */
  chatsOf(unitId: number): string[] {
    return this.chats.get(unitId) ?? [];
  }

  /** Whether `openId` has tapped 报到 on a loaded dispatch (before, or earlier in this batch). */
  tappedBefore(dispatchId: number, openId: string): boolean {
    return this.tapped.get(key(dispatchId, openId)) === true;
  }

  /** Record `openId`'s tap on a loaded dispatch (a repeat is ignored). */
  addReportIn(dispatchId: number, openId: string, at: Date): void {
    const k = key(dispatchId, openId);
    if (this.tapped.get(k)) return;
    this.tapped.set(k, true);
    this.reportIns.push({ dispatchId, openId, at });
  }

  /** Change a loaded dispatch (seen at once by the batch's later taps, written at the flush). */
  patch(dispatchId: number, set: DispatchPatch): void {
    const row = this.dispatches.get(dispatchId);
    if (row) Object.assign(row, set);
    const pending = this.patches.get(dispatchId);
    if (pending) Object.assign(pending, set);
    else this.patches.set(dispatchId, Object.assign({}, set));
  }

  /**
   * The batch updates this whistle's summary card: its summary lock is taken at the flush, before
   * the update is written (see `lockSummaries`). True the first time for a whistle in a unit.
   */
  refreshesSummary(whistleId: number): boolean {
    if (this.summaries.has(whistleId)) return false;
    this.summaries.add(whistleId);
    return true;
  }

  timeline(entry: TimelineInsert): void {
    this.entries.push(entry);
  }

  async flush(): Promise<void> {
    const [reportIns, patches, entries, summaries] = [
      this.reportIns,
      this.patches,
      this.entries,
      this.summaries,
    ];
    this.reportIns = [];
    this.patches = new Map();
    this.entries = [];
    this.summaries = new Set();
    // Independent writes, sent together. The summaries' lock comes first: the pipeline sends the
    // outbox rows (the summary updates) and the answers' reads after these, on the same connection.
    await Promise.all([
      lockSummaries(this.tx, summaries),
      addReportIns(this.tx, reportIns),
      patchDispatches(this.tx, patches),
      addTimelineEntries(this.tx, entries),
    ]);
  }
}

function key(dispatchId: number, openId: string): string {
  return `${dispatchId}:${openId}`;
}

/** The batch's desk (created on first use; the pipeline's barriers flush and drop it). */
export function desk(ctx: Pick<BaseContext, "tx" | "batch">): DispatchDesk {
  return ctx.batch.unit(DESK, () => new DispatchDesk(ctx.tx));
}

/** Registered with the department-card actions: one load for all of a batch's taps. */
export const prepareDesk: BatchPrepare = {
  key: DESK,
  run: (base, events) => desk(base).load(events),
};
