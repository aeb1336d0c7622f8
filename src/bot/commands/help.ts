import { chatUnit, isAdmin } from "../../db/queries/directory";
import { type Card, card, md } from "../cards/kit";
import type { Bot, CommandHelp } from "../router";

/**
 * `/帮助` (`/help`): the commands with examples, tailored to where it is asked — a street sees how
 * to whistle, a department how to report in, oversight how to follow up — and the set-up
 * commands for admins. Built from the commands' own registrations, so it never goes stale.
 */

type Role = "street" | "department" | "oversight" | undefined;

const INTRO: Record<Exclude<Role, undefined>, (name: string) => string> = {
  street: (n) =>
    `本群是 **${n}** 的街乡工作群。在这里吹哨：被召集部门的群会收到卡片，30 分钟内点“报到”；事不完、人不撤，由本街乡办结并评价。`,
  department: (n) =>
    `本群是 **${n}** 的部门群。街乡吹哨后卡片发到这里：点 **报到**（30 分钟内），到达现场点 **到场**，随时在卡片上提交 **进展**。事项由街乡办结。`,
  oversight: (n) => `本群是 **${n}**（督办）。可查看全区进行中的哨单，超时未报到的部门会上报到这里。`,
};

function line(h: CommandHelp, names: string[]): string {
  const aliases = names.slice(1).map((n) => `/${n}`);
  const head = `**${h.usage}**${aliases.length ? `（${aliases.join("、")}）` : ""}\n${h.summary}`;
  return h.example ? `${head}\n例：\`${h.example}\`` : head;
}

export function helpCard(bot: Bot, role: Role, unitName: string | undefined, admin: boolean): Card {
  const entries = bot.commandHelp();
  const forHere = entries.filter((e) => e.help.audience === "all" || (role && e.help.audience === role));
  const adminOnes = entries.filter((e) => e.help.audience === "admin");
  const parts = [
    role && unitName ? INTRO[role](unitName) : "本群尚未绑定。请管理员先发送 `/绑定 街乡|部门|督办 <名称>`。",
    forHere.map((e) => line(e.help, e.names)).join("\n\n"),
  ];
  if (admin) parts.push(`**管理员命令**\n\n${adminOnes.map((e) => line(e.help, e.names)).join("\n\n")}`);
  else parts.push("设置类命令（绑定、别名、1+4、值班、管理员）仅管理员可用。");
  parts.push("命令前可以 @机器人；斜杠全角半角都可以；每个命令都有英文名。");
  return card(
    { title: "📖 吹哨报到 · 帮助", color: "blue", summary: "可用命令" },
    parts.map((p) => md(p)),
  );
}

export function registerHelp(bot: Bot): void {
  bot.command(
    ["帮助", "help"],
    async (ctx) => {
      const here = await chatUnit(ctx.tx, ctx.event.chatId);
      const admin = await isAdmin(ctx.tx, ctx.event.senderOpenId);
      ctx.out.replyCard(
        { messageId: ctx.event.messageId, chatId: ctx.event.chatId },
        helpCard(bot, here?.binding.role, here?.unit.name, admin),
      );
    },
    { usage: "/帮助", summary: "查看可用命令和示例（英文 /help）", audience: "all" },
  );
  bot.otherwise(async (ctx) => {
    ctx.out.replyText(
      { messageId: ctx.event.messageId, chatId: ctx.event.chatId },
      `没有“/${ctx.command.name}”这个命令。发送 /帮助 查看可用命令。`,
    );
  });
}
