import { directoryView } from "../../db/queries/directory";
import { directoryCard } from "../cards/directory";
import type { Bot } from "../router";
import { replyCard } from "./context";

/** `/目录` (`/directory`): the whole mapping of groups to streets, departments and oversight. */
export function registerDirectory(bot: Bot): void {
  bot.command(
    ["目录", "directory"],
    async (ctx) => {
      replyCard(ctx, directoryCard(await directoryView(ctx.tx), ctx.event.chatId));
    },
    { usage: "/目录", summary: "查看所有街乡、部门、督办群和管理员", audience: "all" },
  );
}
