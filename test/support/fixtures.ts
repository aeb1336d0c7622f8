import type { DbOrTx } from "../../src/db/database";
import { dispatches, units, whistles } from "../../src/db/schema";

/** Minimal rows for database tests; each returns the inserted row. */
export async function insertUnit(db: DbOrTx, kind: "street" | "department" | "oversight", name: string) {
  const [row] = await db.insert(units).values({ kind, name, nameKey: name.toLowerCase() }).returning();
  if (!row) throw new Error("insert failed");
  return row;
}

export async function insertWhistle(db: DbOrTx, streetId: number, code: string, now = new Date()) {
  const [row] = await db
    .insert(whistles)
    .values({
      code,
      type: "enforcement",
      matter: "东直门内大街12号门前占道经营",
      streetId,
      streetChatId: "oc_street",
      whistlerOpenId: "ou_official",
      limitMinutes: 30,
      source: "command",
      createdAt: now,
      deadlineAt: new Date(now.getTime() + 30 * 60_000),
    })
    .returning();
  if (!row) throw new Error("insert failed");
  return row;
}

export async function insertDispatch(db: DbOrTx, whistleId: number, departmentId: number, deadlineAt: Date) {
  const [row] = await db
    .insert(dispatches)
    .values({ whistleId, departmentId, chatId: `oc_dept_${departmentId}`, deadlineAt })
    .returning();
  if (!row) throw new Error("insert failed");
  return row;
}
