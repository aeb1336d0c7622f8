import { and, eq, isNull, or } from "drizzle-orm";
import { DEFAULT_LIMIT_MINUTES, type WhistleType } from "../../domain/whistle";
import type { DbOrTx } from "../database";
import { typePolicies } from "../schema";

export type Policy = typeof typePolicies.$inferSelect;

/** The timing rules for a street's whistles of a type: the street's own row, else the district's, else defaults. */
export async function policyFor(
  db: DbOrTx,
  streetId: number,
  type: WhistleType,
): Promise<{ reportLimitMinutes: number }> {
  const rows = await db
    .select()
    .from(typePolicies)
    .where(
      and(
        eq(typePolicies.type, type),
        or(eq(typePolicies.streetId, streetId), isNull(typePolicies.streetId)),
      ),
    );
  const own = rows.find((r) => r.streetId === streetId) ?? rows.find((r) => r.streetId === null);
  return { reportLimitMinutes: own?.reportLimitMinutes ?? DEFAULT_LIMIT_MINUTES };
}
