import type { DbOrTx } from "../../db/database";
import { type DispatchLists, dispatchLists, unitNames } from "../../db/queries/department-cards";
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
import type { DepartmentCardView, DispatchView, PersonRef } from "../../domain/whistle";
import type { CardActionEvent } from "../events";
import type { BaseContext, BatchMemo, BatchPrepare, BatchUnit } from "../router";
import type { CardCache, Summoned } from "./card-cache";
import { addToLists, departmentCardView } from "./card-view";

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
 *
 * The same load gathers what the taps' answer cards show besides the locked rows — the street's and
 * the summoned departments' names, the listed report-ins and notes — reading only what the
 * committer's `CardCache` does not hold for sure, so `cardView` gives each card as the database
 * will hold it once the batch commits, without reading it back after the writes.
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
  // What the cards show besides the rows (see `cardView`).
  private readonly streets = new Map<number, string>();
  private readonly summoned = new Map<number, Summoned[]>();
  /** Whistles whose summoned departments were read here (stored in the cache after the commit). */
  private readonly summonedRead = new Set<number>();
  private readonly names = new Map<number, string>();
  /** Lists as the database held them when the dispatch was locked (absent: not known for sure). */
  private readonly lists = new Map<number, Required<DispatchLists>>();
  private readonly addedReporters = new Map<number, PersonRef[]>();
  private readonly addedNotes = new Map<number, DispatchView["progress"]>();
  /** The lists a card was rendered with (what the cache keeps after the commit). */
  private readonly rendered = new Map<number, Required<DispatchLists>>();

  constructor(
    private readonly tx: DbOrTx,
    private readonly cards?: CardCache,
    batch?: BatchMemo,
  ) {
    batch?.afterCommit(() => this.remember());
  }

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
    const needSummoned: number[] = [];
    const nameIds = new Set<number>();
    for (const id of whistleIds) {
      if (this.whistles.has(id)) continue;
      toLock.push(id);
      const known = this.cards?.peekSummoned(id);
      if (!known) {
        needSummoned.push(id);
        continue;
      }
      for (const s of known) if (!this.names.has(s.departmentId)) nameIds.add(s.departmentId);
    }
    const needLists: number[] = [];
    for (const d of newDispatches) if (!this.cards?.hasLists(d)) needLists.push(d);
    const pairs = Array.from(unchecked.values());
    // In this order on the connection: the lists' counts are read after the dispatch locks.
    const [ws, ds, chats, found, lists, names] = await Promise.all([
      lockWhistlesShared(this.tx, toLock, needSummoned),
      lockDispatches(this.tx, newDispatches),
      chatsOfDepartments(this.tx, newDispatches),
      reportersAmong(this.tx, pairs),
      dispatchLists(this.tx, newDispatches, needLists),
      unitNames(this.tx, Array.from(nameIds)),
    ]);
    for (const [id, name] of names) this.names.set(id, name);
    for (const w of ws) {
      this.whistles.set(w.row.id, w.row);
      this.streets.set(w.row.id, w.streetName);
      if (w.summoned) {
        const summoned: Summoned[] = [];
        for (const [id, departmentId, name] of w.summoned) {
          summoned.push({ id, departmentId });
          this.names.set(departmentId, name);
        }
        this.summoned.set(w.row.id, summoned);
        this.summonedRead.add(w.row.id);
      } else {
        const known = this.cards?.summonedOf(w.row.id, w.row.createdAt);
        if (known) this.summoned.set(w.row.id, known);
        // Kept for another whistle of that id (a database emptied under the process): read anew next.
        else this.cards?.forgetSummoned(w.row.id);
      }
    }
    for (const d of ds) {
      this.dispatches.set(d.id, d);
      this.chats.set(d.departmentId, chats.get(d.departmentId) ?? []);
      const now = lists.get(d.id);
      if (!now) continue;
      if (now.reporters && now.progress) {
        this.lists.set(d.id, now as Required<DispatchLists>);
        continue;
      }
      const known = this.cards?.listsOf(d.id, d);
      if (known && known.reporterCount === now.reporterCount && known.progressCount === now.progressCount)
        this.lists.set(d.id, known);
      // Changed elsewhere: this batch reads the card back; the next one loads the lists anew.
      else this.cards?.forgetLists(d.id);
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
    const added = this.addedReporters.get(dispatchId);
    if (added) added.push({ openId, at });
    else this.addedReporters.set(dispatchId, [{ openId, at }]);
  }

  /** A progress note written on a loaded dispatch (for its card: see `cardView`). */
  noteAdded(dispatchId: number, note: DispatchView["progress"][number]): void {
    const added = this.addedNotes.get(dispatchId);
    if (added) added.push(note);
    else this.addedNotes.set(dispatchId, [note]);
  }

  /**
   * A loaded dispatch's department card as the database will hold it once the batch commits — its
   * rows as locked and changed here, its lists as loaded plus what the batch added — or undefined
   * when any part of it is not known for sure (then the answer reads it back).
   */
  cardView(dispatchId: number): DepartmentCardView | undefined {
    const d = this.dispatches.get(dispatchId);
    const w = d && this.whistles.get(d.whistleId);
    const summoned = w && this.summoned.get(w.id);
    const streetName = w && this.streets.get(w.id);
    const known = this.lists.get(dispatchId);
    if (!d || !w || !summoned || streetName === undefined || !known) return undefined;
    const lists = this.finalLists(dispatchId, known);
    const view = departmentCardView(w, d, { streetName, summoned, names: this.names, lists });
    if (view) this.rendered.set(dispatchId, lists);
    return view;
  }

  private finalLists(dispatchId: number, known: Required<DispatchLists>): Required<DispatchLists> {
    return addToLists(
      known,
      this.addedReporters.get(dispatchId) ?? [],
      this.addedNotes.get(dispatchId) ?? [],
    );
  }

  /** After the commit: what the next batches may take from the cache (see `CardCache`). */
  private remember(): void {
    const cards = this.cards;
    if (!cards) return;
    for (const id of this.summonedRead) {
      const w = this.whistles.get(id);
      const summoned = this.summoned.get(id);
      if (w && summoned) cards.storeSummoned(id, { createdAt: w.createdAt.getTime(), summoned });
    }
    for (const [id, known] of this.lists) {
      const d = this.dispatches.get(id);
      if (!d) continue;
      const lists = this.rendered.get(id) ?? this.finalLists(id, known);
      cards.storeLists(id, {
        reporterCount: lists.reporterCount,
        progressCount: lists.progressCount,
        reporters: lists.reporters,
        progress: lists.progress,
        whistleId: d.whistleId,
        createdAt: d.createdAt.getTime(),
      });
    }
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
export function desk(ctx: Pick<BaseContext, "tx" | "batch" | "cards">): DispatchDesk {
  return ctx.batch.unit(DESK, () => new DispatchDesk(ctx.tx, ctx.cards, ctx.batch));
}

/** Registered with the department-card actions: one load for all of a batch's taps. */
export const prepareDesk: BatchPrepare = {
  key: DESK,
  run: (base, events) => desk(base).load(events),
};
