import { inArray } from "drizzle-orm";
import { chatUnit, isAdmin } from "../../db/queries/directory";
import { dispatchFacts, type StatsScope, whistleTimes } from "../../db/queries/stats";
import { groupMetricsSql } from "../../db/queries/stats-aggregate";
import { units } from "../../db/schema";
import { DEFAULT_MIN_SAMPLE, groupMetrics, metricsOf, rank } from "../../domain/metrics";
import { type PeriodSpec, parsePeriod, periodRange } from "../../domain/periods";
import { localDay } from "../../domain/time";
import type { WhistleType } from "../../domain/whistle";
import { renderRankCard, renderStatsCard } from "../cards/stats-cards";
import type { Bot, CommandContext } from "../router";
import { refuse, replyCard } from "./context";

/**
 * `/统计 [今日|本周|本月|上月|YYYY-MM]` (`/stats`) and `/排名 [部门|街乡] [period]` (`/rank`): the
 * figures for the chat's scope — a street its own, a department its own, oversight and admins
 * everything — computed by the pure metrics in src/domain/metrics.ts.
 */

const PERIOD_USAGE = "期间可写：今日、本周、本月、上月、2026-11";

async function scopeOf(ctx: CommandContext): Promise<{ scope: StatsScope; name: string } | undefined> {
  const here = await chatUnit(ctx.tx, ctx.event.chatId);
  if (here?.binding.role === "street") return { scope: { streetId: here.unit.id }, name: here.unit.name };
  if (here?.binding.role === "department")
    return { scope: { departmentId: here.unit.id }, name: here.unit.name };
  if (here?.binding.role === "oversight" || (await isAdmin(ctx.tx, ctx.event.senderOpenId))) {
    return { scope: { all: true }, name: "全区" };
  }
  return undefined;
}

function periodFrom(text: string | undefined): PeriodSpec | undefined {
  return text ? parsePeriod(text) : "this_month";
}

async function unitNames(ctx: CommandContext, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await ctx.tx
    .select({ id: units.id, name: units.name })
    .from(units)
    .where(inArray(units.id, ids));
  return new Map(rows.map((r) => [r.id, r.name]));
}

async function stats(ctx: CommandContext) {
  const [arg] = ctx.command.args.split(" ").filter(Boolean);
  const spec = periodFrom(arg);
  if (!spec) {
    refuse(ctx, "统计", `看不懂期间“${arg}”。`, {
      hint: PERIOD_USAGE,
      usage: ["/统计 本月", "/统计 2026-11"],
    });
    return;
  }
  const where = await scopeOf(ctx);
  if (!where) {
    refuse(ctx, "统计", "本群还没有绑定：只有街乡、部门、督办群和管理员可以查看统计。");
    return;
  }
  const range = periodRange(spec, ctx.now, ctx.tz);
  const facts = await dispatchFacts(ctx.tx, range, where.scope);
  const byDept = groupMetrics(facts, "department");
  const names = await unitNames(ctx, [...byDept.keys()]);
  const daily = new Map<string, number>();
  for (const w of await whistleTimes(ctx.tx, range, where.scope)) {
    const key = `${localDay(w.at, ctx.tz).slice(5)}|${w.type}`;
    daily.set(key, (daily.get(key) ?? 0) + 1);
  }
  replyCard(
    ctx,
    renderStatsCard({
      scopeName: where.name,
      periodLabel: range.label,
      total: metricsOf(facts),
      departments: [...byDept].map(([id, metrics]) => ({ name: names.get(id) ?? `#${id}`, metrics })),
      daily: [...daily]
        .map(([k, count]) => {
          const [day = "", type] = k.split("|");
          return { day, type: type as WhistleType, count };
        })
        .sort((a, b) => a.day.localeCompare(b.day)),
    }),
  );
}

async function ranking(ctx: CommandContext) {
  const words = ctx.command.args.split(" ").filter(Boolean);
  const what = words.some((w) => ["街乡", "街道", "street", "streets"].includes(w.toLowerCase()))
    ? "街乡"
    : "部门";
  const periodWord = words.find(
    (w) =>
      !["部门", "街乡", "街道", "department", "departments", "street", "streets"].includes(w.toLowerCase()),
  );
  const spec = periodFrom(periodWord);
  if (!spec) {
    refuse(ctx, "排名", `看不懂期间“${periodWord}”。`, {
      hint: PERIOD_USAGE,
      usage: ["/排名 部门 本月", "/排名 街乡 上月"],
    });
    return;
  }
  const where = await scopeOf(ctx);
  if (!where) {
    refuse(ctx, "排名", "本群还没有绑定：只有街乡、部门、督办群和管理员可以查看排名。");
    return;
  }
  const range = periodRange(spec, ctx.now, ctx.tz);
  // A ranking compares units: it is computed over the district, whoever asks — in SQL (one GROUP BY).
  const groups = await groupMetricsSql(ctx.tx, range, what === "街乡" ? "street" : "department");
  const { ranked, unranked } = rank(groups);
  replyCard(
    ctx,
    renderRankCard({
      what,
      periodLabel: range.label,
      names: await unitNames(ctx, [...groups.keys()]),
      ranked,
      unranked,
      groups,
      minSample: DEFAULT_MIN_SAMPLE,
    }),
  );
}

export function registerStats(bot: Bot): void {
  bot.command(["统计", "stats"], stats, {
    usage: "/统计 [今日|本周|本月|上月|YYYY-MM]",
    summary: "响应率、解决率、满意率、考核分和图表：街乡群看本街乡，部门群看本部门，督办群和管理员看全区",
    example: "/统计 本月",
    audience: "all",
  });
  bot.command(["排名", "rank"], ranking, {
    usage: "/排名 [部门|街乡] [期间]",
    summary: "按考核分排名（样本不足 3 次不排名），并列出召集次数前十",
    example: "/排名 街乡 上月",
    audience: "all",
  });
}
