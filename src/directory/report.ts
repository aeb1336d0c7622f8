/** What an import changed (or would change): counts per kind of row, plus one human line per change. */

export const SECTIONS = {
  streets: "街乡 streets",
  departments: "部门 departments",
  oversight: "监督 oversight",
  aliases: "别名 aliases",
  chats: "群 chats",
  forces: "力量 force sets",
  duty: "值班 duty contacts",
  admins: "管理员 admins",
  policies: "时限 policies",
} as const;

export type Section = keyof typeof SECTIONS;

export interface Counts {
  created: number;
  updated: number;
  removed: number;
  unchanged: number;
}

export interface ChangeReport {
  counts: Record<Section, Counts>;
  /** `+ 部门 城管执法队`, `~ 群 oc_x: 公安 → 消防`, `- 别名 执法队 (城管执法队)` … in the order applied. */
  lines: string[];
  /** Created + updated + removed, over every section: 0 means the import writes nothing. */
  changes: number;
}

export function emptyReport(): ChangeReport {
  const counts = {} as Record<Section, Counts>;
  for (const s of Object.keys(SECTIONS) as Section[]) {
    counts[s] = { created: 0, updated: 0, removed: 0, unchanged: 0 };
  }
  return { counts, lines: [], changes: 0 };
}

/** Count one row; a line is given for anything but "unchanged". */
export function record(report: ChangeReport, section: Section, what: keyof Counts, line?: string): void {
  report.counts[section][what] += 1;
  if (what !== "unchanged") report.changes += 1;
  if (line) report.lines.push(line);
}

/** The change lines, then one summary line per section that the file touched. */
export function formatReport(report: ChangeReport): string[] {
  const out = [...report.lines];
  if (out.length > 0) out.push("");
  for (const [section, label] of Object.entries(SECTIONS) as [Section, string][]) {
    const c = report.counts[section];
    if (c.created + c.updated + c.removed + c.unchanged === 0) continue;
    const parts = [`${c.created} created`, `${c.updated} updated`];
    if (c.removed > 0) parts.push(`${c.removed} removed`);
    parts.push(`${c.unchanged} unchanged`);
    out.push(`${label}: ${parts.join(", ")}`);
  }
  out.push(
    report.changes === 0 ? "no changes: the database already matches the file" : `${report.changes} changes`,
  );
  return out;
}
