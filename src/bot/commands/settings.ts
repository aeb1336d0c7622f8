import { addAliases, chatUnit, dutyOf, forceSetOf, setDuty, setForceSet } from "../../db/queries/directory";
import { splitNames } from "../../domain/names";
import { doneCard } from "../cards/notice";
import type { Bot, CommandContext } from "../router";
import { person, refuse, rememberMentions, replyCard, requireAdmin } from "./context";
import { resolveDepartments } from "./resolve";

/** `/别名`, `/一加四`, `/值班`: the settings whistles rely on. Admins only. */

/** The one department `name` names, or undefined after answering what was wrong with it. */
async function oneDepartment(ctx: CommandContext, name: string, title: string, usage: string[]) {
  const { found, problems } = await resolveDepartments(ctx.tx, [name]);
  const unit = found[0];
  if (!unit) refuse(ctx, title, problems.join("\n"), { usage });
  return unit;
}

async function alias(ctx: CommandContext) {
  const title = "设置别名";
  const usage = ["/别名 城管执法队 城管,执法队"];
  if (!(await requireAdmin(ctx, "alias", title))) return;
  const [name = "", ...rest] = ctx.command.args.split(" ");
  const aliases = splitNames(rest.join(" "));
  if (!name || aliases.length === 0) {
    refuse(ctx, title, "请写出部门和至少一个别名。", { usage });
    return;
  }
  const unit = await oneDepartment(ctx, name, title, usage);
  if (!unit) return;
  const outcomes = await addAliases(ctx.tx, unit, aliases);
  const lines = [`**${unit.name}**`];
  const added = outcomes.filter((o) => o.status === "added").map((o) => o.alias);
  const had = outcomes.filter((o) => o.status === "exists").map((o) => o.alias);
  const taken = outcomes.flatMap((o) => (o.status === "taken" ? [`${o.alias}（已属于${o.by}）`] : []));
  if (added.length) lines.push(`新增别名：${added.join("、")}`);
  if (had.length) lines.push(`已有：${had.join("、")}`);
  if (taken.length) lines.push(`未添加：${taken.join("、")}`);
  if (added.length === 0) {
    refuse(ctx, title, lines.slice(1).join("\n") || "没有可添加的别名。", { usage });
    return;
  }
  replyCard(ctx, doneCard(title, lines));
}

async function forces(ctx: CommandContext) {
  const title = "设置“1+4”力量";
  const usage = ["/一加四 城管执法队,公安,消防,交通,市场监管"];
  const here = await chatUnit(ctx.tx, ctx.event.chatId);
  if (here?.binding.role !== "street") {
    refuse(ctx, title, "请在街乡工作群中发送：“1+4”是每个街乡自己的默认力量。", { usage });
    return;
  }
  const names = splitNames(ctx.command.args);
  if (names.length === 0) {
    const current = await forceSetOf(ctx.tx, here.unit.id);
    replyCard(
      ctx,
      doneCard(`${here.unit.name}的“1+4”`, [
        current.length ? current.map((u) => u.name).join("、") : "尚未设置。",
        "吹哨时写 `1+4` 即召集以上部门。",
      ]),
    );
    return;
  }
  if (!(await requireAdmin(ctx, "set_forces", title))) return;
  const { found, problems } = await resolveDepartments(ctx.tx, names);
  if (problems.length > 0) {
    refuse(ctx, title, problems.join("\n"), { usage, hint: "没有做任何修改。" });
    return;
  }
  await setForceSet(
    ctx.tx,
    here.unit.id,
    found.map((u) => u.id),
  );
  replyCard(
    ctx,
    doneCard(title, [
      `**${here.unit.name}** 的“1+4”：${[...new Set(found.map((u) => u.name))].join("、")}`,
      "吹哨时写 `1+4` 即召集以上部门，例如：`/吹哨 执法 1+4,房管 东直门内大街12号占道经营`",
    ]),
  );
}

async function duty(ctx: CommandContext) {
  const title = "设置值班人";
  const usage = ["/值班 城管执法队 @张三 @李四", "/值班 城管执法队", "/值班 城管执法队 清空"];
  const [name = "", ...rest] = ctx.command.args.split(" ");
  if (!name) {
    refuse(ctx, title, "请写出部门。", { usage });
    return;
  }
  const unit = await oneDepartment(ctx, name, title, usage);
  if (!unit) return;
  const clear = rest.some((w) => w === "清空" || w.toLowerCase() === "clear");
  if (ctx.command.mentions.length === 0 && !clear) {
    const current = await dutyOf(ctx.tx, unit.id);
    replyCard(
      ctx,
      doneCard(`${unit.name}的值班人`, [
        current.length ? current.map(person).join(" ") : "尚未设置。",
        `修改：\`${usage[0]}\``,
      ]),
    );
    return;
  }
  if (!(await requireAdmin(ctx, "set_duty", title))) return;
  await rememberMentions(ctx);
  const ids = clear ? [] : ctx.command.mentions.map((m) => m.openId);
  await setDuty(ctx.tx, unit.id, ids);
  replyCard(
    ctx,
    doneCard(title, [
      ids.length
        ? `**${unit.name}** 的值班人：${ids.map(person).join(" ")}\n部门超时未报到时，机器人会加急提醒他们。`
        : `已清空 **${unit.name}** 的值班人。`,
    ]),
  );
}

export function registerSettings(bot: Bot): void {
  bot.command(["别名", "alias"], alias, {
    usage: "/别名 <部门> <别名…>",
    summary: "给部门添加简称，吹哨时可用（管理员）",
    example: "/别名 公安 派出所,朝阳门派出所",
    audience: "admin",
  });
  bot.command(["一加四", "1+4", "forces"], forces, {
    usage: "/一加四 <部门,部门,…>",
    summary: "设置本街乡的“1+4”默认力量（管理员，在街乡群发送）",
    example: "/一加四 城管执法队,公安,消防,交通,市场监管",
    audience: "admin",
  });
  bot.command(["值班", "duty"], duty, {
    usage: "/值班 <部门> @某人…",
    summary: "设置部门超时未报到时加急提醒的值班人（管理员）",
    example: "/值班 城管执法队 @张三",
    audience: "admin",
  });
}
