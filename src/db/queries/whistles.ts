import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import { localDay } from "../../domain/time";
import type { DispatchView, TimelineEntry, WhistleType, WhistleView } from "../../domain/whistle";
import { whistleCode } from "../../domain/whistle";
import { type DbOrTx, executeRows } from "../database";
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
  const col = (c: { name: string }) => sql.identifier(c.name);
  await db.execute(
    sql`insert into ${timeline} (${col(timeline.whistleId)}, ${col(timeline.at)}, ${col(timeline.kind)},
        ${col(timeline.actorOpenId)}, ${col(timeline.departmentId)}, ${col(timeline.data)})
      select w, a::timestamptz, k, o, d, x::jsonb
      from unnest(${sql.param(entries.map((e) => e.whistleId))}::int[],
        ${sql.param(entries.map((e) => e.at.toISOString()))}::text[],
        ${sql.param(entries.map((e) => e.kind))}::text[],
        ${sql.param(entries.map((e) => e.actorOpenId ?? null))}::text[],
        ${sql.param(entries.map((e) => e.departmentId ?? null))}::int[],
        ${sql.param(entries.map((e) => JSON.stringify(e.data ?? {})))}::text[]) with ordinality as u(w, a, k, o, d, x, n)
      order by n`,
  );
}

export async function addTimeline(
  db: DbOrTx,
  whistleId: number,
  at: Date,
  entries: Omit<TimelineInsert, "whistleId" | "at">[],
): Promise<void> {
  await addTimelineEntries(
    db,
    entries.map((e) => ({ ...e, whistleId, at })),
  );
}

export async function timelineOf(db: DbOrTx, whistleId: number): Promise<TimelineEntry[]> {
  const rows = await db
    .select({ t: timeline, departmentName: units.name })
    .from(timeline)
    .leftJoin(units, eq(units.id, timeline.departmentId))
    .where(eq(timeline.whistleId, whistleId))
    .orderBy(asc(timeline.at), asc(timeline.id));
  return rows.map((r) => ({
    at: r.t.at,
    kind: r.t.kind,
    actorOpenId: r.t.actorOpenId,
    departmentName: r.departmentName,
    data: r.t.data as Record<string, unknown>,
  }));
}

/**
 * Load whistles (by id) as views, in the order of `ids`. The four reads are independent, so they
 * are sent together (one round trip on Postgres, which runs them in order on the connection).
 */
export async function whistleViews(db: DbOrTx, ids: number[]): Promise<WhistleView[]> {
  if (ids.length === 0) return [];
  const [ws, ds, reporters, notes] = await Promise.all([
    db
      .select({ w: whistles, streetName: units.name })
      .from(whistles)
      .innerJoin(units, eq(units.id, whistles.streetId))
      .where(inArray(whistles.id, ids)),
    db
      .select({
        // What a view shows (not the sweep's bookkeeping columns).
        d: {
          id: dispatches.id,
          whistleId: dispatches.whistleId,
          departmentId: dispatches.departmentId,
          chatId: dispatches.chatId,
          cardMessageId: dispatches.cardMessageId,
          state: dispatches.state,
          deadlineAt: dispatches.deadlineAt,
          reportedAt: dispatches.reportedAt,
          reportedBy: dispatches.reportedBy,
          lateMinutes: dispatches.lateMinutes,
          onSiteAt: dispatches.onSiteAt,
          onSiteBy: dispatches.onSiteBy,
          overdueAt: dispatches.overdueAt,
          escalationCount: dispatches.escalationCount,
        },
        departmentName: units.name,
      })
      .from(dispatches)
      .innerJoin(units, eq(units.id, dispatches.departmentId))
      .where(inArray(dispatches.whistleId, ids))
      .orderBy(asc(dispatches.id)),
    db
      .select({ dispatchId: reportIns.dispatchId, openId: reportIns.openId, at: reportIns.at })
      .from(reportIns)
      .innerJoin(dispatches, eq(dispatches.id, reportIns.dispatchId))
      .where(inArray(dispatches.whistleId, ids))
      .orderBy(asc(reportIns.at), asc(reportIns.id)),
    db
      .select({
        dispatchId: progressNotes.dispatchId,
        openId: progressNotes.openId,
        note: progressNotes.note,
        at: progressNotes.at,
      })
      .from(progressNotes)
      .innerJoin(dispatches, eq(dispatches.id, progressNotes.dispatchId))
      .where(inArray(dispatches.whistleId, ids))
      .orderBy(asc(progressNotes.at), asc(progressNotes.id)),
  ]);
  const reportersOf = groupBy(
    reporters,
    (r) => r.dispatchId,
    (r) => ({ openId: r.openId, at: r.at }),
  );
  const notesOf = groupBy(
    notes,
    (n) => n.dispatchId,
    (n) => ({ openId: n.openId, note: n.note, at: n.at }),
  );
  const views = new Map<number, WhistleView>();
  for (const { w, streetName } of ws) {
    views.set(w.id, {
      id: w.id,
      code: w.code,
      type: w.type,
      matter: w.matter,
      place: w.place,
      street: { id: w.streetId, name: streetName, chatId: w.streetChatId },
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
      dispatches: [],
    });
  }
  for (const { d, departmentName } of ds) {
    const view: DispatchView = {
      id: d.id,
      department: { id: d.departmentId, name: departmentName },
      chatId: d.chatId,
      cardMessageId: d.cardMessageId,
      state: d.state,
      deadlineAt: d.deadlineAt,
      reportedAt: d.reportedAt,
      reportedBy: d.reportedBy,
      lateMinutes: d.lateMinutes,
      reporters: reportersOf.get(d.id) ?? [],
      onSiteAt: d.onSiteAt,
      onSiteBy: d.onSiteBy,
      overdueAt: d.overdueAt,
      escalationCount: d.escalationCount,
      progress: notesOf.get(d.id) ?? [],
    };
    views.get(d.whistleId)?.dispatches.push(view);
  }
  return ids.flatMap((id) => views.get(id) ?? []);
}

function groupBy<T, K, V>(rows: T[], key: (r: T) => K, value: (r: T) => V): Map<K, V[]> {
  const out = new Map<K, V[]>();
  for (const r of rows) {
    const list = out.get(key(r));
    if (list) list.push(value(r));
    else out.set(key(r), [value(r)]);
  }
  return out;
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

/** Share-lock whistles, in id order (the order every transaction takes them in). */
export async function lockWhistlesShared(db: DbOrTx, ids: number[]): Promise<WhistleRow[]> {
  if (ids.length === 0) return [];
  return db.select().from(whistles).where(inArray(whistles.id, ids)).orderBy(asc(whistles.id)).for("share");
}

/** Lock dispatch rows for update, in id order. */
export async function lockDispatches(db: DbOrTx, ids: number[]): Promise<DispatchRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(dispatches)
    .where(inArray(dispatches.id, ids))
    .orderBy(asc(dispatches.id))
    .for("update");
}

/** The whistle of each dispatch (for cards too old to carry it). */
export async function whistleIdsOfDispatches(db: DbOrTx, ids: number[]): Promise<Map<number, number>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: dispatches.id, w: dispatches.whistleId })
    .from(dispatches)
    .where(inArray(dispatches.id, ids));
  return new Map(rows.map((r) => [r.id, r.w]));
}

/** Who, among `openIds`, has already tapped 报到 on each of the dispatches. */
export async function reportersAmong(
  db: DbOrTx,
  dispatchIds: number[],
  openIds: string[],
): Promise<{ dispatchId: number; openId: string }[]> {
  if (dispatchIds.length === 0 || openIds.length === 0) return [];
  return db
    .select({ dispatchId: reportIns.dispatchId, openId: reportIns.openId })
    .from(reportIns)
    .where(and(inArray(reportIns.dispatchId, dispatchIds), inArray(reportIns.openId, openIds)));
}

/** Record many taps in one statement (array parameters); returns how many were new. */
export async function addReportIns(
  db: DbOrTx,
  rows: { dispatchId: number; openId: string; at: Date }[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const col = (c: { name: string }) => sql.identifier(c.name);
  const inserted = await executeRows<{ id: number }>(
    db,
    sql`insert into ${reportIns} (${col(reportIns.dispatchId)}, ${col(reportIns.openId)}, ${col(reportIns.at)})
      select d, o, a::timestamptz from unnest(${sql.param(rows.map((r) => r.dispatchId))}::int[],
        ${sql.param(rows.map((r) => r.openId))}::text[], ${sql.param(rows.map((r) => r.at.toISOString()))}::text[]) as u(d, o, a)
      on conflict do nothing
      returning ${col(reportIns.id)}`,
  );
  return inserted.length;
}

/** The bound chats of the departments of some dispatches, by department. */
export async function chatsOfDepartments(db: DbOrTx, dispatchIds: number[]): Promise<Map<number, string[]>> {
  if (dispatchIds.length === 0) return new Map();
  const rows = await db
    .selectDistinct({ unitId: chatBindings.unitId, chatId: chatBindings.chatId })
    .from(chatBindings)
    .innerJoin(dispatches, eq(dispatches.departmentId, chatBindings.unitId))
    .where(inArray(dispatches.id, dispatchIds));
  return groupBy(
    rows,
    (r) => r.unitId,
    (r) => r.chatId,
  );
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
  await db.execute(
    sql`select count(pg_advisory_xact_lock(${SUMMARY_LOCK}::int, id))
      from (select id from unnest(${sql.param(ids)}::int[]) as u(id) order by id) as ordered`,
  );
}

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
      const cols = keys.map((k) => dispatches[k]);
      const sets = cols.map(
        (c, i) => sql`${sql.identifier(c.name)} = ${sql.raw(`u.c${i}`)}::${sql.raw(c.getSQLType())}`,
      );
      const arrays = keys.map((k) => sql`${sql.param(rows.map(([, set]) => asText(set[k])))}::text[]`);
      const names = sql.raw(["id", ...keys.map((_, i) => `c${i}`)].join(", "));
      return db.execute(
        sql`update ${dispatches} set ${sql.join(sets, sql`, `)}
          from unnest(${sql.param(rows.map(([id]) => id))}::int[], ${sql.join(arrays, sql`, `)}) as u(${names})
          where ${dispatches.id} = u.id`,
      );
    }),
  );
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
