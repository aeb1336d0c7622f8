import { z } from "zod";
import { welcomeCard } from "../cards/directory";
import { addMembers, invalidateMembers, removeMembers } from "../membership";
import type { Bot, EventContext } from "../router";

/** Group lifecycle events: the bot joins (welcome card), people join or leave (member cache). */

const botAdded = z.object({ chat_id: z.string(), name: z.string().optional() });
const membersChanged = z.object({
  chat_id: z.string(),
  users: z
    .array(
      z.object({
        name: z.string().optional(),
        user_id: z.object({ open_id: z.string().optional() }).optional(),
      }),
    )
    .default([]),
});
const chatOnly = z.object({ chat_id: z.string() });

function parse<T>(schema: z.ZodType<T>, ctx: EventContext): T | undefined {
  const r = schema.safeParse(ctx.event.event);
  if (!r.success) ctx.log.warn("event ignored: unexpected shape", { event_type: ctx.event.eventType });
  return r.success ? r.data : undefined;
}

function users(e: z.infer<typeof membersChanged>) {
  return e.users.flatMap((u) =>
    u.user_id?.open_id ? [{ openId: u.user_id.open_id, name: u.name ?? "" }] : [],
  );
}

export function registerChatEvents(bot: Bot): void {
  bot.on("im.chat.member.bot.added_v1", async (ctx) => {
    const e = parse(botAdded, ctx);
    if (e) ctx.out.sendCard(e.chat_id, welcomeCard(e.name));
  });
  bot.on("im.chat.member.user.added_v1", async (ctx) => {
    const e = parse(membersChanged, ctx);
    if (e) await addMembers(ctx.tx, e.chat_id, users(e), ctx.now);
  });
  const left = async (ctx: EventContext) => {
    const e = parse(membersChanged, ctx);
    if (e)
      await removeMembers(
        ctx.tx,
        e.chat_id,
        users(e).map((u) => u.openId),
      );
  };
  bot.on("im.chat.member.user.deleted_v1", left);
  bot.on("im.chat.member.user.withdrawn_v1", left);
  const forget = async (ctx: EventContext) => {
    const e = parse(chatOnly, ctx);
    if (e) await invalidateMembers(ctx.tx, e.chat_id);
  };
  bot.on("im.chat.member.bot.deleted_v1", forget);
  bot.on("im.chat.disbanded_v1", forget);
}
