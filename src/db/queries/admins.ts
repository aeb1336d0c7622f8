import type { DbOrTx } from "../database";
import { admins } from "../schema";

/** Make sure every WHISTLE_ADMINS open_id is an admin. Idempotent; never removes anyone. */
export async function seedEnvAdmins(db: DbOrTx, openIds: readonly string[]): Promise<void> {
  if (openIds.length === 0) return;
  await db
    .insert(admins)
    .values(openIds.map((openId) => ({ openId, source: "env" as const })))
    .onConflictDoNothing();
}
