import type { DispatchLists } from "../../db/queries/department-cards";
import type { DispatchRow, WhistleRow } from "../../db/queries/whistles";
import {
  type DepartmentCardView,
  type DispatchView,
  type PersonRef,
  VIEW_NOTES,
  VIEW_REPORTERS,
} from "../../domain/whistle";
import type { Summoned } from "./card-cache";

/**
 * A department card's view from the rows a tap's batch holds (see `DispatchDesk.cardView`): pure.
 * The same view `departmentCardViews` reads, built from what the batch locked, wrote and loaded.
 */
export function departmentCardView(
  w: WhistleRow,
  d: DispatchRow,
  parts: {
    streetName: string;
    summoned: readonly Summoned[];
    /** Unit names by id: the dispatch's department and every summoned one. */
    names: ReadonlyMap<number, string>;
    lists: Required<DispatchLists>;
  },
): DepartmentCardView | undefined {
  const department = parts.names.get(d.departmentId);
  if (department === undefined) return undefined;
  const dispatches: DepartmentCardView["whistle"]["dispatches"] = [];
  for (const s of parts.summoned) {
    const name = parts.names.get(s.departmentId);
    if (name === undefined) return undefined;
    dispatches.push({ id: s.id, department: { id: s.departmentId, name } });
  }
  const { lists } = parts;
  return {
    whistle: {
      id: w.id,
      code: w.code,
      type: w.type,
      matter: w.matter,
      place: w.place,
      street: { id: w.streetId, name: parts.streetName, chatId: w.streetChatId },
      whistlerOpenId: w.whistlerOpenId,
      status: w.status,
      limitMinutes: w.limitMinutes,
      createdAt: w.createdAt,
      deadlineAt: w.deadlineAt,
      resolvedAt: w.resolvedAt,
      resolvedBy: w.resolvedBy,
      resolution: w.resolution,
      cancelledAt: w.cancelledAt,
      cancelledBy: w.cancelledBy,
      cancelReason: w.cancelReason,
      summaryMessageId: w.summaryMessageId,
      dispatches,
    },
    dispatch: {
      id: d.id,
      department: { id: d.departmentId, name: department },
      chatId: d.chatId,
      cardMessageId: d.cardMessageId,
      state: d.state,
      deadlineAt: d.deadlineAt,
      reportedAt: d.reportedAt,
      reportedBy: d.reportedBy,
      lateMinutes: d.lateMinutes,
      reporters: lists.reporters,
      reporterCount: lists.reporterCount,
      onSiteAt: d.onSiteAt,
      onSiteBy: d.onSiteBy,
      overdueAt: d.overdueAt,
      escalationCount: d.escalationCount,
      progress: lists.progress,
      progressCount: lists.progressCount,
    },
  };
}

/**
 * `known` with report-ins and notes added after it (each list in the order the rows were inserted,
 * so with ids above every known row's): what the database lists once they are committed. Report-ins
 * are listed by time then id, the first `VIEW_REPORTERS`; notes the latest `VIEW_NOTES` by time then
 * id, oldest first. A row added at the same time as a known one sorts after it (its id is larger).
 */
export function addToLists(
  known: Required<DispatchLists>,
  reporters: readonly PersonRef[],
  notes: readonly DispatchView["progress"][number][],
): Required<DispatchLists> {
  return {
    reporterCount: known.reporterCount + reporters.length,
    progressCount: known.progressCount + notes.length,
    reporters:
      reporters.length === 0 ? known.reporters : firstByTime(known.reporters, reporters, VIEW_REPORTERS),
    progress: notes.length === 0 ? known.progress : lastByTime(known.progress, notes, VIEW_NOTES),
  };
}

function merged<T extends { at: Date }>(list: readonly T[], added: readonly T[]): T[] {
  const out = list.slice();
  for (const a of added) {
    let i = out.length;
    while (i > 0 && (out[i - 1] as T).at.getTime() > a.at.getTime()) i--;
    out.splice(i, 0, a);
  }
  return out;
}

/** The first `n` of a list sorted by time (which held the first `n` of its rows) with `added`. */
function firstByTime<T extends { at: Date }>(list: readonly T[], added: readonly T[], n: number): T[] {
  const out = merged(list, added);
  if (out.length > n) out.length = n;
  return out;
}

/** The last `n` of a list sorted by time (which held the last `n` of its rows) with `added`. */
function lastByTime<T extends { at: Date }>(list: readonly T[], added: readonly T[], n: number): T[] {
  const out = merged(list, added);
  return out.length > n ? out.slice(out.length - n) : out;
}
