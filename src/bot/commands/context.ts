import { isAdmin, rememberPeople } from "../../db/queries/directory";
import { type Action, can } from "../../domain/permissions";
import { type Card, md } from "../cards/kit";
import { problemCard } from "../cards/notice";
import type { CommandContext } from "../router";

/** Helpers shared by command handlers: reply with a card, refuse with a reason, check admin rights. */

export function replyCard(ctx: CommandContext, c: Card): void {
  ctx.out.replyCard({ messageId: ctx.event.messageId, chatId: ctx.event.chatId }, c);
}

export function refuse(
  ctx: CommandContext,
  title: string,
  problem: string,
  opts: { hint?: string; usage?: string[] } = {},
) {
  replyCard(ctx, problemCard(title, problem, opts));
}

/** Admin-only commands: true when allowed; otherwise replies with who may do it and returns false. */
export async function requireAdmin(ctx: CommandContext, action: Action, title: string): Promise<boolean> {
  const admin = await isAdmin(ctx.tx, ctx.event.senderOpenId);
  const d = can(
    { openId: ctx.event.senderOpenId, admin, streets: [], departments: [], oversight: false },
    action,
  );
  if (d.ok) return true;
  refuse(ctx, title, d.reason, {
    hint: `你的 open_id：${ctx.event.senderOpenId}（管理员可用 /管理员 添加 @你，或由运维写入 WHISTLE_ADMINS）`,
  });
  return false;
}

/** Group chats only: binding a p2p chat makes no sense. */
export function requireGroup(ctx: CommandContext, title: string): boolean {
  if (ctx.event.chatType !== "p2p") return true;
  refuse(ctx, title, "请在要设置的群里发送这条命令，而不是和机器人的单聊。");
  return false;
}

/** Keep the names of people the message mentions, for cards and replies. */
export async function rememberMentions(ctx: CommandContext): Promise<void> {
  await rememberPeople(ctx.tx, ctx.command.mentions, ctx.now);
}

export const person = (openId: string) => `<at id=${openId}></at>`;

export const mdList = (lines: string[]) => md(lines.join("\n"));
