import type { Bot } from "../router";

/** `/帮助` (`/help`): the commands this bot knows, with examples, built from their registrations. */
export function registerHelp(bot: Bot): void {
  bot.command(
    ["帮助", "help"],
    async (ctx) => {
      ctx.out.replyText({ messageId: ctx.event.messageId, chatId: ctx.event.chatId }, helpText(bot));
    },
    { usage: "/帮助", summary: "查看可用命令和示例（英文 /help）" },
  );
  bot.otherwise(async (ctx) => {
    ctx.out.replyText(
      { messageId: ctx.event.messageId, chatId: ctx.event.chatId },
      `没有“/${ctx.command.name}”这个命令。发送 /帮助 查看可用命令。`,
    );
  });
}

export function helpText(bot: Bot): string {
  const lines = ["吹哨报到 · 可用命令（命令前可 @机器人，斜杠全角半角均可）："];
  for (const { names, help } of bot.commandHelp()) {
    const aliases = names.slice(1).map((n) => `/${n}`);
    lines.push(`• ${help.usage} — ${help.summary}${aliases.length ? `（${aliases.join("、")}）` : ""}`);
    if (help.example) lines.push(`  例：${help.example}`);
  }
  return lines.join("\n");
}
