import { chatUnit, isAdmin } from "../../db/queries/directory";
import { exportRows } from "../../db/queries/export";
import { parsePeriod, periodRange } from "../../domain/periods";
import { can } from "../../domain/permissions";
import { buildWorkbook } from "../export/workbook";
import type { Bot, CommandContext } from "../router";
import { refuse } from "./context";

/**
 * `/导出 [period]` (`/export`): the period's whistles, dispatches, ratings and scores as an .xlsx
 * file in this chat. Admins and oversight only. The upload goes through the outbox like every
 * other Lark call.
 */
async function exportCommand(ctx: CommandContext) {
  const here = await chatUnit(ctx.tx, ctx.event.chatId);
  const admin = await isAdmin(ctx.tx, ctx.event.senderOpenId);
  const d = can(
    {
      openId: ctx.event.senderOpenId,
      admin,
      streets: [],
      departments: [],
      oversight: here?.binding.role === "oversight",
    },
    "export",
  );
  if (!d.ok) {
    refuse(ctx, "导出", d.reason);
    return;
  }
  const [arg] = ctx.command.args.split(" ").filter(Boolean);
  const spec = arg ? parsePeriod(arg) : "this_month";
  if (!spec) {
    refuse(ctx, "导出", `看不懂期间“${arg}”。`, { usage: ["/导出 本月", "/导出 2026-11"] });
    return;
  }
  const range = periodRange(spec, ctx.now, ctx.tz);
  const bytes = await buildWorkbook(await exportRows(ctx.tx, range), ctx.tz, range.label);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  ctx.out.add({
    kind: "upload",
    messageId: ctx.event.messageId,
    chatId: ctx.event.chatId,
    fileName: `吹哨报到-${range.label}.xlsx`,
    fileType: "xls",
    base64: btoa(bin),
  });
}

export function registerExport(bot: Bot): void {
  bot.command(["导出", "export"], exportCommand, {
    usage: "/导出 [期间]",
    summary: "导出哨单、派单、评价和考核分（Excel），管理员和督办群可用",
    example: "/导出 上月",
    audience: "oversight",
  });
}
