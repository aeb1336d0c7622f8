import { and, eq, inArray } from "drizzle-orm";
import type { DbOrTx } from "../db/database";
import { rememberPeople } from "../db/queries/directory";
import { chatMemberSyncs, chatMembers } from "../db/schema";
import type { Logger } from "../log";

/**
 * Who is in a chat — and so who is an official of a street or staff of a department. Lark's chat
 * members API, cached in the database for at most 5 minutes and updated by member events. A
 * person acting in a chat is a member of it by definition (Lark only delivers what members do).
 */
export const MEMBER_CACHE_MS = 5 * 60_000;

export interface MemberLookup {
  chatMembers(chatId: string): Promise<{ openId: string; name: string }[]>;
}

export interface MembershipContext {
  tx: DbOrTx;
  now: Date;
  log: Logger;
  lookup: MemberLookup | undefined;
  /** The chat the current event happened in. */
  eventChatId?: string;
}

/** Replace a chat's cached members with a fresh full list. */
export async function storeMembers(
  db: DbOrTx,
  chatId: string,
  members: { openId: string; name: string }[],
  now: Date,
): Promise<void> {
  await db.delete(chatMembers).where(eq(chatMembers.chatId, chatId));
  if (members.length > 0) {
    await db
      .insert(chatMembers)
      .values(members.map((m) => ({ chatId, openId: m.openId, fetchedAt: now })))
      .onConflictDoNothing();
  }
  await db
    .insert(chatMemberSyncs)
    .values({ chatId, syncedAt: now })
    .onConflictDoUpdate({ target: chatMemberSyncs.chatId, set: { syncedAt: now } });
  await rememberPeople(db, members, now);
}

export async function addMembers(
  db: DbOrTx,
  chatId: string,
  members: { openId: string; name: string }[],
  now: Date,
) {
  if (members.length === 0) return;
  await db
    .insert(chatMembers)
    .values(members.map((m) => ({ chatId, openId: m.openId, fetchedAt: now })))
    .onConflictDoNothing();
  await rememberPeople(db, members, now);
}

export async function removeMembers(db: DbOrTx, chatId: string, openIds: string[]) {
  if (openIds.length === 0) return;
  await db
    .delete(chatMembers)
    .where(and(eq(chatMembers.chatId, chatId), inArray(chatMembers.openId, openIds)));
}

/** Forget that a chat's list is complete (the bot left, the chat was dissolved …). */
export async function invalidateMembers(db: DbOrTx, chatId: string) {
  await db.delete(chatMemberSyncs).where(eq(chatMemberSyncs.chatId, chatId));
}

/** Whether `openId` is a member of `chatId`, refreshing the cached list from Lark when older than 5 minutes. */
export async function isChatMember(ctx: MembershipContext, chatId: string, openId: string): Promise<boolean> {
  if (ctx.eventChatId === chatId) {
    await addMembers(ctx.tx, chatId, [{ openId, name: "" }], ctx.now);
    return true;
  }
  const [sync] = await ctx.tx.select().from(chatMemberSyncs).where(eq(chatMemberSyncs.chatId, chatId));
  const fresh = sync && ctx.now.getTime() - sync.syncedAt.getTime() < MEMBER_CACHE_MS;
  if (!fresh && ctx.lookup) {
    try {
      const members = await ctx.lookup.chatMembers(chatId);
      await storeMembers(ctx.tx, chatId, members, ctx.now);
    } catch (err) {
      ctx.log.warn("chat members lookup failed; using the cached list", { chat_id: chatId, error: err });
    }
  }
  const [row] = await ctx.tx
    .select({ openId: chatMembers.openId })
    .from(chatMembers)
    .where(and(eq(chatMembers.chatId, chatId), eq(chatMembers.openId, openId)));
  return row !== undefined;
}
