import { dayClock, duration, minutesBetween } from "../../domain/time";
import { type TimelineEntry, TYPE_LABEL, type WhistleView } from "../../domain/whistle";
import { type Card, card, type Element, hr, md } from "./kit";
import { CARD_MAX_BYTES, CARD_MAX_COMPONENTS } from "./lint";
import {
  at,
  counts,
  countsLine,
  dispatchLine,
  endedAt,
  fitLines,
  headerColor,
  isOverdue,
  red,
  STATUS_LABEL,
  safe,
  statusTag,
  TYPE_ICON,
  truncate,
  when,
} from "./whistle-parts";

/** Room left for the body after the header and config (bytes), with a margin. */
const BODY_BUDGET = CARD_MAX_BYTES - 2 * 1024;
const size = (s: string) => new TextEncoder().encode(s).length;

/**
 * `/状态`: one block per whistle, in the order given (the caller puts overdue ones first): code, type,
 * street, matter, age, and each department's state — or, in a department chat (`departmentId`), only that
 * department's part. Read-only: no buttons. Blocks that would push the card past 30 KB are left out and counted.
 */
export function renderStatusList(
  title: string,
  whistles: WhistleView[],
  now: Date,
  tz: string,
  opts: { emptyText?: string; departmentId?: number } = {},
): Card {
  const els: Element[] = [];
  let overdue = 0;
  if (whistles.length === 0) {
    els.push(md(opts.emptyText ?? "没有进行中的吹哨。"));
  } else {
    let used = 0;
    let shown = 0;
    for (const w of whistles) {
      const text = block(w, now, tz, opts.departmentId);
      // Each block is a markdown and an hr (≈ 60 bytes of JSON around the text).
      if (used + size(text) + 80 > BODY_BUDGET || (shown + 1) * 2 > CARD_MAX_COMPONENTS - 4) break;
      if (shown > 0) els.push(hr());
      els.push(md(text));
      used += size(text) + 80;
      shown += 1;
    }
    if (shown < whistles.length) {
      els.push(
        hr(),
        md(`……另有 ${whistles.length - shown} 条未显示，可用 \`/状态 <编号>\` 查看单条。`, {
          size: "notation",
        }),
      );
    }
  }
  for (const w of whistles) {
    const ds = partOf(w, opts.departmentId);
    if (w.status === "open" && ds.some((d) => isOverdue(w, d, now))) overdue += 1;
  }
  return card(
    {
      title,
      color: overdue ? "red" : "blue",
      tags: overdue ? [{ text: `超时 ${overdue}`, color: "red" }] : [],
      summary: whistles.length
        ? `${title}：${whistles.length} 条${overdue ? `，${overdue} 条超时` : ""}`
        : title,
    },
    els,
  );
}

const partOf = (w: WhistleView, departmentId: number | undefined) =>
  departmentId === undefined ? w.dispatches : w.dispatches.filter((d) => d.department.id === departmentId);

function block(w: WhistleView, now: Date, tz: string, departmentId: number | undefined): string {
  const end = endedAt(w);
  const age =
    w.status === "open" || !end
      ? `${duration(minutesBetween(w.createdAt, now))}前吹哨`
      : `${STATUS_LABEL[w.status]} ${when(end, now, tz)}`;
  const head = [`${TYPE_ICON[w.type]} **${w.code}**`, TYPE_LABEL[w.type], safe(w.street.name), age];
  const lines = [head.join(" · ")];
  lines.push(`${safe(truncate(w.matter, 60))}${w.place ? `（${safe(truncate(w.place, 30))}）` : ""}`);
  const ds = partOf(w, departmentId);
  if (departmentId === undefined) lines.push(countsLine(counts(w, now), w.status === "open"));
  for (const d of ds) lines.push(dispatchLine(w, d, now, tz));
  return lines.join("\n");
}

/**
 * `/状态 <编号>`: one whistle's history — who whistled, every report-in, on-site, progress note, nudge,
 * resolve or cancel — each with its day and time. Read-only. A very long history keeps its start and its
 * end and says how many entries in between were left out.
 */
export function renderTimeline(w: WhistleView, timeline: TimelineEntry[], now: Date, tz: string): Card {
  const c = counts(w, now);
  const facts = [`**事项**：${safe(w.matter)}`];
  if (w.place) facts.push(`**地点**：${safe(w.place)}`);
  facts.push(`**状态**：${STATUS_LABEL[w.status]} · ${countsLine(c, w.status === "open")}`);

  const lines = timeline.map((e) => `**${dayClock(e.at, tz)}** ${entryText(w, e)}`);
  const head = size(JSON.stringify(facts)) + 512;
  const shown = fitLines(lines, BODY_BUDGET - head, (n) => `……中间 ${n} 条未显示……`);
  const els: Element[] = [md(facts.join("\n")), hr()];
  els.push(md(shown.length ? shown.join("\n") : "（暂无记录）"));

  return card(
    {
      title: `🕒 ${w.code} 时间线`,
      subtitle: `${TYPE_LABEL[w.type]} · ${w.street.name}`,
      color: headerColor(w),
      tags: [statusTag(w)],
      summary: `${w.code} 时间线（${timeline.length} 条）`,
    },
    els,
  );
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v.trim() !== "" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/**
 * One timeline entry in words. Optional data it reads: `note` / `text` (progress), `minutes` and `late`
 * (reported; else computed from the times / `lateMinutes`),
 * `departments` (nudged: names), `resolution` / `reason` / `text` (resolved, cancelled; else the whistle's own).
 */
function entryText(w: WhistleView, e: TimelineEntry): string {
  const who = e.actorOpenId ? at(e.actorOpenId) : "";
  const dept = e.departmentName ? `**${safe(e.departmentName)}**` : "";
  const actor = [dept, who].filter(Boolean).join(" ");
  const data = e.data ?? {};
  switch (e.kind) {
    case "whistled": {
      const names = w.dispatches.map((d) => safe(d.department.name)).join("、");
      return `📣 ${who} 吹哨${names ? `，召集 ${names}` : ""}`;
    }
    case "reported": {
      const took = num(data.minutes) ?? Math.max(0, minutesBetween(w.createdAt, e.at));
      const late = num(data.late) ?? num(data.lateMinutes);
      return `✅ ${actor} 报到（用时${duration(took)}）${late && late > 0 ? ` ${red(`迟到${duration(late)}`)}` : ""}`;
    }
    case "joined":
      return `🙋 ${actor} 也报到`;
    case "on_site":
      return `📍 ${actor} 到场`;
    case "progress": {
      const note = str(data.note) ?? str(data.text);
      return `💬 ${actor} 进展${note ? `：${safe(note)}` : ""}`;
    }
    case "nudged": {
      const list = Array.isArray(data.departments)
        ? data.departments.filter((x): x is string => typeof x === "string")
        : [];
      const whom = list.length ? list.map(safe).join("、") : dept;
      return `📣 ${who} 催办${whom ? ` ${whom}` : ""}`;
    }
    case "overdue":
      return `⏰ ${dept} ${red("超时未报到")}`;
    case "escalated":
      return `⚠️ ${dept} ${red("超时未报到，已上报督办")}`;
    case "resolved": {
      const text = str(data.resolution) ?? str(data.text) ?? w.resolution ?? undefined;
      return `🏁 ${who} 办结${text ? `：${safe(text)}` : ""}`;
    }
    case "cancelled": {
      const text = str(data.reason) ?? str(data.text) ?? w.cancelReason ?? undefined;
      return `🚫 ${who} 撤销${text ? `：${safe(text)}` : ""}`;
    }
    default:
      return `• ${[actor, safe(e.kind)].filter(Boolean).join(" ")}`;
  }
}
