import { percent, type Ranked } from "../../domain/metrics";
import { duration } from "../../domain/time";
import { TYPE_LABEL, WHISTLE_TYPES, type WhistleType } from "../../domain/whistle";
import { type Card, card, chart, type Element, hr, md } from "./kit";
import { safe } from "./whistle-parts";

/** The morning digest for 督办: yesterday's whistles, who was late, the month's ranking, old open matters. */
export interface DigestInput {
  dayLabel: string;
  byType: ReadonlyMap<WhistleType, number>;
  late: { department: string; overdue: number }[];
  ranking: { monthLabel: string; ranked: Ranked[]; names: ReadonlyMap<number, string> };
  staleOpen: { code: string; street: string; matter: string; ageMinutes: number }[];
}

export function renderDigestCard(d: DigestInput): Card {
  const total = [...d.byType.values()].reduce((a, b) => a + b, 0);
  const els: Element[] = [
    md(
      `**昨日吹哨 ${total} 次**：${WHISTLE_TYPES.map((t) => `${TYPE_LABEL[t]} ${d.byType.get(t) ?? 0}`).join(" · ")}`,
    ),
    ...(total > 0
      ? [
          chart(
            {
              type: "bar",
              title: { visible: true, text: "昨日吹哨（按类型）" },
              data: [
                {
                  id: "types",
                  values: WHISTLE_TYPES.map((t) => ({ type: TYPE_LABEL[t], count: d.byType.get(t) ?? 0 })),
                },
              ],
              xField: "type",
              yField: "count",
              label: { visible: true },
            },
            { aspectRatio: "2:1" },
          ),
        ]
      : []),
    md(
      d.late.length
        ? `**超时未报到的部门**：${d.late.map((l) => `${safe(l.department)}（${l.overdue} 次）`).join("、")}`
        : "**超时未报到的部门**：无",
    ),
    hr(),
    md(
      `**${d.ranking.monthLabel}部门考核排名**\n${
        d.ranking.ranked.length
          ? d.ranking.ranked
              .slice(0, 10)
              .map(
                (r) =>
                  `${r.rank}. ${safe(d.ranking.names.get(r.id) ?? `#${r.id}`)} ${r.score ?? "—"} 分 · 响应 ${percent(r.metrics.responseRate)}`,
              )
              .join("\n")
          : "样本不足，暂无排名。"
      }`,
    ),
    hr(),
    md(
      d.staleOpen.length
        ? `**办理超过 3 天仍未办结**\n${d.staleOpen
            .slice(0, 20)
            .map(
              (s) =>
                `${s.code} · ${safe(s.street)} · ${safe(s.matter).slice(0, 40)} · 已 ${duration(s.ageMinutes)}`,
            )
            .join("\n")}`
        : "**办理超过 3 天仍未办结**：无",
    ),
  ];
  return card(
    {
      title: "🗞️ 吹哨报到 · 每日简报",
      subtitle: d.dayLabel,
      color: "blue",
      summary: `每日简报 ${d.dayLabel}`,
    },
    els,
  );
}
