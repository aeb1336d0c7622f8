import { and, desc, eq, inArray, type SQL, sql } from "drizzle-orm";
import { localDay } from "../../domain/time";
import type { DispatchView, TimelineEntry, WhistleType, WhistleView } from "../../domain/whistle";
import { VIEW_NOTES, VIEW_REPORTERS, whistleCode } from "../../domain/whistle";
import { anyOf, columnName, type DbOrTx, executeRows } from "../database";
import {
  chatBindings,
  dispatches,
  progressNotes,
  reportIns,
  timeline,
  units,
  whistleCodeCounters,
  whistles,
} from "../schema";
import { Statement, tableRows } from "../statement";

/** The whistle loop's queries: create, load as a view, lock a dispatch, record what happened. */

export type WhistleRow = typeof whistles.$inferSelect;
export type DispatchRow = typeof dispatches.$inferSelect;

/** The next code of the display-zone day: W261127-01, -02 … (one counter row per day). */
export async function nextWhistleCode(db: DbOrTx, now: Date, tz: string): Promise<string> {
  const day = localDay(now, tz);
  const [row] = await db
    .insert(whistleCodeCounters)
    .values({ day, last: 1 })
    .onConflictDoUpdate({
      target: whistleCodeCounters.day,
      set: { last: sql`${whistleCodeCounters.last} + 1` },
    })
    .returning({ last: whistleCodeCounters.last });
  return whistleCode(day, row?.last ?? 1);
}

/** The card group of each department (departments without one are missing from the map). */
export async function cardGroups(db: DbOrTx, departmentIds: number[]): Promise<Map<number, string>> {
  if (departmentIds.length === 0) return new Map();
  const rows = await db
    .select({ unitId: chatBindings.unitId, chatId: chatBindings.chatId })
    .from(chatBindings)
    .where(and(inArray(chatBindings.unitId, departmentIds), eq(chatBindings.isCardGroup, true)));
  return new Map(rows.map((r) => [r.unitId, r.chatId]));
}

export interface NewWhistle {
  code: string;
  type: WhistleType;
  matter: string;
  place: string | null;
  streetId: number;
  streetChatId: string;
  whistlerOpenId: string;
  limitMinutes: number;
  source: "command" | "form";
  sourceMessageId: string | null;
  departments: { id: number; chatId: string }[];
  /** When the deadline sweep should first look at the dispatches. */
  firstCheckAt: (deadlineAt: Date) => Date;
}

/** Insert the whistle, one dispatch per department and the first timeline entry. */
export async function insertWhistle(db: DbOrTx, w: NewWhistle, now: Date): Promise<{ id: number }> {
  const deadlineAt = new Date(now.getTime() + w.limitMinutes * 60_000);
  const [row] = await db
    .insert(whistles)
    .values({
      code: w.code,
      type: w.type,
      matter: w.matter,
      place: w.place,
      streetId: w.streetId,
      streetChatId: w.streetChatId,
      whistlerOpenId: w.whistlerOpenId,
      limitMinutes: w.limitMinutes,
      source: w.source,
      sourceMessageId: w.sourceMessageId,
      createdAt: now,
      deadlineAt,
    })
    .returning({ id: whistles.id });
  if (!row) throw new Error("insert whistle failed");
  await db.insert(dispatches).values(
    w.departments.map((d) => ({
      whistleId: row.id,
      departmentId: d.id,
      chatId: d.chatId,
      createdAt: now,
      deadlineAt,
      nextCheckAt: w.firstCheckAt(deadlineAt),
    })),
  );
  await addTimeline(db, row.id, now, [
    { kind: "whistled", actorOpenId: w.whistlerOpenId, data: { departments: w.departments.length } },
  ]);
  return row;
}

export interface TimelineInsert {
  whistleId: number;
  at: Date;
  kind: string;
  actorOpenId?: string | null;
  departmentId?: number | null;
  data?: Record<string, unknown>;
}

/**
 * Timeline entries of any whistles, in one statement (array parameters; ids follow the array's
 * order). Times travel as ISO text: the Postgres driver's timestamp serializer does not take arrays.
 */
export async function addTimelineEntries(db: DbOrTx, entries: TimelineInsert[]): Promise<void> {
  if (entries.length === 0) return;
  const json = JSON.stringify(
    entries.map((e) => ({
      w: e.whistleId,
      a: e.at.toISOString(),
      k: e.kind,
      o: e.actorOpenId ?? null,
      d: e.departmentId ?? null,
      x: e.data ?? {},
    })),
  );
  // The rows as one jsonb parameter (constant statement text); inserted in the order given.
  await ADD_TIMELINE_ENTRIES.run(db, { json });
}

const ADD_TIMELINE_ENTRIES = new Statement<{ json: string }>(
  (
    p,
  ) => sql`insert into ${timeline} (${columnName(timeline.whistleId)}, ${columnName(timeline.at)}, ${columnName(timeline.kind)},
      ${columnName(timeline.actorOpenId)}, ${columnName(timeline.departmentId)}, ${columnName(timeline.data)})
    select (r.v->>'w')::int, (r.v->>'a')::timestamptz, r.v->>'k', r.v->>'o', (r.v->>'d')::int, (r.v->'x')::jsonb
    from jsonb_array_elements(${p("json")}::jsonb) with ordinality as r(v, n)
    order by r.n`,
);

export async function addTimeline(
  db: DbOrTx,
  whistleId: number,
  at: Date,
  entries: Omit<TimelineInsert, "whistleId" | "at">[],
): Promise<void> {
  await addTimelineEntries(
    db,
    entries.map((e) => ({ whistleId, at, ...e })),
  );
}

/**
 * A whistle's timeline: its entries, and every report-in after a department's first as a `joined`
 * entry. Those are read from `report_ins` (who tapped 报到 and when), not written twice: a busy
 * card's colleagues are most of a tap burst's rows. In time order; at the same moment the
 * timeline's own entries (the department's report-in) come first.
 */
export async function timelineOf(db: DbOrTx, whistleId: number): Promise<TimelineEntry[]> {
  const rows = await executeRows<{
    at: number;
    kind: string;
    actor_open_id: string | null;
    department_name: string | null;
    data: Record<string, unknown> | null;
  }>(
    db,
    sql`select at, kind, actor_open_id, department_name, data from (
        select ${epochMs(sql`t.at`)} as at, t.at as ts, 0 as src, t.id, t.kind, t.actor_open_id,
          u.name as department_name, t.data
        from ${timeline} t left join ${units} u on u.id = t.department_id
        where t.whistle_id = ${whistleId}
        union all
        select ${epochMs(sql`r.at`)}, r.at, 1, r.id, 'joined', r.open_id, u.name, null
        from ${reportIns} r join ${dispatches} d on d.id = r.dispatch_id
          join ${units} u on u.id = d.department_id
        where d.whistle_id = ${whistleId} and r.open_id is distinct from d.reported_by
      ) e
      order by ts, src, id`,
  );
  return rows.map((r) => ({
    at: new Date(Number(r.at)),
    kind: r.kind,
    actorOpenId: r.actor_open_id,
    departmentName: r.department_name,
    data: r.data ?? {},
  }));
}

/**
 * A timestamp as epoch milliseconds (a float8): what `new Date()` takes fastest, where parsing
 * Postgres's timestamp text costs ~0.5 µs each — thousands per batch of views. Truncated to the
 * millisecond, as the drivers' own parsing does.
 *
 * `date_part` computes in float8 (0.5 µs a value); `extract` in numeric (1.3 µs). A float8 epoch
 * is within 2.4e-4 ms of the exact value until the 22nd century, and a timestamp's fraction of a
 * millisecond is a whole number of µs (≤ 0.999 ms): adding 0.0005 ms before `floor` gives the exact
 * truncation, where plain `floor` is off by one for ~0.5 % of whole milliseconds.
 */
export const epochMs = (column: SQL) => sql`floor(date_part('epoch', ${column}) * 1000 + 0.0005)`;

/**
 * A view's whistle columns, as `ViewRow` names them: the whistle is `w`, its street `s`.
 * Timestamps as epoch milliseconds (see `epochMs`).
 */
export const WHISTLE_COLUMNS = sql`w.id, w.code, w.type, w.matter, w.place, w.street_id, s.name as street_name,
  w.street_chat_id, w.whistler_open_id, w.status, w.limit_minutes, ${epochMs(sql`w.created_at`)} as created_at,
  ${epochMs(sql`w.deadline_at`)} as deadline_at, ${epochMs(sql`w.resolved_at`)} as resolved_at, w.resolved_by,
  w.resolution, ${epochMs(sql`w.cancelled_at`)} as cancelled_at, w.cancelled_by, w.cancel_reason,
  w.summary_message_id`;

/** A dispatch as a JSON array in `DispatchTuple` order: the dispatch is `d`, its department `u`. */
export const DISPATCH_TUPLE = sql`json_build_array(
  d.id, d.department_id, u.name, d.chat_id, d.card_message_id, d.state, ${epochMs(sql`d.deadline_at`)},
  ${epochMs(sql`d.reported_at`)}, d.reported_by, d.late_minutes, ${epochMs(sql`d.on_site_at`)}, d.on_site_by,
  ${epochMs(sql`d.overdue_at`)}, d.escalation_count)`;

/**
 * Load whistles (by id) as views, in the order of `ids`. Three statements sent together (one
 * round trip on Postgres): the whistles with their dispatches as JSON built by the database, the
 * first `VIEW_REPORTERS` report-ins of each dispatch with their count, and its latest `VIEW_NOTES`
 * progress notes with theirs — what the cards show, however many people tap (a card names the
 * first few, then counts).
 */
export async function whistleViews(db: DbOrTx, ids: number[]): Promise<WhistleView[]> {
  if (ids.length === 0) return [];
  const idList = sql`${sql.param(ids)}::int[]`;
  const ofWhistles = sql`(select d.id from dispatches d where d.whistle_id = any(${idList}))`;
  const [rows, reporters, notes] = await Promise.all([
    executeRows<ViewRow>(
      db,
      sql`select ${WHISTLE_COLUMNS},
        coalesce((
          select json_agg(${DISPATCH_TUPLE} order by d.id)
          from dispatches d join units u on u.id = d.department_id
          where d.whistle_id = w.id), '[]') as dispatches
      from whistles w join units s on s.id = w.street_id
      where w.id = any(${idList})`,
    ),
    executeRows<ListedRow>(
      db,
      sql`select d.id as dispatch_id, r.open_id, null as note, ${epochMs(sql`r.at`)} as at, c.n
      from ${ofWhistles} d
      cross join lateral (select count(*) as n from report_ins r where r.dispatch_id = d.id) c
      cross join lateral (select r.open_id, r.at, r.id from report_ins r where r.dispatch_id = d.id
        order by r.at, r.id limit ${VIEW_REPORTERS}) r
      order by d.id, r.at, r.id`,
    ),
    executeRows<ListedRow>(
      db,
      sql`select dispatch_id, open_id, note, ${epochMs(sql`at`)} as at, n from (
        select p.dispatch_id, p.open_id, p.note, p.at, p.id,
          row_number() over (partition by p.dispatch_id order by p.at desc, p.id desc) as k,
          count(*) over (partition by p.dispatch_id) as n
        from progress_notes p where p.dispatch_id in ${ofWhistles}) x
      where k <= ${VIEW_NOTES} order by dispatch_id, at, id`,
    ),
  ]);
  const reportersBy = listed(reporters);
  const notesBy = listed(notes);
  const views = new Map<number, WhistleView>();
  for (const r of rows) {
    const view = toView(r);
    for (const d of view.dispatches) {
      const rs = reportersBy.get(d.id);
      if (rs) {
        d.reporters = rs.rows.map((x) => ({ openId: x.open_id, at: date(x.at) }));
        d.reporterCount = rs.count;
      }
      const ns = notesBy.get(d.id);
      if (ns) {
        d.progress = ns.rows.map((x) => ({ openId: x.open_id, note: x.note ?? "", at: date(x.at) }));
        d.progressCount = ns.count;
      }
    }
    views.set(view.id, view);
  }
  return ids.flatMap((id) => views.get(id) ?? []);
}

/** A report-in or progress note of a dispatch, with the count of all of that dispatch's. */
interface ListedRow {
  dispatch_id: number;
  open_id: string;
  note: string | null;
  at: number;
  n: number | string;
}

function listed(rows: ListedRow[]): Map<number, { rows: ListedRow[]; count: number }> {
  const out = new Map<number, { rows: ListedRow[]; count: number }>();
  for (const r of rows) {
    const id = Number(r.dispatch_id);
    const list = out.get(id);
    if (list) list.rows.push(r);
    else out.set(id, { rows: [r], count: Number(r.n) });
  }
  return out;
}

/** A row's whistle columns (`WHISTLE_COLUMNS`). */
export interface WhistleColumns {
  id: number;
  code: string;
  type: WhistleView["type"];
  matter: string;
  place: string | null;
  street_id: number;
  street_name: string;
  street_chat_id: string;
  whistler_open_id: string;
  status: WhistleView["status"];
  limit_minutes: number;
  created_at: number;
  deadline_at: number;
  resolved_at: number | null;
  resolved_by: string | null;
  resolution: string | null;
  cancelled_at: number | null;
  cancelled_by: string | null;
  cancel_reason: string | null;
  summary_message_id: string | null;
}

interface ViewRow extends WhistleColumns {
  dispatches: DispatchTuple[];
}

/** A dispatch as `DISPATCH_TUPLE` builds it. */
export type DispatchTuple = [
  id: number,
  departmentId: number,
  departmentName: string,
  chatId: string,
  cardMessageId: string | null,
  state: DispatchView["state"],
  deadlineAt: number,
  reportedAt: number | null,
  reportedBy: string | null,
  lateMinutes: number | null,
  onSiteAt: number | null,
  onSiteBy: string | null,
  overdueAt: number | null,
  escalationCount: number,
];

/** A timestamp from its epoch milliseconds (see `epochMs`). */
export const date = (v: number): Date => new Date(v);
const dateOrNull = (v: number | null): Date | null => (v === null ? null : new Date(v));

function toView(r: ViewRow): WhistleView {
  return whistleOf(r, r.dispatches.map(toDispatchView));
}

/** A view's whistle from its columns, with the dispatches given (whole views or less). */
export function whistleOf<D>(
  r: WhistleColumns,
  dispatches: D[],
): Omit<WhistleView, "dispatches"> & { dispatches: D[] } {
  return {
    id: Number(r.id),
    code: r.code,
    type: r.type,
    matter: r.matter,
    place: r.place,
    street: { id: Number(r.street_id), name: r.street_name, chatId: r.street_chat_id },
    whistlerOpenId: r.whistler_open_id,
    status: r.status,
    limitMinutes: Number(r.limit_minutes),
    createdAt: date(r.created_at),
    deadlineAt: date(r.deadline_at),
    resolvedAt: dateOrNull(r.resolved_at),
    resolvedBy: r.resolved_by,
    resolution: r.resolution,
    cancelledAt: dateOrNull(r.cancelled_at),
    cancelledBy: r.cancelled_by,
    cancelReason: r.cancel_reason,
    summaryMessageId: r.summary_message_id,
    dispatches,
  };
}

/** A dispatch's view from its tuple, without report-ins or notes (the caller adds what it loaded). */
export function toDispatchView(t: DispatchTuple): DispatchView {
  const [id, departmentId, departmentName, chatId, cardMessageId, state, deadlineAt, ...rest] = t;
  const [reportedAt, reportedBy, lateMinutes, onSiteAt, onSiteBy, overdueAt, escalationCount] = rest;
  return {
    id,
    department: { id: departmentId, name: departmentName },
    chatId,
    cardMessageId,
    state,
    deadlineAt: new Date(deadlineAt),
    reportedAt: dateOrNull(reportedAt),
    reportedBy,
    lateMinutes,
    reporters: [],
    reporterCount: 0,
    onSiteAt: dateOrNull(onSiteAt),
    onSiteBy,
    overdueAt: dateOrNull(overdueAt),
    escalationCount,
    progress: [],
    progressCount: 0,
  };
}

export async function whistleView(db: DbOrTx, id: number): Promise<WhistleView | undefined> {
  return (await whistleViews(db, [id]))[0];
}

export async function whistleIdByCode(db: DbOrTx, code: string): Promise<number | undefined> {
  const [row] = await db.select({ id: whistles.id }).from(whistles).where(eq(whistles.code, code));
  return row?.id;
}

/**
 * Lock a whistle row for update for the rest of the transaction (resolve, cancel, nudge, rate).
 * Taps hold it shared (`lockWhistlesShared`): they run side by side, a resolve waits for them, and
 * they for it.
 */
export async function lockWhistle(db: DbOrTx, id: number): Promise<WhistleRow | undefined> {
  const [row] = await db.select().from(whistles).where(eq(whistles.id, id)).for("update");
  return row;
}

const whistleRows = tableRows(whistles);
const dispatchRows = tableRows(dispatches);

// The statements of a card tap's batch (see `Statement`).
const LOCK_WHISTLES_SHARED = new Statement<{ ids: number[]; summoned: number[] }>(
  (p) => sql`select ${whistleRows.of("w")}, s.name as street_name,
      case when w.id = any(${p("summoned")}::int[]) then (
        select json_agg(json_build_array(x.id, x.department_id, xu.name) order by x.id)
        from ${dispatches} x join ${units} xu on xu.id = x.department_id where x.whistle_id = w.id) end as summoned
    from ${whistles} w join ${units} s on s.id = w.street_id
    where w.id = any(${p("ids")}::int[]) order by w.id for share of w`,
);
const LOCK_DISPATCHES = new Statement<{ ids: number[] }>(
  (p) => sql`select ${dispatchRows.columns} from ${dispatches}
    where ${dispatches.id} = any(${p("ids")}::int[]) order by ${dispatches.id} for update`,
);

/** A whistle locked by a card tap, with what its department cards show besides its own columns. */
export interface SharedWhistle {
  row: WhistleRow;
  streetName: string;
  /**
   * `[dispatch id, department id, department name]` of every dispatch of the whistle, by id — only
   * for the whistles asked for (the set never changes once the whistle exists); null for the others.
   */
  summoned: [number, number, string][] | null;
}

/**
 * Share-lock whistles, in id order (the order every transaction takes them in), with their street's
 * name, and the departments summoned by those in `summoned`.
 */
export async function lockWhistlesShared(
  db: DbOrTx,
  ids: number[],
  summoned: number[] = [],
): Promise<SharedWhistle[]> {
  if (ids.length === 0) return [];
  const rows = await LOCK_WHISTLES_SHARED.rows<Record<string, unknown>>(db, { ids, summoned });
  const out: SharedWhistle[] = [];
  for (const r of rows)
    out.push({
      row: whistleRows.map(r),
      streetName: r.street_name as string,
      summoned: (r.summoned as [number, number, string][] | null) ?? null,
    });
  return out;
}

/** Lock dispatch rows for update, in id order. */
export async function lockDispatches(db: DbOrTx, ids: number[]): Promise<DispatchRow[]> {
  if (ids.length === 0) return [];
  const rows = await LOCK_DISPATCHES.rows<Record<string, unknown>>(db, { ids });
  return rows.map(dispatchRows.map);
}

/** The whistle of each dispatch (for cards too old to carry it). */
export async function whistleIdsOfDispatches(db: DbOrTx, ids: number[]): Promise<Map<number, number>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: dispatches.id, w: dispatches.whistleId })
    .from(dispatches)
    .where(anyOf(dispatches.id, ids));
  return new Map(rows.map((r) => [r.id, r.w]));
}

/**
 * Which of these (dispatch, person) pairs have already tapped 报到. One index probe per pair (the
 * `limit` keeps the planner from turning it into a scan of every report-in): `dispatch = any(…)
 * and open_id = any(…)` instead tried every combination of the two lists, or scanned the table.
 */
export async function reportersAmong(
  db: DbOrTx,
  pairs: { dispatchId: number; openId: string }[],
): Promise<{ dispatchId: number; openId: string }[]> {
  if (pairs.length === 0) return [];
  const rows = await REPORTERS_AMONG.rows<{ dispatch_id: number; open_id: string }>(db, {
    dispatchIds: pairs.map((p) => p.dispatchId),
    openIds: pairs.map((p) => p.openId),
  });
  return rows.map((r) => ({ dispatchId: Number(r.dispatch_id), openId: r.open_id }));
}

const REPORTERS_AMONG = new Statement<{ dispatchIds: number[]; openIds: string[] }>(
  (p) => sql`select u.d as dispatch_id, r.open_id
    from unnest(${p("dispatchIds")}::int[], ${p("openIds")}::text[]) as u(d, o)
    cross join lateral (select ri.open_id from ${reportIns} ri
      where ri.dispatch_id = u.d and ri.open_id = u.o limit 1) r`,
);

/**
 * Record many taps in one statement (array parameters). The caller has made sure, holding each
 * dispatch's row lock (as every writer of its report-ins does), that none of these people tapped
 * before: a plain insert, a third cheaper than `on conflict do nothing returning` (pgbench, 50
 * rows). The unique key still guards the table: a duplicate fails the batch, whose events are then
 * retried one by one and find the tap recorded.
 */
export async function addReportIns(
  db: DbOrTx,
  rows: { dispatchId: number; openId: string; at: Date }[],
): Promise<void> {
  if (rows.length === 0) return;
  await ADD_REPORT_INS.run(db, {
    dispatchIds: rows.map((r) => r.dispatchId),
    openIds: rows.map((r) => r.openId),
    ats: rows.map((r) => r.at.toISOString()),
  });
}

const ADD_REPORT_INS = new Statement<{ dispatchIds: number[]; openIds: string[]; ats: string[] }>(
  (
    p,
  ) => sql`insert into ${reportIns} (${columnName(reportIns.dispatchId)}, ${columnName(reportIns.openId)}, ${columnName(reportIns.at)})
    select d, o, a::timestamptz from unnest(${p("dispatchIds")}::int[], ${p("openIds")}::text[], ${p("ats")}::text[]) as u(d, o, a)`,
);

/** The bound chats of the departments of some dispatches, by department. */
export async function chatsOfDepartments(db: DbOrTx, dispatchIds: number[]): Promise<Map<number, string[]>> {
  if (dispatchIds.length === 0) return new Map();
  const rows = await CHATS_OF_DEPARTMENTS.rows<{ unit_id: number; chat_id: string }>(db, {
    ids: dispatchIds,
  });
  return groupBy(
    rows,
    (r) => r.unit_id,
    (r) => r.chat_id,
  );
}

const CHATS_OF_DEPARTMENTS = new Statement<{ ids: number[] }>(
  (p) => sql`select distinct ${columnName(chatBindings.unitId)}, ${columnName(chatBindings.chatId)}
    from ${chatBindings} where ${chatBindings.unitId} in
      (select ${dispatches.departmentId} from ${dispatches} where ${dispatches.id} = any(${p("ids")}::int[]))`,
);

function groupBy<T, K, V>(rows: T[], key: (r: T) => K, value: (r: T) => V): Map<K, V[]> {
  const out = new Map<K, V[]>();
  for (const r of rows) {
    const list = out.get(key(r));
    if (list) list.push(value(r));
    else out.set(key(r), [value(r)]);
  }
  return out;
}

export type DispatchPatch = Partial<typeof dispatches.$inferInsert>;

/** The advisory-lock namespace of "re-rendering a whistle's summary card" (an arbitrary constant). */
const SUMMARY_LOCK = 57_460_831;

/**
 * Take, until the end of the transaction, the right to re-render these whistles' summary cards
 * (in id order, so two transactions never wait on each other in a circle). Taken after the
 * transaction's own changes and before it reads the view it renders: a concurrent transaction
 * that changed another department of the same whistle then either committed before our read
 * (we render its change too) or waits for our commit and renders after us. Either way the render
 * queued last has every change — without it the summary could show a department that reported in
 * as 待报到 until the next change.
 */
export async function lockSummaries(db: DbOrTx, whistleIds: Iterable<number>): Promise<void> {
  const ids = [...new Set(whistleIds)].sort((a, b) => a - b);
  if (ids.length === 0) return;
  await LOCK_SUMMARIES.run(db, { ids });
}

const LOCK_SUMMARIES = new Statement<{ ids: number[] }>(
  (p) => sql`select count(pg_advisory_xact_lock(${sql.raw(String(SUMMARY_LOCK))}, id))
    from (select id from unnest(${p("ids")}::int[]) as u(id) order by id) as ordered`,
);

/**
 * Apply changes to many dispatches: one UPDATE per set of columns changed (all report-ins of a batch
 * share one), with one array parameter per column. Values travel as text and are cast to the
 * column's type in SQL.
 */
export async function patchDispatches(db: DbOrTx, patches: Map<number, DispatchPatch>): Promise<void> {
  const groups = new Map<string, [number, DispatchPatch][]>();
  for (const [id, set] of patches) {
    const shape = Object.keys(set).sort().join(",");
    if (!shape) continue;
    const group = groups.get(shape);
    if (group) group.push([id, set]);
    else groups.set(shape, [[id, set]]);
  }
  const asText = (v: unknown): string | null =>
    v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v);
  await Promise.all(
    [...groups].map(([shape, rows]) => {
      const keys = shape.split(",") as (keyof DispatchPatch)[];
      const values: Record<string, unknown[]> = { ids: rows.map(([id]) => id) };
      keys.forEach((k, i) => {
        values[`c${i}`] = rows.map(([, set]) => asText(set[k]));
      });
      return patchStatement(shape, keys).run(db, values);
    }),
  );
}

/** One statement per set of columns patched (a handful: report-in, on site, the sweep's), built once. */
const patchStatements = new Map<string, Statement<Record<string, unknown[]>>>();

function patchStatement(shape: string, keys: (keyof DispatchPatch)[]): Statement<Record<string, unknown[]>> {
  let statement = patchStatements.get(shape);
  if (!statement) {
    const cols = keys.map((k) => dispatches[k]);
    statement = new Statement<Record<string, unknown[]>>((p) => {
      const sets = cols.map(
        (c, i) => sql`${columnName(c)} = ${sql.raw(`u.c${i}`)}::${sql.raw(c.getSQLType())}`,
      );
      const arrays = keys.map((_, i) => sql`${p(`c${i}`)}::text[]`);
      const names = sql.raw(["id", ...keys.map((_, i) => `c${i}`)].join(", "));
      return sql`update ${dispatches} set ${sql.join(sets, sql`, `)}
        from unnest(${p("ids")}::int[], ${sql.join(arrays, sql`, `)}) as u(${names})
        where ${dispatches.id} = u.id`;
    });
    patchStatements.set(shape, statement);
  }
  return statement;
}

export async function updateWhistle(db: DbOrTx, id: number, set: Partial<typeof whistles.$inferInsert>) {
  await db.update(whistles).set(set).where(eq(whistles.id, id));
}

export async function addProgressNote(
  db: DbOrTx,
  dispatchId: number,
  openId: string,
  note: string,
  at: Date,
) {
  await db.insert(progressNotes).values({ dispatchId, openId, note, at });
}

/** Open whistles of a street, newest first. */
export async function openWhistleIds(
  db: DbOrTx,
  scope: { streetId: number } | { departmentId: number } | { all: true },
  limit = 20,
): Promise<number[]> {
  if ("departmentId" in scope) {
    const rows = await db
      .selectDistinct({ id: whistles.id, createdAt: whistles.createdAt })
      .from(dispatches)
      .innerJoin(whistles, eq(whistles.id, dispatches.whistleId))
      .where(and(eq(dispatches.departmentId, scope.departmentId), eq(whistles.status, "open")))
      .orderBy(desc(whistles.createdAt))
      .limit(limit);
    return rows.map((r) => r.id);
  }
  const rows = await db
    .select({ id: whistles.id })
    .from(whistles)
    .where(
      "streetId" in scope
        ? and(eq(whistles.status, "open"), eq(whistles.streetId, scope.streetId))
        : eq(whistles.status, "open"),
    )
    .orderBy(desc(whistles.createdAt))
    .limit(limit);
  return rows.map((r) => r.id);
}

/** The bound chats of a unit (to check membership of officials or staff). */
export async function chatsOfUnit(db: DbOrTx, unitId: number): Promise<string[]> {
  const rows = await db
    .select({ chatId: chatBindings.chatId })
    .from(chatBindings)
    .where(eq(chatBindings.unitId, unitId));
  return rows.map((r) => r.chatId);
}
