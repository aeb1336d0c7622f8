/**
 * `directory import`: file text → parse and validate (parse.ts) → in ONE transaction: read the
 * directory, plan against it (plan.ts), write only what differs. Any problem → nothing is written.
 * No Node-only imports: the caller reads the file.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db, Tx } from "../db/database";
import {
  admins,
  chatBindings,
  dutyContacts,
  forceSets,
  typePolicies,
  unitAliases,
  units,
} from "../db/schema";
import type { ParsedDirectory } from "./parse";
import { parseDirectory } from "./parse";
import { type ChangePlan, planDirectory, type UnitKey, unitKey } from "./plan";
import type { ChangeReport } from "./report";
import { type DirectorySnapshot, loadSnapshot } from "./snapshot";

export type ImportResult = { ok: false; errors: string[] } | { ok: true; report: ChangeReport };

export interface ImportOptions {
  /** Plan and report, write nothing. */
  dryRun?: boolean;
}

/** An arbitrary constant: two imports at once would plan against the same snapshot; this serialises them. */
const DIRECTORY_LOCK = 72_641_128;

/** Parse, validate and apply a directory file's text; `fileName` is shown in messages and picks JSON for *.json. */
export async function importDirectory(
  db: Db,
  text: string,
  fileName: string,
  opts: ImportOptions = {},
): Promise<ImportResult> {
  const parsed = parseDirectory(text, fileName);
  if (!parsed.ok) return parsed;
  return applyDirectory(db, parsed.parsed, opts);
}

/** Plan against the database and apply, all in one transaction; a file that already matches writes nothing. */
export async function applyDirectory(
  db: Db,
  parsed: ParsedDirectory,
  opts: ImportOptions = {},
): Promise<ImportResult> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${DIRECTORY_LOCK})`);
    const snap = await loadSnapshot(tx);
    const planned = planDirectory(parsed, snap);
    if (!planned.ok) return planned;
    if (planned.report.changes > 0 && !opts.dryRun) await execute(tx, planned.plan, snap);
    return { ok: true, report: planned.report };
  });
}

async function execute(tx: Tx, plan: ChangePlan, snap: DirectorySnapshot): Promise<void> {
  const ids = new Map(snap.units.map((u) => [unitKey(u.kind, u.nameKey), u.id]));
  const id = (key: UnitKey): number => {
    const found = ids.get(key);
    if (found === undefined) throw new Error(`directory import: no id for unit ${key}`);
    return found;
  };

  if (plan.createUnits.length > 0) {
    const rows = await tx
      .insert(units)
      .values(plan.createUnits)
      .returning({ id: units.id, kind: units.kind, nameKey: units.nameKey });
    for (const r of rows) ids.set(unitKey(r.kind, r.nameKey), r.id);
  }
  for (const u of plan.renameUnits) await tx.update(units).set({ name: u.name }).where(eq(units.id, u.id));

  // Aliases are unique across units: drop before adding, so one can move between listed units.
  if (plan.deleteAliases.length > 0) {
    await tx.delete(unitAliases).where(inArray(unitAliases.aliasKey, plan.deleteAliases));
  }
  for (const a of plan.renameAliases) {
    await tx.update(unitAliases).set({ alias: a.alias }).where(eq(unitAliases.aliasKey, a.aliasKey));
  }
  if (plan.insertAliases.length > 0) {
    await tx
      .insert(unitAliases)
      .values(plan.insertAliases.map((a) => ({ unitId: id(a.unit), alias: a.alias, aliasKey: a.aliasKey })));
  }

  // One card group per unit holds after every statement: clear, then non-card chats, then card chats.
  if (plan.clearCards.length > 0) {
    await tx
      .update(chatBindings)
      .set({ isCardGroup: false })
      .where(inArray(chatBindings.chatId, plan.clearCards));
  }
  for (const card of [false, true]) {
    const writes = plan.chats.filter((c) => c.isCardGroup === card);
    const inserts = writes.filter((c) => !c.exists);
    if (inserts.length > 0) {
      await tx.insert(chatBindings).values(
        inserts.map((c) => ({
          chatId: c.chatId,
          unitId: id(c.unit),
          role: c.role,
          isCardGroup: c.isCardGroup,
          chatName: c.chatName ?? null,
          boundBy: "import",
        })),
      );
    }
    for (const c of writes.filter((w) => w.exists)) {
      await tx
        .update(chatBindings)
        .set({
          unitId: id(c.unit),
          role: c.role,
          isCardGroup: c.isCardGroup,
          ...(c.chatName === undefined ? {} : { chatName: c.chatName }),
          ...(c.moved ? { boundBy: "import", boundAt: new Date() } : {}),
        })
        .where(eq(chatBindings.chatId, c.chatId));
    }
  }

  for (const f of plan.forces) {
    const streetId = id(f.street);
    await tx.delete(forceSets).where(eq(forceSets.streetId, streetId));
    if (f.departments.length === 0) continue;
    await tx
      .insert(forceSets)
      .values(f.departments.map((d, position) => ({ streetId, departmentId: id(d), position })));
  }

  for (const d of plan.deleteDuty) {
    await tx
      .delete(dutyContacts)
      .where(and(eq(dutyContacts.departmentId, d.departmentId), eq(dutyContacts.openId, d.openId)));
  }
  if (plan.insertDuty.length > 0) {
    await tx
      .insert(dutyContacts)
      .values(plan.insertDuty.map((d) => ({ departmentId: id(d.department), openId: d.openId })));
  }

  if (plan.insertAdmins.length > 0) {
    await tx
      .insert(admins)
      .values(plan.insertAdmins.map((openId) => ({ openId, source: "import" as const })))
      .onConflictDoNothing();
  }

  if (plan.deletePolicies.length > 0) {
    await tx.delete(typePolicies).where(inArray(typePolicies.id, plan.deletePolicies));
  }
  for (const p of plan.updatePolicies) {
    await tx
      .update(typePolicies)
      .set({ ...p.values, updatedAt: new Date() })
      .where(eq(typePolicies.id, p.id));
  }
  if (plan.insertPolicies.length > 0) {
    await tx.insert(typePolicies).values(
      plan.insertPolicies.map((p) => ({
        streetId: p.street === null ? null : id(p.street),
        type: p.type,
        ...p.values,
      })),
    );
  }
}
