import { sql } from "drizzle-orm";
import { type DepartmentCardView, type DispatchView, VIEW_NOTES, VIEW_REPORTERS } from "../../domain/whistle";
import type { DbOrTx } from "../database";
import { Statement } from "../statement";
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
  /** Open ids and times (epoch ms) of the first `VIEW_REPORTERS`, in order (null when none). */
  reporter_ids: string[] | null;
  reporter_ats: number[] | null;
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
 *
 * Shaped for the batch's cost (50 dispatches of bench/tap's database: 1.7–1.85 ms a read against
 * 2.0–2.2 ms with one scalar subquery per list and count, the Node side no busier): the summoned
 * departments are aggregated once per whistle, not once per dispatch; each list and its count come
 * from one scan of its rows; the report-ins travel as two JSON arrays (ids, times) rather than a
 * JSON pair built for every row (Postgres arrays would be parsed by the driver in JavaScript:
 * slower on the Node side than it saves on the server).
 */
export async function departmentCardViews(
  db: DbOrTx,
  dispatchIds: number[],
): Promise<Map<number, DepartmentCardView>> {
  const out = new Map<number, DepartmentCardView>();
  if (dispatchIds.length === 0) return out;
  const rows = await DEPARTMENT_CARDS.rows<CardRow>(db, { ids: dispatchIds });
  for (const r of rows) {
    const dispatch = toDispatchView(r.dispatch);
    const openIds = r.reporter_ids;
    const ats = r.reporter_ats;
    if (openIds && ats) {
      const reporters: DispatchView["reporters"] = [];
      for (let i = 0; i < openIds.length; i++)
        reporters.push({ openId: openIds[i] as string, at: date(ats[i] as number) });
      dispatch.reporters = reporters;
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

const DEPARTMENT_CARDS = new Statement<{ ids: number[] }>((p) => {
  const ids = sql`${p("ids")}::int[]`;
  return sql`select ${WHISTLE_COLUMNS}, ${DISPATCH_TUPLE} as dispatch, sm.summoned,
      r.n as reporter_count, r.ids as reporter_ids, r.ats as reporter_ats, p.n as note_count, p.notes
    from dispatches d join units u on u.id = d.department_id
      join whistles w on w.id = d.whistle_id join units s on s.id = w.street_id
      join (select x.whistle_id,
          json_agg(json_build_array(x.id, x.department_id, xu.name) order by x.id) as summoned
        from dispatches x join units xu on xu.id = x.department_id
        where x.whistle_id in (select y.whistle_id from dispatches y where y.id = any(${ids}))
        group by x.whistle_id) sm on sm.whistle_id = w.id
      cross join lateral (select count(*) as n,
          to_json((array_agg(ri.open_id order by ri.at, ri.id))[1:${sql.raw(String(VIEW_REPORTERS))}]) as ids,
          to_json((array_agg(${epochMs(sql`ri.at`)} order by ri.at, ri.id))[1:${sql.raw(String(VIEW_REPORTERS))}]) as ats
        from report_ins ri where ri.dispatch_id = d.id) r
      cross join lateral (select count(*) as n,
          json_agg(json_build_array(pn.open_id, pn.note, ${epochMs(sql`pn.at`)}) order by pn.at, pn.id)
            filter (where pn.k <= ${sql.raw(String(VIEW_NOTES))}) as notes
        from (select pi.open_id, pi.note, pi.at, pi.id, row_number() over (order by pi.at desc, pi.id desc) as k
          from progress_notes pi where pi.dispatch_id = d.id) pn) p
    where d.id = any(${ids})`;
});

/** What a department card lists of a dispatch: its report-ins and progress notes (see `DispatchView`). */
export interface DispatchLists {
  reporterCount: number;
  progressCount: number;
  /** The first `VIEW_REPORTERS`, in order; undefined when not asked for. */
  reporters?: DispatchView["reporters"];
  /** The latest `VIEW_NOTES`, oldest first; undefined when not asked for. */
  progress?: DispatchView["progress"];
}

/**
 * How many report-ins and progress notes each dispatch has, and for those in `lists` the ones a
 * card shows. For a batch of taps holding the dispatches' row locks: sent after the lock (its own
 * statement, so its snapshot sees what the transactions it waited for committed), the counts tell
 * whether lists it already knows are still whole (report-ins and notes are only ever added, each
 * by a holder of that lock). Dispatches that do not exist have counts of 0.
 */
export async function dispatchLists(
  db: DbOrTx,
  ids: number[],
  lists: number[],
): Promise<Map<number, DispatchLists>> {
  const out = new Map<number, DispatchLists>();
  if (ids.length === 0) return out;
  const rows = await DISPATCH_LISTS.rows<ListsRow>(db, { ids, lists });
  const listed = new Set(lists);
  for (const r of rows) {
    const v: DispatchLists = { reporterCount: Number(r.reporter_count), progressCount: Number(r.note_count) };
    if (listed.has(r.id)) {
      const reporters: DispatchView["reporters"] = [];
      for (const [openId, at] of r.reporters ?? []) reporters.push({ openId, at: date(at) });
      const progress: DispatchView["progress"] = [];
      for (const [openId, note, at] of r.notes ?? []) progress.push({ openId, note, at: date(at) });
      v.reporters = reporters;
      v.progress = progress;
    }
    out.set(r.id, v);
  }
  return out;
}

interface ListsRow {
  id: number;
  reporter_count: number | string;
  note_count: number | string;
  /** `[open id, epoch ms]` of the first `VIEW_REPORTERS`, in order (null when none or not asked). */
  reporters: [string, number][] | null;
  /** `[open id, note, epoch ms]` of the latest `VIEW_NOTES`, oldest first (null when none or not asked). */
  notes: [string, string, number][] | null;
}

const DISPATCH_LISTS = new Statement<{ ids: number[]; lists: number[] }>((p) => {
  const lists = sql`${p("lists")}::int[]`;
  return sql`select d.id,
      (select count(*) from report_ins ri where ri.dispatch_id = d.id) as reporter_count,
      (select count(*) from progress_notes pn where pn.dispatch_id = d.id) as note_count,
      case when d.id = any(${lists}) then (
        select json_agg(json_build_array(r.open_id, ${epochMs(sql`r.at`)}) order by r.at, r.id)
        from (select ri.open_id, ri.at, ri.id from report_ins ri where ri.dispatch_id = d.id
          order by ri.at, ri.id limit ${sql.raw(String(VIEW_REPORTERS))}) r) end as reporters,
      case when d.id = any(${lists}) then (
        select json_agg(json_build_array(n.open_id, n.note, ${epochMs(sql`n.at`)}) order by n.at, n.id)
        from (select pn.open_id, pn.note, pn.at, pn.id from progress_notes pn where pn.dispatch_id = d.id
          order by pn.at desc, pn.id desc limit ${sql.raw(String(VIEW_NOTES))}) n) end as notes
    from unnest(${p("ids")}::int[]) as d(id)`;
});

/** The names of these units (directory units: streets, departments). */
export async function unitNames(db: DbOrTx, ids: number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (ids.length === 0) return out;
  for (const r of await UNIT_NAMES.rows<{ id: number; name: string }>(db, { ids })) out.set(r.id, r.name);
  return out;
}

const UNIT_NAMES = new Statement<{ ids: number[] }>(
  (p) => sql`select id, name from units where id = any(${p("ids")}::int[])`,
);
