import { type DispatchView, TYPE_LABEL, type WhistleView } from "../../domain/whistle";
import { button, type Card, card, md } from "./kit";
import { at, overdueMinutes, overdueText, red, safe, TYPE_ICON, when } from "./whistle-parts";

/**
 * The card 督办 (oversight) receives when departments miss the report-in deadline: which street,
 * what matter, which departments are late and by how much, the duty contacts who were buzzed, and a
 * way back to the whole whistle. `round` 1 is the deadline itself; later rounds are repeats.
 */
export function renderEscalationCard(
  w: WhistleView,
  overdue: DispatchView[],
  round: number,
  duty: Map<number, string[]>,
  now: Date,
  tz: string,
): Card {
  const lines = overdue.map((d) => {
    const late = overdueMinutes(w, d, now) ?? 0;
    const contacts = duty.get(d.department.id) ?? [];
    return `• **${safe(d.department.name)}** ${red(overdueText(late))}未报到${contacts.length ? ` · 值班 ${contacts.map(at).join(" ")}` : " · 未设置值班人"}`;
  });
  const facts = [
    `**${safe(w.street.name)}** ${when(w.createdAt, now, tz)} 吹哨 · ${TYPE_LABEL[w.type]} **${w.code}**`,
    `事项：${safe(w.matter)}`,
    ...(w.place ? [`地点：${safe(w.place)}`] : []),
    `吹哨人：${at(w.whistlerOpenId)} · 报到时限 ${w.limitMinutes} 分钟`,
  ];
  return card(
    {
      title: `🚨 督办：${overdue.length} 个部门超时未报到`,
      subtitle: `${w.street.name} · ${w.code}${round > 1 ? ` · 第 ${round} 次提醒` : ""}`,
      color: "red",
      summary: `督办 ${w.code}：${overdue.map((d) => d.department.name).join("、")} 超时未报到`,
      tags: [{ text: round > 1 ? `第${round}次` : "超时", color: "red" }],
    },
    [
      md(facts.join("\n")),
      md(lines.join("\n")),
      button(`${TYPE_ICON[w.type]} 查看哨单时间线`, { action: "timeline", w: w.id }, { type: "primary" }),
      md(`也可发送 \`/状态 ${w.code}\` 查看。`, { size: "notation" }),
    ],
  );
}
