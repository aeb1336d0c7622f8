/**
 * A validated directory file + what the database holds → the writes that make the database match
 * the file, and a report of them; or the problems that only the database reveals (an alias taken by
 * a unit outside the file, a force-set name that is no department). Pure: the caller loads the
 * snapshot and runs the plan in one transaction (import.ts).
 */
import { nameKey, resolveName } from "../domain/names";
import {
  defaultPlaceKind,
  type FileChat,
  type FilePath,
  type FilePolicies,
  WHISTLE_TYPES,
  type WhistleType,
} from "./file-format";
import { ErrorList, type ParsedDirectory } from "./parse";
import { describePolicy, type PolicyValues, policyChanges, policyValues } from "./policies";
import { type ChangeReport, emptyReport, record } from "./report";
import type { ChatRole, DirectorySnapshot, UnitKind } from "./snapshot";

/** `${kind}:${name_key}`: names a unit before it has an id. */
export type UnitKey = string;
export const unitKey = (kind: UnitKind, key: string): UnitKey => `${kind}:${key}`;
const kindOf = (key: UnitKey) => key.slice(0, key.indexOf(":")) as UnitKind;

export interface ChatWrite {
  chatId: string;
  unit: UnitKey;
  role: ChatRole;
  isCardGroup: boolean;
  /** undefined: keep the stored name. */
  chatName: string | undefined;
  exists: boolean;
  moved: boolean;
}

export interface ChangePlan {
  createUnits: { kind: UnitKind; name: string; nameKey: string }[];
  renameUnits: { id: number; name: string }[];
  deleteAliases: string[];
  renameAliases: { aliasKey: string; alias: string }[];
  insertAliases: { unit: UnitKey; alias: string; aliasKey: string }[];
  /** Chats to take the card-group mark off before any chat is written (keeps "one per unit" true). */
  clearCards: string[];
  chats: ChatWrite[];
  forces: { street: UnitKey; departments: UnitKey[] }[];
  deleteDuty: { departmentId: number; openId: string }[];
  insertDuty: { department: UnitKey; openId: string }[];
  insertAdmins: string[];
  deletePolicies: number[];
  updatePolicies: { id: number; values: PolicyValues }[];
  insertPolicies: { street: UnitKey | null; type: WhistleType; values: PolicyValues }[];
}

export type PlanResult =
  | { ok: false; errors: string[] }
  | { ok: true; plan: ChangePlan; report: ChangeReport };

const KIND_LABEL: Record<UnitKind, string> = {
  district: "区",
  street: "街道",
  township: "乡镇",
  community: "社区",
  department: "部门",
  oversight: "监督",
};
const TYPE_LABEL: Record<WhistleType, string> = {
  enforcement: "综合执法哨",
  emergency: "应急处置哨",
  key: "重点工作哨",
};

/** Units that share a name space for names and aliases: streets with townships; the rest by kind. */
const groupOf = (kind: UnitKind) => (kind === "township" ? "street" : kind);

const roleOf = (kind: UnitKind): ChatRole =>
  kind === "department" ? "department" : kind === "oversight" ? "oversight" : "street";

type Section = "streets" | "departments" | "oversight";

interface Listed {
  key: UnitKey;
  kind: UnitKind;
  name: string;
  nameKey: string;
  at: FilePath;
  existingId: number | undefined;
  aliases: string[] | undefined;
  chats: FileChat[] | undefined;
  forces: string[] | undefined;
  duty: string[] | undefined;
  policies: FilePolicies | undefined;
}

export function planDirectory(parsed: ParsedDirectory, snap: DirectorySnapshot): PlanResult {
  const { file } = parsed;
  const errors = new ErrorList(parsed.fileName, parsed.locate);
  const report = emptyReport();
  const plan: ChangePlan = {
    createUnits: [],
    renameUnits: [],
    deleteAliases: [],
    renameAliases: [],
    insertAliases: [],
    clearCards: [],
    chats: [],
    forces: [],
    deleteDuty: [],
    insertDuty: [],
    insertAdmins: [],
    deletePolicies: [],
    updatePolicies: [],
    insertPolicies: [],
  };

  const dbByKey = new Map(snap.units.map((u) => [unitKey(u.kind, u.nameKey), u]));
  const keyOfId = new Map(snap.units.map((u) => [u.id, unitKey(u.kind, u.nameKey)]));

  // ── Units ─────────────────────────────────────────────────────────────────────────────────────
  const listed: Listed[] = [];
  const add = (section: Section, i: number, kind: UnitKind, entry: Partial<Listed> & { name: string }) => {
    const key = nameKey(entry.name);
    listed.push({
      key: unitKey(kind, key),
      kind,
      name: entry.name,
      nameKey: key,
      at: [section, i],
      existingId: dbByKey.get(unitKey(kind, key))?.id,
      aliases: entry.aliases,
      chats: entry.chats,
      forces: entry.forces,
      duty: entry.duty,
      policies: entry.policies,
    });
  };
  (file.streets ?? []).forEach((s, i) => {
    const key = nameKey(s.name);
    const inDb = (["street", "township"] as const).filter((k) => dbByKey.has(unitKey(k, key)));
    const kind = s.kind ?? (inDb.length === 1 ? inDb[0] : undefined) ?? defaultPlaceKind(s.name);
    const other = kind === "street" ? "township" : "street";
    if (s.kind && dbByKey.has(unitKey(other, key))) {
      errors.add(
        ["streets", i, "kind"],
        `${s.name} is already a ${other} (${KIND_LABEL[other]}) in the database; a street and a township cannot share a name`,
      );
    }
    add("streets", i, kind, s);
  });
  for (const [i, d] of (file.departments ?? []).entries()) add("departments", i, "department", d);
  for (const [i, o] of (file.oversight ?? []).entries()) add("oversight", i, "oversight", o);

  const listedByKey = new Map(listed.map((l) => [l.key, l]));
  /** A unit's name after the import. */
  const nameOf = (key: UnitKey) => listedByKey.get(key)?.name ?? dbByKey.get(key)?.name ?? key;
  /** A unit's name before the import. */
  const oldNameOf = (key: UnitKey) => dbByKey.get(key)?.name ?? nameOf(key);
  const section = (kind: UnitKind) =>
    kind === "department" ? "departments" : kind === "oversight" ? "oversight" : "streets";

  for (const l of listed) {
    const label = `${KIND_LABEL[l.kind]} ${l.name}`;
    const current = dbByKey.get(l.key);
    if (!current) {
      plan.createUnits.push({ kind: l.kind, name: l.name, nameKey: l.nameKey });
      record(report, section(l.kind), "created", `+ ${label}`);
    } else if (current.name !== l.name) {
      plan.renameUnits.push({ id: current.id, name: l.name });
      record(report, section(l.kind), "updated", `~ ${KIND_LABEL[l.kind]} ${current.name} → ${l.name}`);
    } else {
      record(report, section(l.kind), "unchanged");
    }
  }

  // ── Aliases: the listed units' sets become exactly what is listed ─────────────────────────────
  const managesAliases = new Set(listed.filter((l) => l.aliases).map((l) => l.key));
  /** alias_key → its owner after the import, and where the file lists it. */
  const finalAliases = new Map<string, { owner: UnitKey; alias: string; at?: FilePath }>();
  for (const a of snap.aliases) {
    const owner = keyOfId.get(a.unitId);
    if (owner && !managesAliases.has(owner)) finalAliases.set(a.aliasKey, { owner, alias: a.alias });
  }
  for (const l of listed) {
    l.aliases?.forEach((alias, i) => {
      const at = [...l.at, "aliases", i];
      const taken = finalAliases.get(nameKey(alias));
      if (taken && taken.owner !== l.key) {
        const hint = listedByKey.has(taken.owner)
          ? ` (list its aliases in this file without ${alias} to move it)`
          : "";
        errors.add(at, `${alias} is already an alias of ${nameOf(taken.owner)} in the database${hint}`);
      } else {
        finalAliases.set(nameKey(alias), { owner: l.key, alias, at });
      }
    });
  }
  // No alias may be another unit's name (same sort of unit). File-against-file is parse.ts's job.
  const finalNames = new Map<string, { key: UnitKey; at?: FilePath }>();
  for (const u of snap.units)
    finalNames.set(`${groupOf(u.kind)}:${u.nameKey}`, { key: unitKey(u.kind, u.nameKey) });
  for (const l of listed)
    finalNames.set(`${groupOf(l.kind)}:${l.nameKey}`, { key: l.key, at: [...l.at, "name"] });
  for (const [aliasKey, a] of finalAliases) {
    const named = finalNames.get(`${groupOf(kindOf(a.owner))}:${aliasKey}`);
    if (!named || named.key === a.owner) continue;
    const what = KIND_LABEL[kindOf(named.key)];
    if (a.at && !named.at) {
      errors.add(a.at, `${a.alias} is the name of ${what} ${nameOf(named.key)} in the database`);
    } else if (!a.at && named.at) {
      errors.add(named.at, `${nameOf(named.key)} is already an alias of ${nameOf(a.owner)} in the database`);
    }
  }
  for (const l of listed) {
    if (!l.aliases) continue;
    const current = snap.aliases.filter((a) => a.unitId === l.existingId);
    const wanted = new Map(l.aliases.map((alias) => [nameKey(alias), alias]));
    for (const a of current) {
      if (wanted.has(a.aliasKey)) continue;
      plan.deleteAliases.push(a.aliasKey);
      record(report, "aliases", "removed", `- 别名 ${a.alias} (${l.name})`);
    }
    for (const [aliasKey, alias] of wanted) {
      const had = current.find((a) => a.aliasKey === aliasKey);
      if (!had) {
        plan.insertAliases.push({ unit: l.key, alias, aliasKey });
        record(report, "aliases", "created", `+ 别名 ${alias} → ${l.name}`);
      } else if (had.alias !== alias) {
        plan.renameAliases.push({ aliasKey, alias });
        record(report, "aliases", "updated", `~ 别名 ${had.alias} → ${alias} (${l.name})`);
      } else {
        record(report, "aliases", "unchanged");
      }
    }
  }

  // ── Chats: listed chats are bound to their unit; the marked (or first) one is the card group ───
  const chatsNow = new Map(snap.chats.map((c) => [c.chatId, c]));
  const listedChats = new Set(listed.flatMap((l) => (l.chats ?? []).map((c) => c.id)));
  for (const l of listed) {
    const chats = l.chats ?? [];
    const role = roleOf(l.kind);
    const marked = chats.findIndex((c) => c.card === true);
    const card = l.kind === "department" && chats.length > 0 ? Math.max(marked, 0) : -1;
    chats.forEach((chat, i) => {
      const want = { isCardGroup: i === card, chatName: chat.name };
      const cardNote = want.isCardGroup ? " (派单群)" : "";
      const now = chatsNow.get(chat.id);
      if (!now) {
        plan.chats.push({ chatId: chat.id, unit: l.key, role, ...want, exists: false, moved: false });
        const named = chat.name ? ` 「${chat.name}」` : "";
        record(report, "chats", "created", `+ 群 ${chat.id} → ${l.name}${cardNote}${named}`);
        return;
      }
      const from = keyOfId.get(now.unitId) ?? "";
      const moved = from !== l.key;
      const diffs: string[] = [];
      if (moved) diffs.push(`${oldNameOf(from)} → ${l.name}${cardNote}`);
      else if (now.role !== role) diffs.push(`角色 ${now.role} → ${role}`);
      if (!moved && now.isCardGroup !== want.isCardGroup)
        diffs.push(want.isCardGroup ? "设为派单群" : "不再是派单群");
      if (moved && now.isCardGroup && !want.isCardGroup) diffs.push("不再是派单群");
      if (chat.name !== undefined && chat.name !== now.chatName)
        diffs.push(`群名 ${now.chatName ?? "—"} → ${chat.name}`);
      if (diffs.length === 0) {
        record(report, "chats", "unchanged");
        return;
      }
      if (now.isCardGroup && moved) plan.clearCards.push(chat.id);
      plan.chats.push({ chatId: chat.id, unit: l.key, role, ...want, exists: true, moved });
      const head = moved ? `~ 群 ${chat.id}: ` : `~ 群 ${chat.id} (${l.name}): `;
      record(report, "chats", "updated", head + diffs.join(", "));
    });
    // A card group this file does not list gives way to the one it marks.
    if (card >= 0 && l.existingId !== undefined) {
      for (const c of snap.chats) {
        if (c.unitId !== l.existingId || !c.isCardGroup || listedChats.has(c.chatId)) continue;
        plan.clearCards.push(c.chatId);
        record(report, "chats", "updated", `~ 群 ${c.chatId} (${l.name}): 不再是派单群`);
      }
    }
  }

  // ── Force sets ("1+4"): exactly the listed departments, in order ─────────────────────────────
  const departments = new Map<string, UnitKey>();
  const candidates = new Map<UnitKey, { name: string; keys: string[]; value: UnitKey }>();
  for (const u of snap.units) {
    if (u.kind !== "department") continue;
    const key = unitKey(u.kind, u.nameKey);
    departments.set(u.nameKey, key);
    candidates.set(key, { name: nameOf(key), keys: [u.nameKey], value: key });
  }
  for (const l of listed) {
    if (l.kind !== "department") continue;
    departments.set(l.nameKey, l.key);
    candidates.set(l.key, { name: l.name, keys: [l.nameKey], value: l.key });
  }
  for (const [aliasKey, a] of finalAliases) {
    const c = candidates.get(a.owner);
    if (!c) continue;
    c.keys.push(aliasKey);
    if (!departments.has(aliasKey)) departments.set(aliasKey, a.owner);
  }
  for (const l of listed) {
    if (!l.forces) continue;
    const wanted: UnitKey[] = [];
    const seen = new Map<UnitKey, number>();
    l.forces.forEach((name, i) => {
      const at = [...l.at, "forces", i];
      const dept = departments.get(nameKey(name));
      if (!dept) {
        errors.add(
          at,
          `${name} is not a department in this file or the database${suggest(name, candidates)}`,
        );
        return;
      }
      const first = seen.get(dept);
      if (first !== undefined) {
        errors.add(
          at,
          `${name} is ${nameOf(dept)}, already listed (${errors.where([...l.at, "forces", first])})`,
        );
        return;
      }
      seen.set(dept, i);
      wanted.push(dept);
    });
    const current = snap.forces
      .filter((f) => f.streetId === l.existingId)
      .map((f) => keyOfId.get(f.departmentId) ?? "");
    if (current.join("\n") === wanted.join("\n")) {
      record(report, "forces", "unchanged");
      continue;
    }
    plan.forces.push({ street: l.key, departments: wanted });
    const list = (keys: UnitKey[]) => keys.map(nameOf).join("、");
    if (current.length === 0) record(report, "forces", "created", `+ 力量 ${l.name}: ${list(wanted)}`);
    else if (wanted.length === 0) record(report, "forces", "removed", `- 力量 ${l.name} (${list(current)})`);
    else record(report, "forces", "updated", `~ 力量 ${l.name}: ${list(current)} → ${list(wanted)}`);
  }

  // ── Duty contacts: exactly the listed set ──────────────────────────────────────────────────────
  for (const l of listed) {
    if (!l.duty) continue;
    const current = snap.duty.filter((d) => d.departmentId === l.existingId);
    for (const d of current) {
      if (l.duty.includes(d.openId)) continue;
      plan.deleteDuty.push(d);
      record(report, "duty", "removed", `- 值班 ${d.openId} (${l.name})`);
    }
    for (const openId of l.duty) {
      if (current.some((d) => d.openId === openId)) {
        record(report, "duty", "unchanged");
      } else {
        plan.insertDuty.push({ department: l.key, openId });
        record(report, "duty", "created", `+ 值班 ${openId} → ${l.name}`);
      }
    }
  }

  // ── Admins: added, never removed ───────────────────────────────────────────────────────────────
  const adminsNow = new Set(snap.admins.map((a) => a.openId));
  for (const openId of file.admins ?? []) {
    if (adminsNow.has(openId)) {
      record(report, "admins", "unchanged");
    } else {
      plan.insertAdmins.push(openId);
      record(report, "admins", "created", `+ 管理员 ${openId}`);
    }
  }

  // ── Policies: a listed `policies` block is the whole set of that street's (or the district's) rows
  const policyScope = (
    street: UnitKey | null,
    streetId: number | null | undefined,
    name: string,
    wanted: FilePolicies,
  ) => {
    const rows = streetId === undefined ? [] : snap.policies.filter((p) => p.streetId === streetId);
    for (const type of WHISTLE_TYPES) {
      const fields = wanted[type];
      const row = rows.find((r) => r.type === type);
      const label = `${name} ${TYPE_LABEL[type]}`;
      if (!fields) {
        if (!row) continue;
        plan.deletePolicies.push(row.id);
        record(report, "policies", "removed", `- 时限 ${label}`);
        continue;
      }
      const values = policyValues(fields);
      if (!row) {
        plan.insertPolicies.push({ street, type, values });
        record(report, "policies", "created", `+ 时限 ${label}: ${describePolicy(values)}`);
        continue;
      }
      const changes = policyChanges(row, values);
      if (changes.length === 0) {
        record(report, "policies", "unchanged");
      } else {
        plan.updatePolicies.push({ id: row.id, values });
        record(report, "policies", "updated", `~ 时限 ${label}: ${changes.join(", ")}`);
      }
    }
  };
  if (file.policies) policyScope(null, null, "全区默认", file.policies);
  for (const l of listed) if (l.policies) policyScope(l.key, l.existingId, l.name, l.policies);

  if (errors.length > 0) return { ok: false, errors: errors.sorted() };
  return { ok: true, plan, report };
}

/** " (did you mean 消防?)" from the departments' names and aliases. */
function suggest(
  name: string,
  candidates: Map<UnitKey, { name: string; keys: string[]; value: UnitKey }>,
): string {
  const r = resolveName(name, [...candidates.values()]);
  if (r.kind === "found") return ` (did you mean ${r.name}?)`;
  if (r.kind === "ambiguous") return ` (did you mean one of ${r.matches.join(", ")}?)`;
  return r.closest.length > 0 ? ` (did you mean ${r.closest.join(", ")}?)` : "";
}
