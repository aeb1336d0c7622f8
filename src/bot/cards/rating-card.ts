import { choiceOf, type ExistingRating, RATING_CHANGE_WINDOW_MS, RATING_LABEL } from "../../domain/rating";
import type { WhistleView } from "../../domain/whistle";
import { type Card, card, type Element, form, input, md, select } from "./kit";
import { dispatchLine, safe } from "./whistle-parts";

/**
 * The street's rating card, sent when a whistle is resolved: each department's part in one line,
 * its current rating, and a form to rate (满意 / 基本满意 / 不满意 / 否决 with a reason) while the
 * ratings can still be changed (24 h). Callback: form `rate` → `{ action: "rate", w }` with
 * `level_<dispatch id>` and `note_<dispatch id>`.
 */
export function renderRatingCard(
  w: WhistleView,
  ratings: ReadonlyMap<number, ExistingRating>,
  now: Date,
  tz: string,
): Card {
  const open = (id: number) => {
    const r = ratings.get(id);
    return !r || now.getTime() - r.ratedAt.getTime() <= RATING_CHANGE_WINDOW_MS;
  };
  const lines = w.dispatches.map((d) => {
    const r = ratings.get(d.id);
    const rated = r
      ? r.veto
        ? `**否决**：${safe(r.vetoReason ?? "")}`
        : `**${RATING_LABEL[r.level]}**${r.comment ? `：${safe(r.comment)}` : ""}`
      : "待评价";
    return `**${safe(d.department.name)}** · ${rated}\n${dispatchLine(w, d, now, tz)}`;
  });
  const items: Element[] = w.dispatches
    .filter((d) => open(d.id))
    .flatMap((d) => {
      const r = ratings.get(d.id);
      return [
        select(
          `level_${d.id}`,
          (["satisfied", "basic", "unsatisfied", "veto"] as const).map((c) => ({
            label: `${d.department.name} · ${RATING_LABEL[c]}`,
            value: c,
          })),
          { placeholder: `评价${d.department.name}`, initial: r ? choiceOf(r) : undefined },
        ),
        input(`note_${d.id}`, {
          placeholder: `对${d.department.name}的意见（选“否决”时必须填写理由）`,
          maxLength: 500,
        }),
      ];
    });
  const rated = w.dispatches.filter((d) => ratings.has(d.id)).length;
  const elements: Element[] = [md(lines.join("\n\n"))];
  if (items.length > 0) {
    elements.push(form("rate", items, { label: "提交评价", value: { action: "rate", w: w.id } }));
    elements.push(md("评价提交后 24 小时内可以修改，之后为最终评价，计入部门考核。", { size: "notation" }));
  } else {
    elements.push(md("评价已定，计入部门考核。", { size: "notation" }));
  }
  return card(
    {
      title: `⭐ 评价 · ${w.code}`,
      subtitle: `${w.street.name} · ${w.matter}`.slice(0, 60),
      color: rated === w.dispatches.length ? "green" : "wathet",
      summary: `请评价 ${w.code} 的各部门表现（已评 ${rated}/${w.dispatches.length}）`,
      tags: [
        {
          text: `已评 ${rated}/${w.dispatches.length}`,
          color: rated === w.dispatches.length ? "green" : "blue",
        },
      ],
    },
    elements,
  );
}
