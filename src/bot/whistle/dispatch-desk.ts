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
  /** Whistles whose summary card the batch's answers will re-render. */
  private summaries = new Set<number>();

  constructor(private readonly tx: DbOrTx) {}

  /**
   * Lock and load what these taps need. The reads are sent together (one round trip on Postgres,
   * which runs them in order on the connection: whistles are locked before dispatches, as
   * everywhere else).
   */
  async load(events: CardActionEvent[]): Promise<void> {
    const wanted = events.flatMap((e) => {
      const d = Number(e.value.d);
      return Number.isInteger(d) && d > 0 ? [{ d, w: Number(e.value.w) || 0, who: e.operatorOpenId }] : [];
    });
    const newDispatches = [...new Set(wanted.map((x) => x.d))].filter((d) => !this.dispatches.has(d));
    // Cards older than the whistle id on their buttons: look it up (no lock) to lock in order.
    const unknown = wanted.filter((x) => !x.w && newDispatches.includes(x.d)).map((x) => x.d);
    const whistleOf = unknown.length > 0 ? await whistleIdsOfDispatches(this.tx, unknown) : new Map();
    const whistleIds = new Set(
      wanted.filter((x) => newDispatches.includes(x.d)).map((x) => x.w || whistleOf.get(x.d) || 0),
    );
    whistleIds.delete(0);
    // Each (dispatch, person) pair once, however often they tapped in this batch.
    const unchecked = [
      ...new Map(
        wanted.filter((x) => !this.tapped.has(key(x.d, x.who))).map((x) => [key(x.d, x.who), x]),
      ).values(),
    ];
    const [ws, ds, chats, found] = await Promise.all([
      lockWhistlesShared(
        this.tx,
        [...whistleIds].filter((id) => !this.whistles.has(id)),
      ),
      lockDispatches(this.tx, newDispatches),
      chatsOfDepartments(this.tx, newDispatches),
      reportersAmong(
        this.tx,
        unchecked.map((x) => ({ dispatchId: x.d, openId: x.who })),
      ),
    ]);
    for (const w of ws) this.whistles.set(w.id, w);
    for (const d of ds) {
      this.dispatches.set(d.id, d);
      this.chats.set(d.departmentId, chats.get(d.departmentId) ?? []);
    }
    for (const x of unchecked) this.tapped.set(key(x.d, x.who), false);
    for (const r of found) this.tapped.set(key(r.dispatchId, r.openId), true);
  }

  /** The rows behind a tap (locked), or undefined when the card names nothing that exists. */
  async rows(event: CardActionEvent): Promise<DeskRows | undefined> {
    await this.load([event]);
    const dispatch = this.dispatches.get(Number(event.value.d));
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

  /** The batch's answers will re-render this whistle's summary card (see `lockSummaries`). */
  willRenderSummary(whistleId: number): void {
    this.summaries.add(whistleId);
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
    // Independent writes, sent together; the summaries' lock is held before anything reads a view.
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
