import { DEFAULT_LIMIT_MINUTES, TYPE_LABEL, WHISTLE_TYPES, type WhistleType } from "../../domain/whistle";
import { type Card, card, type Element, form, input, md, multiSelect, select } from "./kit";
import { safe, TYPE_ICON } from "./whistle-parts";

export interface WhistleFormOptions {
  streetId: number;
  streetName: string;
  /** Departments that can be summoned (those with a card group). */
  departments: { id: number; name: string }[];
  /** The street's 1+4: pre-selected unless `prefill.departmentIds` says otherwise. */
  forceSetIds: number[];
  /** What was wrong with the typed command, shown at the top. */
  problem?: string;
  prefill?: {
    type?: WhistleType;
    departmentIds?: number[];
    matter?: string;
    place?: string;
    limitMinutes?: number;
  };
}

/**
 * The whistle form (吹哨表单): the answer to `/吹哨` alone or with something unparseable. Form `whistle`:
 * select `type`, multi-select `departments` (ids as strings), inputs `place`, `matter`, `limit` (minutes);
 * submit `{ action: "whistle_form", s: <street id> }`.
 */
export function renderWhistleForm(o: WhistleFormOptions): Card {
  const p = o.prefill ?? {};
  const known = new Set(o.departments.map((d) => d.id));
  const chosen = (p.departmentIds ?? o.forceSetIds).filter((id) => known.has(id)).map(String);

  const els: Element[] = [];
  if (o.problem) els.push(md(`⚠️ **${safe(o.problem)}**\n请在下面补全后点“吹哨”。`));
  else els.push(md("填写后点 **吹哨**：所选部门的群会收到报到卡片，须在时限内报到。"));

  const items: Element[] = [
    md("**哨种**"),
    select(
      "type",
      WHISTLE_TYPES.map((t) => ({ label: `${TYPE_ICON[t]} ${TYPE_LABEL[t]}`, value: t })),
      { initial: p.type ?? "enforcement", required: true },
    ),
    md(o.forceSetIds.length ? "**召集部门**（已预选本街乡的 1+4 力量）" : "**召集部门**"),
  ];
  if (o.departments.length) {
    items.push(
      multiSelect(
        "departments",
        o.departments.map((d) => ({ label: d.name, value: String(d.id) })),
        { placeholder: "选择要召集的部门", initial: chosen, required: true },
      ),
    );
  } else {
    items.push(md("目录里还没有可召集的部门（部门群需先 `/绑定 部门 …`）。", { size: "notation" }));
  }
  items.push(
    input("place", {
      label: "地点",
      placeholder: "如：朝阳门内大街 81 号门前",
      maxLength: 100,
      value: p.place,
    }),
    input("matter", {
      label: "事项",
      placeholder: "要处置的问题，如：占道经营反弹，需联合执法",
      maxLength: 500,
      required: true,
      multiline: true,
      value: p.matter,
    }),
    input("limit", {
      label: "报到时限（分钟）",
      placeholder: String(DEFAULT_LIMIT_MINUTES),
      maxLength: 4,
      value: String(p.limitMinutes ?? DEFAULT_LIMIT_MINUTES),
    }),
  );
  els.push(form("whistle", items, { label: "📣 吹哨", value: { action: "whistle_form", s: o.streetId } }));

  return card(
    {
      title: "📣 吹哨",
      subtitle: o.streetName,
      color: o.problem ? "orange" : "blue",
      summary: o.problem ? `吹哨：${o.problem}` : "填写吹哨表单",
    },
    els,
  );
}
