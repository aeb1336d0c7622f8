import { addAdmin, listAdmins, removeAdmin } from "../../db/queries/directory";
import { doneCard } from "../cards/notice";
import type { Bot, CommandContext } from "../router";
import { person, refuse, rememberMentions, replyCard, requireAdmin } from "./context";

/** `/管理员 添加|移除 @某人` (`/admin add|remove`); `/管理员` alone lists them. */

const USAGE = ["/管理员 添加 @张三", "/管理员 移除 @张三", "/管理员"];

async function admin(ctx: CommandContext) {
  const title = "管理员";
  const [verb = ""] = ctx.command.args.split(" ");
  const add = ["添加", "增加", "add"].includes(verb.toLowerCase());
  const remove = ["移除", "删除", "remove"].includes(verb.toLowerCase());
  if (!add && !remove) {
    const list = await listAdmins(ctx.tx);
    replyCard(
      ctx,
      doneCard("管理员", [
        list.length
          ? list.map((a) => `${person(a.openId)}${a.source === "env" ? "（WHISTLE_ADMINS）" : ""}`).join("\n")
          : "尚无管理员：请在 WHISTLE_ADMINS 中配置。",
        `修改：\`${USAGE[0]}\``,
      ]),
    );
    return;
  }
  if (!(await requireAdmin(ctx, "manage_admins", title))) return;
  const targets = ctx.command.mentions;
  if (targets.length === 0) {
    refuse(ctx, title, "请 @ 要添加或移除的人。", { usage: USAGE });
    return;
  }
  await rememberMentions(ctx);
  const lines: string[] = [];
  if (add) {
    for (const t of targets) {
      const added = await addAdmin(ctx.tx, t.openId, ctx.event.senderOpenId);
      lines.push(added ? `已添加 ${person(t.openId)}` : `${person(t.openId)} 已经是管理员`);
    }
  } else {
    const list = await listAdmins(ctx.tx);
    let remaining = list.length;
    for (const t of targets) {
      const row = list.find((a) => a.openId === t.openId);
      if (!row) lines.push(`${person(t.openId)} 不是管理员`);
      else if (row.source === "env")
        lines.push(`${person(t.openId)} 由 WHISTLE_ADMINS 配置，需由运维修改环境变量`);
      else if (remaining <= 1) lines.push(`${person(t.openId)} 是最后一位管理员，不能移除`);
      else {
        await removeAdmin(ctx.tx, t.openId);
        remaining--;
        lines.push(`已移除 ${person(t.openId)}`);
      }
    }
  }
  replyCard(ctx, doneCard(title, lines));
}

export function registerAdmins(bot: Bot): void {
  bot.command(["管理员", "admin"], admin, {
    usage: "/管理员 添加|移除 @某人",
    summary: "添加或移除管理员（管理员）；不带参数查看名单",
    audience: "admin",
  });
}
