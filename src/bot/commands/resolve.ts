import type { DbOrTx } from "../../db/database";
import { type Unit, unitCandidates } from "../../db/queries/directory";
import { resolveName } from "../../domain/names";

/** Resolve typed department names; the problems come back as sentences that list the closest names. */
export async function resolveDepartments(
  db: DbOrTx,
  names: string[],
): Promise<{ found: Unit[]; problems: string[] }> {
  const candidates = await unitCandidates(db, ["department"]);
  const found: Unit[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const r = resolveName(name, candidates);
    if (r.kind === "found") found.push(r.value);
    else if (r.kind === "ambiguous") problems.push(`“${name}”可能是：${r.matches.join("、")}，请写全称。`);
    else if (candidates.length === 0) problems.push(`还没有绑定任何部门，找不到“${name}”。`);
    else
      problems.push(
        `找不到部门“${name}”${r.closest.length ? `，你是不是要找：${r.closest.join("、")}？` : "。发送 /目录 查看所有部门。"}`,
      );
  }
  return { found, problems };
}
