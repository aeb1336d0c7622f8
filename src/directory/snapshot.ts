/**
 * Everything the directory file describes, read from the database in one go (a district is a few
 * hundred rows): the input of both the import plan and the export.
 */
import { asc } from "drizzle-orm";
import type { DbOrTx } from "../db/database";
import {
  admins,
  chatBindings,
  dutyContacts,
  forceSets,
  typePolicies,
  unitAliases,
  units,
} from "../db/schema";

export type UnitKind = (typeof units.$inferSelect)["kind"];
export type ChatRole = (typeof chatBindings.$inferSelect)["role"];

export interface DirectorySnapshot {
  units: { id: number; kind: UnitKind; name: string; nameKey: string }[];
  aliases: { unitId: number; alias: string; aliasKey: string }[];
  chats: {
    chatId: string;
    unitId: number;
    role: ChatRole;
    isCardGroup: boolean;
    chatName: string | null;
  }[];
  forces: { streetId: number; departmentId: number; position: number }[];
  duty: { departmentId: number; openId: string }[];
  admins: { openId: string }[];
  policies: (typeof typePolicies.$inferSelect)[];
}

export async function loadSnapshot(db: DbOrTx): Promise<DirectorySnapshot> {
  return {
    units: await db
      .select({ id: units.id, kind: units.kind, name: units.name, nameKey: units.nameKey })
      .from(units)
      .orderBy(asc(units.id)),
    aliases: await db
      .select({ unitId: unitAliases.unitId, alias: unitAliases.alias, aliasKey: unitAliases.aliasKey })
      .from(unitAliases)
      .orderBy(asc(unitAliases.createdAt), asc(unitAliases.aliasKey)),
    chats: await db
      .select({
        chatId: chatBindings.chatId,
        unitId: chatBindings.unitId,
        role: chatBindings.role,
        isCardGroup: chatBindings.isCardGroup,
        chatName: chatBindings.chatName,
      })
      .from(chatBindings)
      .orderBy(asc(chatBindings.boundAt), asc(chatBindings.chatId)),
    forces: await db
      .select()
      .from(forceSets)
      .orderBy(asc(forceSets.streetId), asc(forceSets.position), asc(forceSets.departmentId)),
    duty: await db
      .select({ departmentId: dutyContacts.departmentId, openId: dutyContacts.openId })
      .from(dutyContacts)
      .orderBy(asc(dutyContacts.createdAt), asc(dutyContacts.openId)),
    admins: await db
      .select({ openId: admins.openId })
      .from(admins)
      .orderBy(asc(admins.createdAt), asc(admins.openId)),
    policies: await db.select().from(typePolicies).orderBy(asc(typePolicies.id)),
  };
}
