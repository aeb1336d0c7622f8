import { duration } from "../../domain/time";
import {
  type CardWhistle,
  type DispatchView,
  NAMED_COLLEAGUES,
  TYPE_LABEL,
  VIEW_NOTES,
} from "../../domain/whistle";
import { button, type Card, card, columns, type Element, form, hr, input, md, type TagColor } from "./kit";
import {
  at,
  finalLines,
  headerColor,
  lateText,
  leftText,
  overdueMinutes,
  overdueText,
  red,
  safe,
  TYPE_ICON,
  tookMinutes,
  truncate,
  when,
} from "./whistle-parts";

/**
 * The card in a summoned department's card group (派单卡片): what, where, who whistled, the deadline, and the
 * big 报到 button. After the first report-in: who reported and when, colleagues who tapped too, 到场 and a
 * 进展 form. No button closes or leaves the matter (事不完、人不撤): only the street resolves. Once the
 * whistle is resolved or cancelled, the card shows the final state and no buttons.
 *
 * Callbacks: `{ action: "report_in", d }`, `{ action: "on_site", d }`, form `progress` (input `note`) with
 * `{ action: "progress", d }` — `d` is the dispatch id; each value also carries `w`, the whistle id,
 * so concurrent transactions can take their locks in one order (whistle, then dispatch).
 */
export function renderDepartmentCard(w: CardWhistle, d: DispatchView, now: Date, tz: string): Card {
  const open = w.status === "open";
  const over = overdueMinutes(w, d, now);
  const els: Element[] = [md(facts(w, d, now, tz))];

  if (d.state === "pending") {
    if (open) {
      els.push(md(pendingLine(d, over, now, tz)));
      els.push(
        button(
          "✋ 报到",
          { action: "report_in", d: d.id, w: w.id },
          {
            type: "primary_filled",
            width: "fill",
            size: "large",
          },
        ),
      );
    } else {
      els.push(md(over !== null ? red("**本部门超时未报到**") : "**本部门未报到**"));
    }
  } else {
    els.push(md(reportLines(w, d, now, tz)));
  }

  if (d.progress.length) els.push(md(progressLines(d, now, tz)));

  if (open && d.state !== "pending") {
    const row: Element[][] = [
      [button("✋ 我也报到", { action: "report_in", d: d.id, w: w.id }, { width: "fill" })],
    ];
    if (d.state === "reported") {
      row.push([
        button("📍 到场", { action: "on_site", d: d.id, w: w.id }, { type: "primary", width: "fill" }),
      ]);
    }
    els.push(...(row.length > 1 ? [columns(row)] : row.flat()));
    els.push(
      form(
        "progress",
        [
          input("note", {
            placeholder: "进展（200字以内），如：已到场，正在清理占道摊位",
            maxLength: 200,
            required: true,
          }),
        ],
        { label: "💬 报进展", value: { action: "progress", d: d.id, w: w.id }, type: "primary" },
      ),
    );
  }

  if (open) {
    els.push(md(`事不完、人不撤：由${safe(w.street.name)}确认办结后结束。`, { size: "notation" }));
  } else {
    els.push(hr(), md(finalLines(w, now, tz)));
  }

  return card(
    {
      title: `${TYPE_ICON[w.type]} ${TYPE_LABEL[w.type]} · ${w.street.name}吹哨`,
      subtitle: `${w.code} · ${d.department.name}`,
      color: headerColor(w),
      tags: [stateTag(w, d, over)],
      summary: previewText(w, d, over, now, tz),
    },
    els,
  );
}

function facts(w: CardWhistle, d: DispatchView, now: Date, tz: string): string {
  const lines = [`**事项**：${safe(w.matter)}`];
  if (w.place) lines.push(`**地点**：${safe(w.place)}`);
  lines.push(`**吹哨**：${safe(w.street.name)} ${at(w.whistlerOpenId)} · ${when(w.createdAt, now, tz)}`);
  if (w.dispatches.length > 1) {
    const names = w.dispatches.map((x) =>
      x.id === d.id ? `**${safe(x.department.name)}**` : safe(x.department.name),
    );
    lines.push(`**召集**：${names.join("、")}`);
  }
  return lines.join("\n");
}

function pendingLine(d: DispatchView, over: number | null, now: Date, tz: string): string {
  const deadline = when(d.deadlineAt, now, tz);
  if (over === null) return `⏰ 请于 **${deadline}** 前报到（${leftText(d.deadlineAt, now)}）`;
  const lines = [`${red(`**⏰ ${overdueText(over)}未报到**`)}（时限 ${deadline}）`];
  if (d.escalationCount > 0) lines.push(red(`已上报督办${d.escalationCount}次`));
  return lines.join("\n");
}

function reportLines(w: CardWhistle, d: DispatchView, now: Date, tz: string): string {
  const lines: string[] = [];
  const took = tookMinutes(w, d);
  const late = lateText(d);
  const by = d.reportedBy ? `${at(d.reportedBy)} ` : "";
  const time = d.reportedAt ? when(d.reportedAt, now, tz) : "";
  lines.push(
    `✅ **已报到**：${by}${time}${took !== null ? `（用时${duration(took)}）` : ""}${late ? ` ${red(late)}` : ""}`,
  );
  // Everyone who tapped after the department's report-in (reporters[0] is that report-in).
  // The first few by name, then a count: a card must stay under Lark's 30 KB however many tap.
  // A view carries the first few who tapped and the count of all (see `VIEW_REPORTERS`).
  const others = d.reporters.filter((r) => r.openId !== d.reportedBy);
  const othersCount = d.reporterCount - (d.reporters.length - others.length);
  if (othersCount > 0) {
    const shown = others.slice(0, NAMED_COLLEAGUES).map((r) => `${at(r.openId)} ${when(r.at, now, tz)}`);
    const more = othersCount - shown.length;
    lines.push(`🙋 **也已报到**：${shown.join("、")}${more > 0 ? ` 等，共 ${othersCount} 人` : ""}`);
  }
  if (d.state === "on_site") {
    const who = d.onSiteBy ? `${at(d.onSiteBy)} ` : "";
    lines.push(`📍 **已到场**：${who}${d.onSiteAt ? when(d.onSiteAt, now, tz) : ""}`);
  }
  return lines.join("\n");
}

function progressLines(d: DispatchView, now: Date, tz: string): string {
  const notes = d.progress.slice(-VIEW_NOTES);
  const lines = notes.map((p) => `• ${when(p.at, now, tz)} ${at(p.openId)}：${safe(p.note)}`);
  const more = d.progressCount - notes.length;
  return [
    `**进展**${more > 0 ? `（最近 ${notes.length} 条，共 ${d.progressCount} 条）` : ""}`,
    ...lines,
  ].join("\n");
}

function stateTag(w: CardWhistle, d: DispatchView, over: number | null): { text: string; color: TagColor } {
  if (w.status === "resolved") return { text: "已办结", color: "green" };
  if (w.status === "cancelled") return { text: "已撤销", color: "neutral" };
  if (d.state === "pending")
    return over !== null ? { text: "超时", color: "red" } : { text: "待报到", color: "orange" };
  if (d.lateMinutes && d.lateMinutes > 0) return { text: "迟到", color: "red" };
  return d.state === "on_site" ? { text: "已到场", color: "turquoise" } : { text: "已报到", color: "green" };
}

function previewText(w: CardWhistle, d: DispatchView, over: number | null, now: Date, tz: string): string {
  const what = `${w.street.name}吹哨：${truncate(w.matter, 30)}`;
  if (w.status === "resolved") return `已办结 · ${what}`;
  if (w.status === "cancelled") return `已撤销 · ${what}`;
  if (d.state !== "pending") return `${d.state === "on_site" ? "已到场" : "已报到"} · ${what}`;
  if (over !== null) return `超时未报到 · ${what}`;
  return `请于${when(d.deadlineAt, now, tz)}前报到 · ${what}`;
}
