import { chatsOfUnit } from "../../db/queries/whistles";
import { isChatMember } from "../membership";
import type { ActionContext } from "../router";

/**
 * Is the person acting a member of one of the unit's bound chats? A click in one of those chats
 * answers it at once; otherwise the (≤ 5 minute) member cache, refreshed from Lark when stale.
 */
export async function memberOfUnit(
  ctx: ActionContext,
  unitId: number,
  /** The unit's bound chats when the caller has them already. */
  knownChats?: string[],
): Promise<boolean> {
  const chats = knownChats ?? (await chatsOfUnit(ctx.tx, unitId));
  if (chats.includes(ctx.event.chatId)) return true;
  for (const chatId of chats) {
    const member = await isChatMember(
      { tx: ctx.tx, now: ctx.now, log: ctx.log, lookup: ctx.lookup, eventChatId: ctx.event.chatId },
      chatId,
      ctx.event.operatorOpenId,
    );
    if (member) return true;
  }
  return false;
}
