import { and, asc, eq, inArray, ne, sql } from "drizzle-orm";
import { cleanName, type NameCandidate, nameKey } from "../../domain/names";
import type { DbOrTx } from "../database";
import { admins, chatBindings, dutyContacts, forceSets, people, unitAliases, units } from "../schema";

/** The directory's queries: units, chat bindings, aliases, force sets, duty contacts, admins. */

export type Unit = typeof units.$inferSelect;
export type UnitKind = Unit["kind"];
export type Binding = typeof chatBindings.$inferSelect;
export type ChatRole = Binding["role"];

export interface ChatUnit {
  binding: Binding;
  unit: Unit;
}

/** What a chat is bound to, if anything. */
export async function chatUnit(db: DbOrTx, chatId: string): Promise<ChatUnit | undefined> {
  const [row] = await db
    .select({ binding: chatBindings, unit: units })
    .from(chatBindings)
    .innerJoin(units, eq(units.id, chatBindings.unitId))
    .where(eq(chatBindings.chatId, chatId));
  return row;
}

/** Units of the given kinds as name candidates (name + aliases), for resolveName. */
export async function unitCandidates(db: DbOrTx, kinds: UnitKind[]): Promise<NameCandidate<Unit>[]> {
  const list = await db.select().from(units).where(inArray(units.kind, kinds)).orderBy(asc(units.id));
  if (list.length === 0) return [];
  const aliases = await db
    .select()
    .from(unitAliases)
    .where(
      inArray(
        unitAliases.unitId,
        list.map((u) => u.id),
      ),
    );
  return list.map((u) => ({
    name: u.name,
    keys: [u.nameKey, ...aliases.filter((a) => a.unitId === u.id).map((a) => a.aliasKey)],
    value: u,
  }));
}

/** Find a unit by kind and name (case/width-insensitive), creating it when new. */
export async function findOrCreateUnit(
  db: DbOrTx,
  kind: UnitKind,
  name: string,
): Promise<{ unit: Unit; created: boolean }> {
  const key = nameKey(name);
  const [existing] = await db
    .select()
    .from(units)
    .where(and(eq(units.kind, kind), eq(units.nameKey, key)));
  if (existing) return { unit: existing, created: false };
  const [created] = await db
    .insert(units)
    .values({ kind, name: cleanName(name), nameKey: key })
    .onConflictDoNothing()
    .returning();
  if (created) return { unit: created, created: true };
  // Someone created it concurrently.
  const [again] = await db
    .select()
    .from(units)
    .where(and(eq(units.kind, kind), eq(units.nameKey, key)));
  if (!again) throw new Error(`unit ${name} vanished`);
  return { unit: again, created: false };
}

export interface BindResult {
  binding: Binding;
  /** What the chat was bound to before, when that was another unit or role. */
  previous?: ChatUnit;
  /** The chat was already bound exactly so. */
  unchanged: boolean;
}

/**
 * Bind a chat to a unit with a role. A department's first chat becomes its card group; `cardGroup`
 * makes this chat the card group explicitly (moving the mark from another chat). A chat bound
 * elsewhere moves (its old department keeps a card group if it has another chat).
 */
export async function bindChat(
  db: DbOrTx,
  p: { chatId: string; unit: Unit; role: ChatRole; boundBy: string; now: Date; cardGroup?: boolean },
): Promise<BindResult> {
  const before = await chatUnit(db, p.chatId);
  if (before && before.unit.id === p.unit.id && before.binding.role === p.role) {
    if (!p.cardGroup || before.binding.isCardGroup) return { binding: before.binding, unchanged: true };
    await db
      .update(chatBindings)
      .set({ isCardGroup: false })
      .where(and(eq(chatBindings.unitId, p.unit.id), eq(chatBindings.isCardGroup, true)));
    const [binding] = await db
      .update(chatBindings)
      .set({ isCardGroup: true })
      .where(eq(chatBindings.chatId, p.chatId))
      .returning();
    return { binding: binding ?? before.binding, unchanged: false };
  }
  if (before) await unbindChat(db, p.chatId);
  let isCardGroup = false;
  if (p.role === "department") {
    const [current] = await db
      .select()
      .from(chatBindings)
      .where(and(eq(chatBindings.unitId, p.unit.id), eq(chatBindings.isCardGroup, true)));
    if (current && p.cardGroup) {
      await db
        .update(chatBindings)
        .set({ isCardGroup: false })
        .where(eq(chatBindings.chatId, current.chatId));
    }
    isCardGroup = !current || Boolean(p.cardGroup);
  }
  const [binding] = await db
    .insert(chatBindings)
    .values({
      chatId: p.chatId,
      unitId: p.unit.id,
      role: p.role,
      isCardGroup,
      boundBy: p.boundBy,
      boundAt: p.now,
    })
    .returning();
  if (!binding) throw new Error("bind failed");
  return { binding, previous: before, unchanged: false };
}

/** Remove a chat's binding. A department that loses its card group gets its oldest other chat as card group. */
export async function unbindChat(
  db: DbOrTx,
  chatId: string,
): Promise<{ removed: ChatUnit; promoted?: string } | undefined> {
  const removed = await chatUnit(db, chatId);
  if (!removed) return undefined;
  await db.delete(chatBindings).where(eq(chatBindings.chatId, chatId));
  if (!removed.binding.isCardGroup) return { removed };
  const [next] = await db
    .select()
    .from(chatBindings)
    .where(and(eq(chatBindings.unitId, removed.unit.id), ne(chatBindings.chatId, chatId)))
    .orderBy(asc(chatBindings.boundAt))
    .limit(1);
  if (!next) return { removed };
  await db.update(chatBindings).set({ isCardGroup: true }).where(eq(chatBindings.chatId, next.chatId));
  return { removed, promoted: next.chatId };
}

export type AliasOutcome =
  | { alias: string; status: "added" | "exists" }
  | { alias: string; status: "taken"; by: string };

/** Add aliases to a unit; an alias already used by another unit (as name or alias) is refused. */
export async function addAliases(db: DbOrTx, unit: Unit, aliases: string[]): Promise<AliasOutcome[]> {
  const out: AliasOutcome[] = [];
  for (const raw of aliases) {
    const alias = cleanName(raw);
    const key = nameKey(alias);
    if (!key) continue;
    if (key === unit.nameKey) {
      out.push({ alias, status: "exists" });
      continue;
    }
    const [owner] = await db
      .select({ unitId: unitAliases.unitId, name: units.name })
      .from(unitAliases)
      .innerJoin(units, eq(units.id, unitAliases.unitId))
      .where(eq(unitAliases.aliasKey, key));
    if (owner) {
      out.push(
        owner.unitId === unit.id ? { alias, status: "exists" } : { alias, status: "taken", by: owner.name },
      );
      continue;
    }
    const [named] = await db
      .select({ name: units.name })
      .from(units)
      .where(and(eq(units.nameKey, key), eq(units.kind, unit.kind)));
    if (named) {
      out.push({ alias, status: "taken", by: named.name });
      continue;
    }
    await db.insert(unitAliases).values({ unitId: unit.id, alias, aliasKey: key });
    out.push({ alias, status: "added" });
  }
  return out;
}

/** Replace a street's force set ("1+4") with the given departments, in order. */
export async function setForceSet(db: DbOrTx, streetId: number, departmentIds: number[]): Promise<void> {
  await db.delete(forceSets).where(eq(forceSets.streetId, streetId));
  const unique = [...new Set(departmentIds)];
  if (unique.length === 0) return;
  await db
    .insert(forceSets)
    .values(unique.map((departmentId, position) => ({ streetId, departmentId, position })));
}

/** A street's force set, in order. */
export async function forceSetOf(db: DbOrTx, streetId: number): Promise<Unit[]> {
  const rows = await db
    .select({ unit: units })
    .from(forceSets)
    .innerJoin(units, eq(units.id, forceSets.departmentId))
    .where(eq(forceSets.streetId, streetId))
    .orderBy(asc(forceSets.position));
  return rows.map((r) => r.unit);
}

/** Replace a department's duty contacts. */
export async function setDuty(db: DbOrTx, departmentId: number, openIds: string[]): Promise<void> {
  await db.delete(dutyContacts).where(eq(dutyContacts.departmentId, departmentId));
  const unique = [...new Set(openIds)];
  if (unique.length === 0) return;
  await db.insert(dutyContacts).values(unique.map((openId) => ({ departmentId, openId })));
}

export async function dutyOf(db: DbOrTx, departmentId: number): Promise<string[]> {
  const rows = await db
    .select({ openId: dutyContacts.openId })
    .from(dutyContacts)
    .where(eq(dutyContacts.departmentId, departmentId))
    .orderBy(asc(dutyContacts.createdAt));
  return rows.map((r) => r.openId);
}

export async function isAdmin(db: DbOrTx, openId: string): Promise<boolean> {
  const [row] = await db.select({ openId: admins.openId }).from(admins).where(eq(admins.openId, openId));
  return row !== undefined;
}

export type AdminRow = typeof admins.$inferSelect;

export async function listAdmins(db: DbOrTx): Promise<AdminRow[]> {
  return db.select().from(admins).orderBy(asc(admins.createdAt));
}

export async function addAdmin(db: DbOrTx, openId: string, addedBy: string): Promise<boolean> {
  const rows = await db
    .insert(admins)
    .values({ openId, source: "chat", addedBy })
    .onConflictDoNothing()
    .returning({ openId: admins.openId });
  return rows.length > 0;
}

export async function removeAdmin(db: DbOrTx, openId: string): Promise<boolean> {
  const rows = await db.delete(admins).where(eq(admins.openId, openId)).returning({ openId: admins.openId });
  return rows.length > 0;
}

/** Remember display names seen in events (mentions, senders), for cards and replies. */
export async function rememberPeople(
  db: DbOrTx,
  list: { openId: string; name: string }[],
  now: Date,
): Promise<void> {
  const named = list.filter((p) => p.openId && p.name);
  if (named.length === 0) return;
  const unique = [...new Map(named.map((p) => [p.openId, p])).values()];
  await db
    .insert(people)
    .values(unique.map((p) => ({ openId: p.openId, name: p.name, updatedAt: now })))
    .onConflictDoUpdate({ target: people.openId, set: { name: sql`excluded.name`, updatedAt: now } });
}

export async function peopleNames(db: DbOrTx, openIds: string[]): Promise<Map<string, string>> {
  if (openIds.length === 0) return new Map();
  const rows = await db.select().from(people).where(inArray(people.openId, openIds));
  return new Map(rows.map((r) => [r.openId, r.name]));
}

export interface DirectoryView {
  streets: { unit: Unit; chats: Binding[]; forces: string[] }[];
  departments: { unit: Unit; aliases: string[]; chats: Binding[]; duty: string[] }[];
  oversight: { unit: Unit; chats: Binding[] }[];
  admins: AdminRow[];
}

/** The whole mapping, for /目录 and the export. */
export async function directoryView(db: DbOrTx): Promise<DirectoryView> {
  const [allUnits, allAliases, allBindings, allForces, allDuty, adminRows] = await Promise.all([
    db.select().from(units).orderBy(asc(units.id)),
    db.select().from(unitAliases).orderBy(asc(unitAliases.createdAt)),
    db.select().from(chatBindings).orderBy(asc(chatBindings.boundAt)),
    db.select().from(forceSets).orderBy(asc(forceSets.position)),
    db.select().from(dutyContacts).orderBy(asc(dutyContacts.createdAt)),
    listAdmins(db),
  ]);
  const nameOf = new Map(allUnits.map((u) => [u.id, u.name]));
  const chatsOf = (id: number) => allBindings.filter((b) => b.unitId === id);
  return {
    streets: allUnits
      .filter((u) => u.kind === "street" || u.kind === "township")
      .map((unit) => ({
        unit,
        chats: chatsOf(unit.id),
        forces: allForces.filter((f) => f.streetId === unit.id).map((f) => nameOf.get(f.departmentId) ?? "?"),
      })),
    departments: allUnits
      .filter((u) => u.kind === "department")
      .map((unit) => ({
        unit,
        aliases: allAliases.filter((a) => a.unitId === unit.id).map((a) => a.alias),
        chats: chatsOf(unit.id),
        duty: allDuty.filter((d) => d.departmentId === unit.id).map((d) => d.openId),
      })),
    oversight: allUnits
      .filter((u) => u.kind === "oversight")
      .map((unit) => ({ unit, chats: chatsOf(unit.id) })),
    admins: adminRows,
  };
}
