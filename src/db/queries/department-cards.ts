import { sql } from "drizzle-orm";
import { type DepartmentCardView, VIEW_NOTES, VIEW_REPORTERS } from "../../domain/whistle";
import { type DbOrTx, executeRows } from "../database";
import {
  DISPATCH_TUPLE,
  type DispatchTuple,
  date,
  epochMs,
  toDispatchView,
  WHISTLE_COLUMNS,
  type WhistleColumns,
  whistleOf,
} from "./whistles";

interface CardRow extends WhistleColumns {
  dispatch: DispatchTuple;
  /** `[id, department id, department name]` of every dispatch of the whistle, by id. */
  summoned: [number, number, string][];
  reporter_count: number | string;
  /** `[open id, epoch ms]`: the first `VIEW_REPORTERS`, in order. */
  reporters: [string, number][] | null;
  note_count: number | string;
  /** `[open id, note, epoch ms]`: the latest `VIEW_NOTES`, oldest first. */
  notes: [string, string, number][] | null;
}

/**
 * What the department cards of these dispatches show, read in ONE statement: one row per dispatch
 * with its whistle, the names of the departments summoned with it, its first `VIEW_REPORTERS`
 * report-ins and latest `VIEW_NOTES` notes with their counts — the same data a whistle's view
 * gives that dispatch's card (`whistleViews`), without every other dispatch's state and lists. For
 * a batch of taps, which answers each with its card. Dispatches that do not exist are left out.
 */
export async function departmentCardViews(
  db: DbOrTx,
  dispatchIds: number[],
): Promise<Map<number, DepartmentCardView>> {
  const out = new Map<number, DepartmentCardView>();
  if (dispatchIds.length === 0) return out;
  const rows = await executeRows<CardRow>(
    db,
    sql`select ${WHISTLE_COLUMNS}, ${DISPATCH_TUPLE} as dispatch,
      (select json_agg(json_build_array(x.id, x.department_id, xu.name) order by x.id)
        from dispatches x join units xu on xu.id = x.department_id where x.whistle_id = w.id) as summoned,
      (select count(*) from report_ins r where r.dispatch_id = d.id) as reporter_count,
      (select json_agg(json_build_array(r.open_id, ${epochMs(sql`r.at`)}) order by r.at, r.id)
        from (select r.open_id, r.at, r.id from report_ins r where r.dispatch_id = d.id
          order by r.at, r.id limit ${VIEW_REPORTERS}) r) as reporters,
      (select count(*) from progress_notes p where p.dispatch_id = d.id) as note_count,
      (select json_agg(json_build_array(p.open_id, p.note, ${epochMs(sql`p.at`)}) order by p.at, p.id)
        from (select p.open_id, p.note, p.at, p.id from progress_notes p where p.dispatch_id = d.id
          order by p.at desc, p.id desc limit ${VIEW_NOTES}) p) as notes
    from dispatches d join units u on u.id = d.department_id
      join whistles w on w.id = d.whistle_id join units s on s.id = w.street_id
    where d.id = any(${sql.param(dispatchIds)}::int[])`,
  );
  for (const r of rows) {
    const dispatch = toDispatchView(r.dispatch);
    if (r.reporters) {
      dispatch.reporters = r.reporters.map(([openId, at]) => ({ openId, at: date(at) }));
      dispatch.reporterCount = Number(r.reporter_count);
    }
    if (r.notes) {
      dispatch.progress = r.notes.map(([openId, note, at]) => ({ openId, note, at: date(at) }));
      dispatch.progressCount = Number(r.note_count);
    }
    const summoned = r.summoned.map(([id, departmentId, name]) => ({
      id,
      department: { id: departmentId, name },
    }));
    out.set(dispatch.id, { whistle: whistleOf(r, summoned), dispatch });
  }
  return out;
}
