import { duration, minutesBetween } from "../../domain/time";
import { type DispatchView, TYPE_LABEL, type WhistleView } from "../../domain/whistle";
import { button, type Card, card, type Element, form, hr, input, md } from "./kit";
import {
  at,
  counts,
  countsLine,
  dispatchLine,
  finalLines,
  headerColor,
  leftText,
  safe,
  statusTag,
  TYPE_ICON,
  truncate,
  when,
} from "./whistle-parts";

/**
 * The street's summary card (汇总卡片), a reply to the whistle command in the street chat: one row per
 * department, the counts, and the street's controls — 办结 / 撤销 (one form, input `text`) and 催办 while
 * some department has not reported in. Once resolved or cancelled: the final state, no buttons.
 *
 * Callbacks (`w` is the whistle id): form `close` submits `{ action: "resolve", w }` or
 * `{ action: "cancel", w }`; the 催办 button sends `{ action: "nudge", w }`.
 */
export function renderSummaryCard(w: WhistleView, now: Date, tz: string): Card {
  const open = w.status === "open";
  const c = counts(w, now);
  const els: Element[] = [md(facts(w, now, tz)), hr()];

  els.push(
    md([countsLine(c, w.status === "open"), ...w.dispatches.map((d) => row(w, d, now, tz))].join("\n")),
  );

  if (open) {
    els.push(
      hr(),
      form(
        "close",
        [input("text", { placeholder: "办结结果或撤销原因", maxLength: 500, required: true })],
        [
          {
            name: "close_resolve",
            label: "✅ 办结",
            value: { action: "resolve", w: w.id },
            type: "primary_filled",
          },
          {
            name: "close_cancel",
            label: "撤销",
            value: { action: "cancel", w: w.id },
            type: "danger",
            confirm: {
              title: "撤销这次吹哨？",
              text: "撤销后各部门卡片停止报到。请确认已在输入框填写撤销原因。",
            },
          },
        ],
      ),
    );
    if (c.pending > 0) {
      els.push(button(`📣 催办未报到部门（${c.pending}）`, { action: "nudge", w: w.id }, { width: "fill" }));
    }
    els.push(md("只有街乡能办结：事不完、人不撤。", { size: "notation" }));
  } else {
    els.push(hr(), md(finalLines(w, now, tz)));
  }

  const tags = [statusTag(w)];
  if (open && c.overdue) tags.push({ text: `超时 ${c.overdue}`, color: "red" });
  return card(
    {
      title: `${TYPE_ICON[w.type]} ${TYPE_LABEL[w.type]} · ${w.code}`,
      subtitle: `${w.street.name} · ${truncate(w.matter, 40)}`,
      color: headerColor(w),
      tags,
      summary: open
        ? `${w.code} 已报到 ${c.reported}/${c.total}${c.overdue ? `，超时 ${c.overdue}` : ""}`
        : `${w.code} ${w.status === "resolved" ? "已办结" : "已撤销"}`,
    },
    els,
  );
}

function facts(w: WhistleView, now: Date, tz: string): string {
  const lines = [`**事项**：${safe(w.matter)}`];
  if (w.place) lines.push(`**地点**：${safe(w.place)}`);
  lines.push(`**吹哨**：${at(w.whistlerOpenId)} · ${when(w.createdAt, now, tz)}`);
  let limit = `**时限**：${duration(w.limitMinutes)}内报到，${when(w.deadlineAt, now, tz)} 截止`;
  if (w.status === "open") {
    limit +=
      now < w.deadlineAt
        ? `（${leftText(w.deadlineAt, now)}）`
        : `（已过${duration(minutesBetween(w.deadlineAt, now))}）`;
  }
  lines.push(limit);
  return lines.join("\n");
}

/** A department's row, with its latest progress note beneath. */
function row(w: WhistleView, d: DispatchView, now: Date, tz: string): string {
  const line = dispatchLine(w, d, now, tz);
  const last = d.progress[d.progress.length - 1];
  if (!last) return line;
  return `${line}\n　💬 ${when(last.at, now, tz)} ${safe(truncate(last.note, 60))}`;
}
