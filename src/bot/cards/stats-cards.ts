import { assessmentScore, type Metrics, percent, type Ranked, topByVolume } from "../../domain/metrics";
import { TYPE_LABEL, type WhistleType } from "../../domain/whistle";
import { type Card, card, chart, type Element, hr, md } from "./kit";
import { safe } from "./whistle-parts";

/**
 * /统计 and /排名 as cards: the figures the district is assessed on (响应率, 解决率, 满意率, 考核分),
 * with VChart charts (data only). Pure renders of computed metrics.
 */

const minutes = (m: number | null) => (m === null ? "—" : `${Math.round(m)}分钟`);

function figures(m: Metrics): string {
  return [
    `召集 **${m.summoned}** 次 · 报到 ${m.reported}（按时 ${m.reportedOnTime}）`,
    `**响应率** ${percent(m.responseRate)} · 报到率 ${percent(m.reportRate)} · 平均报到 ${minutes(m.avgMinutesToReport)}（P90 ${minutes(m.p90MinutesToReport)}）`,
    `**解决率** ${percent(m.resolutionRate)} · **满意率** ${percent(m.satisfactionRate)}（已评 ${m.rated}）· 否决 ${m.vetoes}`,
    `**考核分** ${assessmentScore(m) ?? "—"}`,
  ].join("\n");
}

export interface StatsCardInput {
  scopeName: string;
  periodLabel: string;
  total: Metrics;
  /** Per department, named: for the on-time chart. */
  departments: { name: string; metrics: Metrics }[];
  /** Whistles per display-zone day and type: for the daily chart. */
  daily: { day: string; type: WhistleType; count: number }[];
}

export function renderStatsCard(s: StatsCardInput): Card {
  const els: Element[] = [md(figures(s.total))];
  const withData = s.departments.filter((d) => d.metrics.summoned > 0);
  if (withData.length > 0) {
    els.push(hr());
    els.push(
      chart({
        type: "bar",
        title: { visible: true, text: "按时报到率（%）" },
        data: [
          {
            id: "ontime",
            values: withData.map((d) => ({
              department: d.name,
              rate: Math.round((d.metrics.responseRate ?? 0) * 1000) / 10,
            })),
          },
        ],
        xField: "department",
        yField: "rate",
        label: { visible: true },
      }),
    );
  }
  if (s.daily.length > 0) {
    els.push(
      chart({
        type: "bar",
        title: { visible: true, text: "每日吹哨（按类型）" },
        data: [
          {
            id: "daily",
            values: s.daily.map((d) => ({ day: d.day, type: TYPE_LABEL[d.type], count: d.count })),
          },
        ],
        xField: "day",
        yField: "count",
        seriesField: "type",
        stack: true,
        legends: { visible: true },
      }),
    );
  }
  if (withData.length === 0 && s.daily.length === 0) els.push(md("这段时间没有吹哨。"));
  els.push(
    md(
      "响应率 = 按时报到 ÷ 召集；解决率 = 已办结哨单的派单 ÷ 未撤销哨单的派单；满意率 = (满意 + 基本满意) ÷ 已评价；考核分 = 40% 响应率 + 30% 解决率 + 30% 满意率，有否决的最高 60 分。已撤销的哨单不计。",
      { size: "notation" },
    ),
  );
  return card(
    {
      title: `📊 统计 · ${s.scopeName}`,
      subtitle: s.periodLabel,
      color: "blue",
      summary: `${s.scopeName} ${s.periodLabel} 统计`,
    },
    els,
  );
}

export interface RankCardInput {
  what: "部门" | "街乡";
  periodLabel: string;
  names: ReadonlyMap<number, string>;
  ranked: Ranked[];
  unranked: { id: number; metrics: Metrics }[];
  groups: ReadonlyMap<number, Metrics>;
  minSample: number;
}

export function renderRankCard(r: RankCardInput): Card {
  const name = (id: number) => safe(r.names.get(id) ?? `#${id}`);
  const rows = r.ranked.map(
    (x) =>
      `**${x.rank}. ${name(x.id)}** · ${x.score ?? "—"} 分 · 响应 ${percent(x.metrics.responseRate)} · 解决 ${percent(x.metrics.resolutionRate)} · 满意 ${percent(x.metrics.satisfactionRate)} · ${x.metrics.summoned} 次${x.metrics.vetoes ? ` · 否决 ${x.metrics.vetoes}` : ""}`,
  );
  const els: Element[] = [md(rows.length ? rows.slice(0, 30).join("\n") : "这段时间没有可排名的数据。")];
  const scored = r.ranked.filter((x) => x.score !== null).slice(0, 15);
  if (scored.length > 0) {
    els.push(
      chart(
        {
          type: "bar",
          title: { visible: true, text: "考核分" },
          data: [
            {
              id: "scores",
              values: scored.map((x) => ({ name: r.names.get(x.id) ?? `#${x.id}`, score: x.score })),
            },
          ],
          xField: "name",
          yField: "score",
          label: { visible: true },
        },
        { aspectRatio: "2:1" },
      ),
    );
  }
  if (r.unranked.length > 0) {
    els.push(
      md(
        `样本不足 ${r.minSample} 次、暂不排名：${r.unranked.map((u) => `${name(u.id)}（${u.metrics.summoned}）`).join("、")}`,
        { size: "notation" },
      ),
    );
  }
  const top = topByVolume(r.groups, 10);
  if (top.length > 0) {
    els.push(hr());
    els.push(
      md(
        `**召集次数前十**\n${top.map((t) => `${t.rank}. ${name(t.id)} ${t.metrics.summoned} 次`).join("\n")}`,
      ),
    );
  }
  return card(
    {
      title: `🏆 ${r.what}排名`,
      subtitle: r.periodLabel,
      color: "orange",
      summary: `${r.what}排名 · ${r.periodLabel}`,
    },
    els,
  );
}
