import { chatUnit, isAdmin } from "../../db/queries/directory";
import { openWhistleIds, timelineOf, whistleIdByCode, whistleViews } from "../../db/queries/whistles";
import { isOverdue, normalizeCode, type WhistleView } from "../../domain/whistle";
import { renderStatusList, renderTimeline } from "../cards/status-cards";
import type { Bot, CommandContext } from "../router";
import { refuse, replyCard } from "./context";

/**
 * `/状态` (`/status`): what is open, seen from where it is asked — a street its own whistles, a
 * department all its open dispatches across streets (its load), oversight everything, overdue
 * first. `/状态 <编号>`: one whistle with its full timeline.
 */

const overdueFirst = (now: Date) => (a: WhistleView, b: WhistleView) => {
  const ao = a.dispatches.some((d) => isOverdue(d, now)) ? 0 : 1;
  const bo = b.dispatches.some((d) => isOverdue(d, now)) ? 0 : 1;
  return ao - bo || a.createdAt.getTime() - b.createdAt.getTime();
};

async function status(ctx: CommandContext) {
  const here = await chatUnit(ctx.tx, ctx.event.chatId);
  const arg = ctx.command.args.split(" ")[0] ?? "";
  if (arg) {
    const code = normalizeCode(arg);
    const id = code ? await whistleIdByCode(ctx.tx, code) : undefined;
    if (!id) {
      refuse(ctx, "查询哨单", `找不到哨单“${arg}”。`, {
        hint: "编号形如 W261127-03，见哨单卡片标题。",
        usage: ["/状态 W261127-03"],
      });
      return;
    }
    const [w] = await whistleViews(ctx.tx, [id]);
    if (!w) return;
    const allowed =
      (here?.binding.role === "street" && here.unit.id === w.street.id) ||
      (here?.binding.role === "department" && w.dispatches.some((d) => d.department.id === here.unit.id)) ||
      here?.binding.role === "oversight" ||
      (await isAdmin(ctx.tx, ctx.event.senderOpenId));
    if (!allowed) {
      refuse(ctx, "查询哨单", "只有该哨单的街乡、被召集部门、督办中心和管理员可以查看。");
      return;
    }
    replyCard(ctx, renderTimeline(w, await timelineOf(ctx.tx, w.id), ctx.now, ctx.tz));
    return;
  }
  if (!here) {
    if (await isAdmin(ctx.tx, ctx.event.senderOpenId)) {
      const all = await whistleViews(ctx.tx, await openWhistleIds(ctx.tx, { all: true }, 30));
      replyCard(ctx, renderStatusList("全部进行中的哨单", all.sort(overdueFirst(ctx.now)), ctx.now, ctx.tz));
      return;
    }
    refuse(ctx, "查询状态", "本群还没有绑定，不知道要查哪里的哨单。", {
      hint: "在街乡、部门或督办群里发送 /状态。",
    });
    return;
  }
  const empty = { emptyText: "目前没有进行中的哨单。" };
  switch (here.binding.role) {
    case "street": {
      const list = await whistleViews(ctx.tx, await openWhistleIds(ctx.tx, { streetId: here.unit.id }));
      replyCard(ctx, renderStatusList(`${here.unit.name} · 进行中的哨单`, list, ctx.now, ctx.tz, empty));
      return;
    }
    case "department": {
      const list = await whistleViews(ctx.tx, await openWhistleIds(ctx.tx, { departmentId: here.unit.id }));
      replyCard(
        ctx,
        renderStatusList(
          `${here.unit.name} · 手上的事项`,
          list.sort(overdueFirst(ctx.now)),
          ctx.now,
          ctx.tz,
          Object.assign({}, empty, { departmentId: here.unit.id }),
        ),
      );
      return;
    }
    case "oversight": {
      const list = await whistleViews(ctx.tx, await openWhistleIds(ctx.tx, { all: true }, 30));
      replyCard(
        ctx,
        renderStatusList(
          "全区进行中的哨单（超时优先）",
          list.sort(overdueFirst(ctx.now)),
          ctx.now,
          ctx.tz,
          empty,
        ),
      );
      return;
    }
  }
}

export function registerStatus(bot: Bot): void {
  bot.command(["状态", "status"], status, {
    usage: "/状态 [编号]",
    summary:
      "街乡群：本街乡进行中的哨单；部门群：本部门手上的事项；督办群：全部（超时优先）；带编号：完整时间线",
    example: "/状态 W261127-03",
    audience: "all",
  });
}
