/**
 * `directory export`: the whole directory (streets and townships, departments, oversight, admins,
 * policies) in the import format, so that importing the output changes nothing.
 * Units of other kinds (district, community) are not part of the file.
 */
import { Document, isMap, isScalar, isSeq, visit } from "yaml";
import type { Db } from "../db/database";
import { defaultPlaceKind, type PolicyFields, WHISTLE_TYPES, type WhistleType } from "./file-format";
import { policyFields } from "./policies";
import { type DirectorySnapshot, loadSnapshot } from "./snapshot";

type WrittenChat = string | { id: string; card?: true; name?: string };
type WrittenPolicies = Partial<Record<WhistleType, PolicyFields>>;

/** The file as export writes it: shorthand chats, policy fields only where they differ from the defaults. */
export interface WrittenDirectory {
  admins: string[];
  policies?: WrittenPolicies;
  streets: {
    name: string;
    kind?: "street" | "township";
    aliases?: string[];
    chats: WrittenChat[];
    forces: string[];
    policies?: WrittenPolicies;
  }[];
  departments: { name: string; aliases: string[]; chats: WrittenChat[]; duty: string[] }[];
  oversight: { name: string; aliases?: string[]; chats: WrittenChat[] }[];
}

export type ExportFormat = "yaml" | "json";

export async function exportDirectory(db: Db, format: ExportFormat = "yaml"): Promise<string> {
  return formatDirectory(buildDirectory(await loadSnapshot(db)), format);
}

export function buildDirectory(snap: DirectorySnapshot): WrittenDirectory {
  const name = new Map(snap.units.map((u) => [u.id, u.name]));
  const aliasesOf = (unitId: number) => snap.aliases.filter((a) => a.unitId === unitId).map((a) => a.alias);
  const chatsOf = (unitId: number, withCard: boolean): WrittenChat[] =>
    snap.chats
      .filter((c) => c.unitId === unitId)
      .sort((a, b) => Number(withCard && b.isCardGroup) - Number(withCard && a.isCardGroup))
      .map((c) => {
        const card = withCard && c.isCardGroup;
        if (!card && c.chatName === null) return c.chatId;
        return {
          id: c.chatId,
          ...(card ? { card: true as const } : {}),
          ...(c.chatName ? { name: c.chatName } : {}),
        };
      });
  const policiesOf = (streetId: number | null): WrittenPolicies | undefined => {
    const rows = snap.policies.filter((p) => p.streetId === streetId);
    if (rows.length === 0) return undefined;
    const out: WrittenPolicies = {};
    for (const type of WHISTLE_TYPES) {
      const row = rows.find((r) => r.type === type);
      if (row) out[type] = policyFields(row);
    }
    return out;
  };
  const optionalAliases = (unitId: number) => {
    const list = aliasesOf(unitId);
    return list.length > 0 ? { aliases: list } : {};
  };

  const file: WrittenDirectory = {
    admins: snap.admins.map((a) => a.openId),
    streets: [],
    departments: [],
    oversight: [],
  };
  const district = policiesOf(null);
  if (district) file.policies = district;
  for (const u of snap.units) {
    if (u.kind === "street" || u.kind === "township") {
      const policies = policiesOf(u.id);
      file.streets.push({
        name: u.name,
        ...(u.kind === defaultPlaceKind(u.name) ? {} : { kind: u.kind }),
        ...optionalAliases(u.id),
        chats: chatsOf(u.id, false),
        forces: snap.forces.filter((f) => f.streetId === u.id).map((f) => name.get(f.departmentId) ?? ""),
        ...(policies ? { policies } : {}),
      });
    } else if (u.kind === "department") {
      file.departments.push({
        name: u.name,
        aliases: aliasesOf(u.id),
        chats: chatsOf(u.id, true),
        duty: snap.duty.filter((d) => d.departmentId === u.id).map((d) => d.openId),
      });
    } else if (u.kind === "oversight") {
      file.oversight.push({ name: u.name, ...optionalAliases(u.id), chats: chatsOf(u.id, false) });
    }
  }
  return file;
}

const HEADER = [
  " Whistle directory (吹哨报到 通讯录), written by `npm run directory -- export`.",
  " Apply with `npm run directory -- import <this file>`; see examples/directory.yaml for every field.",
].join("\n");

export function formatDirectory(file: WrittenDirectory, format: ExportFormat): string {
  if (format === "json") return `${JSON.stringify(file, null, 2)}\n`;
  const doc = new Document(file);
  doc.commentBefore = HEADER;
  // Short lists and chat / policy entries on one line: `aliases: [城管, 执法队]`, `- { id: oc_…, card: true }`.
  visit(doc, {
    Seq(_, seq) {
      if (seq.items.every(isScalar)) seq.flow = true;
    },
    Map(_, map) {
      if (map.items.every((p) => isScalar(p.value) || (isSeq(p.value) && p.value.items.every(isScalar)))) {
        const keys = map.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ""));
        if (!keys.includes("name") || keys.includes("id")) map.flow = true;
      }
    },
  });
  // A blank line between the top-level sections and between units, for reading.
  if (isMap(doc.contents)) {
    for (const [i, pair] of doc.contents.items.entries()) {
      if (i > 0 && isScalar(pair.key)) pair.key.spaceBefore = true;
      if (isSeq(pair.value))
        for (const unit of pair.value.items.slice(1)) if (isMap(unit)) unit.spaceBefore = true;
    }
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
