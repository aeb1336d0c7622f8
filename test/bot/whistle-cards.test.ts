import { describe, expect, it } from "vitest";
import { renderDepartmentCard } from "../../src/bot/cards/department-card";
import { form } from "../../src/bot/cards/kit";
import { lintCard } from "../../src/bot/cards/lint";
import { renderStatusList, renderTimeline } from "../../src/bot/cards/status-cards";
import { renderSummaryCard } from "../../src/bot/cards/summary-card";
import { renderWhistleForm } from "../../src/bot/cards/whistle-form";
import {
  type DispatchView,
  type TimelineEntry,
  VIEW_REPORTERS,
  type WhistleView,
} from "../../src/domain/whistle";

/*
 * Fixtures: one enforcement whistle from 朝阳门街道 at 14:05 Beijing time (06:05 UTC) summoning three
 * departments with a 30-minute limit (deadline 14:35). The server's own zone is left as it is: every clock
 * string asserted below is Shanghai time, so a UTC rendering ("06:35") would fail.
 */

const TZ = "Asia/Shanghai";
/** A moment on 2026-11-27, Beijing time. */
const bj = (hhmm: string, day = 27) => new Date(`2026-11-${day}T${hhmm}:00+08:00`);

type Json = Record<string, unknown>;

const DEPARTMENT_IDS: Record<string, number> = { 城管执法队: 11, 公安: 12, 消防: 13 };

function dispatch(id: number, name: string, extra: Partial<DispatchView> = {}): DispatchView {
  const d: Omit<DispatchView, "reporterCount" | "progressCount"> = {
    id,
    department: { id: DEPARTMENT_IDS[name] ?? 100 + id, name },
    chatId: `oc_dept_${id}`,
    cardMessageId: `om_card_${id}`,
    state: "pending",
    deadlineAt: bj("14:35"),
    reportedAt: null,
    reportedBy: null,
    lateMinutes: null,
    reporters: [],
    onSiteAt: null,
    onSiteBy: null,
    overdueAt: null,
    escalationCount: 0,
    progress: [],
    ...extra,
  };
  return {
    ...d,
    reporterCount: extra.reporterCount ?? d.reporters.length,
    progressCount: extra.progressCount ?? d.progress.length,
  };
}

const pending = () => [dispatch(1, "城管执法队"), dispatch(2, "公安"), dispatch(3, "消防")];

/** 城管 reported at 14:12 and is on site since 14:20 with two notes. */
const chengguanOnSite = (): DispatchView =>
  dispatch(1, "城管执法队", {
    state: "on_site",
    reportedAt: bj("14:12"),
    reportedBy: "ou_cg1",
    reporters: [{ openId: "ou_cg1", at: bj("14:12") }],
    onSiteAt: bj("14:20"),
    onSiteBy: "ou_cg1",
    progress: [
      { openId: "ou_cg1", note: "已到场，正在劝离占道摊位", at: bj("14:25") },
      { openId: "ou_cg2", note: "摊位已清 3 处，剩 2 处 *今晚* 处理", at: bj("14:40") },
    ],
  });

/** 公安 reported 3 minutes late (14:38) and two colleagues tapped after. */
const gonganLate = (): DispatchView =>
  dispatch(2, "公安", {
    state: "reported",
    reportedAt: bj("14:38"),
    reportedBy: "ou_ga1",
    lateMinutes: 3,
    reporters: [
      { openId: "ou_ga1", at: bj("14:38") },
      { openId: "ou_ga2", at: bj("14:40") },
      { openId: "ou_ga3", at: bj("14:41") },
    ],
  });

/** 公安 reported on time at 14:12. */
const gonganOnTime = (): DispatchView =>
  dispatch(2, "公安", {
    state: "reported",
    reportedAt: bj("14:12"),
    reportedBy: "ou_ga1",
    lateMinutes: null,
    reporters: [{ openId: "ou_ga1", at: bj("14:12") }],
  });

function whistle(extra: Partial<WhistleView> = {}, dispatches: DispatchView[] = pending()): WhistleView {
  return {
    id: 42,
    code: "W20261127-003",
    type: "enforcement",
    matter: "朝阳门内大街占道经营反弹，需联合执法",
    place: "朝阳门内大街 81 号门前",
    street: { id: 5, name: "朝阳门街道", chatId: "oc_street" },
    whistlerOpenId: "ou_whistler",
    status: "open",
    limitMinutes: 30,
    createdAt: bj("14:05"),
    deadlineAt: bj("14:35"),
    resolvedAt: null,
    resolvedBy: null,
    resolution: null,
    cancelledAt: null,
    cancelledBy: null,
    cancelReason: null,
    summaryMessageId: "om_summary",
    dispatches,
    ...extra,
  };
}

const resolved = (dispatches: DispatchView[]) =>
  whistle(
    {
      status: "resolved",
      resolvedAt: bj("15:30"),
      resolvedBy: "ou_whistler",
      resolution: "摊位全部清离，设置隔离护栏",
    },
    dispatches,
  );

const cancelled = (dispatches: DispatchView[] = pending()) =>
  whistle(
    {
      status: "cancelled",
      cancelledAt: bj("14:10"),
      cancelledBy: "ou_whistler",
      cancelReason: "误报：摊贩已自行离开",
    },
    dispatches,
  );

/** Every object with a string `tag` in the card, depth first. */
function components(node: unknown, out: Json[] = []): Json[] {
  if (Array.isArray(node)) for (const x of node) components(x, out);
  else if (node && typeof node === "object") {
    const o = node as Json;
    if (typeof o.tag === "string") out.push(o);
    for (const v of Object.values(o)) components(v, out);
  }
  return out;
}
const buttons = (c: unknown) => components(c).filter((e) => e.tag === "button");
/** The callback values of every button. */
const actions = (c: unknown) =>
  buttons(c).flatMap((b) => ((b.behaviors as Json[] | undefined) ?? []).map((x) => x.value as Json));
const markdown = (c: unknown) =>
  components(c)
    .filter((e) => e.tag === "markdown")
    .map((e) => e.content as string)
    .join("\n");
const header = (c: { header?: Json }) => c.header as Json & { template: string; text_tag_list?: Json[] };
const tagTexts = (c: { header?: Json }) =>
  (header(c).text_tag_list ?? []).map((t) => `${(t.text as Json).content}:${t.color}`);
const formNamed = (c: unknown, name: string) =>
  components(c).find((e) => e.tag === "form" && e.name === name) as Json | undefined;

/** Lint clean, snapshot, and no department card ever lets the department close the matter. */
function check(c: ReturnType<typeof renderDepartmentCard>, department = false) {
  expect(lintCard(c)).toEqual([]);
  expect(c).toMatchSnapshot();
  if (department) {
    for (const a of actions(c)) expect(["resolve", "cancel", "nudge"]).not.toContain(a.action);
  }
  return c;
}

describe("department card", () => {
  it("pending, just whistled: the big 报到 button and the deadline in Shanghai time", () => {
    const w = whistle();
    const c = check(renderDepartmentCard(w, w.dispatches[0] as DispatchView, bj("14:05"), TZ), true);
    const [report] = buttons(c);
    expect(actions(c)).toEqual([{ action: "report_in", d: 1, w: w.id }]);
    expect(report).toMatchObject({ type: "primary_filled", width: "fill", size: "large" });
    expect(report?.text).toMatchObject({ content: expect.stringContaining("报到") });
    const text = markdown(c);
    expect(text).toContain("**14:35**");
    expect(text).toContain("还剩30分钟");
    expect(text).toContain("<at id=ou_whistler></at>");
    expect(text).toContain("14:05");
    expect(text).not.toContain("06:35");
    expect(header(c).template).toBe("orange");
    expect(tagTexts(c)).toEqual(["待报到:orange"]);
    expect(formNamed(c, "progress")).toBeUndefined();
  });

  it("pending with minutes left, rounded down", () => {
    const w = whistle();
    const c = check(
      renderDepartmentCard(w, w.dispatches[1] as DispatchView, new Date(bj("14:23").getTime() + 30_000), TZ),
      true,
    );
    expect(markdown(c)).toContain("还剩11分钟");
    expect(actions(c)).toEqual([{ action: "report_in", d: 2, w: w.id }]);
  });

  it("overdue: 超时 in red with minutes late, escalation shown, still reportable", () => {
    const w = whistle({}, [
      chengguanOnSite(),
      gonganOnTime(),
      dispatch(3, "消防", { overdueAt: bj("14:35"), escalationCount: 1 }),
    ]);
    const c = check(renderDepartmentCard(w, w.dispatches[2] as DispatchView, bj("14:43"), TZ), true);
    const text = markdown(c);
    expect(text).toContain("<font color='red'>**⏰ 超时8分钟未报到**</font>");
    expect(text).toContain("时限 14:35");
    expect(text).toContain("已上报督办1次");
    expect(tagTexts(c)).toEqual(["超时:red"]);
    expect(actions(c)).toEqual([{ action: "report_in", d: 3, w: w.id }]);
  });

  it("overdue by the sweep's mark even a moment before the deadline by the render clock", () => {
    const w = whistle({}, [dispatch(1, "城管执法队", { overdueAt: bj("14:35") })]);
    const c = check(renderDepartmentCard(w, w.dispatches[0] as DispatchView, bj("14:34"), TZ), true);
    expect(markdown(c)).toContain("超时未报到");
    expect(tagTexts(c)).toEqual(["超时:red"]);
  });

  it("reported on time: who and when, 到场 and 进展 offered, no way to leave", () => {
    const w = whistle({}, [dispatch(1, "城管执法队"), gonganOnTime(), dispatch(3, "消防")]);
    const c = check(renderDepartmentCard(w, w.dispatches[1] as DispatchView, bj("14:15"), TZ), true);
    const text = markdown(c);
    expect(text).toContain("✅ **已报到**：<at id=ou_ga1></at> 14:12（用时7分钟）");
    expect(text).not.toContain("迟到");
    expect(actions(c)).toEqual([
      { action: "report_in", d: 2, w: w.id },
      { action: "on_site", d: 2, w: w.id },
      { action: "progress", d: 2, w: w.id },
    ]);
    const progress = formNamed(c, "progress");
    const note = components(progress).find((e) => e.tag === "input");
    expect(note).toMatchObject({ name: "note", max_length: 200 });
    expect(tagTexts(c)).toEqual(["已报到:green"]);
  });

  it("reported late, with colleagues who tapped after", () => {
    const w = whistle({}, [chengguanOnSite(), gonganLate(), dispatch(3, "消防")]);
    const c = check(renderDepartmentCard(w, w.dispatches[1] as DispatchView, bj("14:45"), TZ), true);
    const text = markdown(c);
    expect(text).toContain("<at id=ou_ga1></at> 14:38（用时33分钟） <font color='red'>迟到3分钟</font>");
    expect(text).toContain("<at id=ou_ga2></at> 14:40、<at id=ou_ga3></at> 14:41");
    expect(text).not.toContain("超时");
    expect(tagTexts(c)).toEqual(["迟到:red"]);
  });

  it("on site with progress notes: no 到场 button any more, 进展 still open", () => {
    const w = whistle({}, [chengguanOnSite(), gonganLate(), dispatch(3, "消防")]);
    const c = check(renderDepartmentCard(w, w.dispatches[0] as DispatchView, bj("14:45"), TZ), true);
    const text = markdown(c);
    expect(text).toContain("📍 **已到场**：<at id=ou_cg1></at> 14:20");
    expect(text).toContain("• 14:25 <at id=ou_cg1></at>：已到场，正在劝离占道摊位");
    // People's text is shown literally, not as markdown.
    expect(text).toContain("剩 2 处 &#42;今晚&#42; 处理");
    expect(actions(c).map((a) => a.action)).toEqual(["report_in", "progress"]);
    expect(tagTexts(c)).toEqual(["已到场:turquoise"]);
  });

  it("resolved: final state, green, no buttons at all", () => {
    const w = resolved([chengguanOnSite(), gonganLate(), dispatch(3, "消防", { overdueAt: bj("14:35") })]);
    for (const d of w.dispatches) {
      const c = check(renderDepartmentCard(w, d, bj("15:31"), TZ), true);
      expect(buttons(c)).toEqual([]);
      expect(formNamed(c, "progress")).toBeUndefined();
      expect(header(c).template).toBe("green");
      const text = markdown(c);
      expect(text).toContain("🏁 **已办结**：<at id=ou_whistler></at> 15:30");
      expect(text).toContain("**结果**：摊位全部清离，设置隔离护栏");
    }
    expect(markdown(renderDepartmentCard(w, w.dispatches[2] as DispatchView, bj("15:31"), TZ))).toContain(
      "本部门超时未报到",
    );
  });

  it("cancelled: final state, grey, reason, no buttons", () => {
    const w = cancelled();
    const c = check(renderDepartmentCard(w, w.dispatches[0] as DispatchView, bj("14:11"), TZ), true);
    expect(buttons(c)).toEqual([]);
    expect(header(c).template).toBe("grey");
    const text = markdown(c);
    expect(text).toContain("🚫 **已撤销**：<at id=ou_whistler></at> 14:10");
    expect(text).toContain("**原因**：误报：摊贩已自行离开");
    expect(text).toContain("本部门未报到");
    expect(text).not.toContain("超时");
  });

  it("a user's matter cannot mention everyone or inject tags", () => {
    const w = whistle({ matter: "噪音 <at id=all></at> **急**" });
    const c = check(renderDepartmentCard(w, w.dispatches[0] as DispatchView, bj("14:05"), TZ), true);
    expect(markdown(c)).not.toContain("<at id=all>");
    expect(markdown(c)).toContain("&#60;at id=all&#62;&#60;/at&#62; &#42;&#42;急&#42;&#42;");
  });

  it("the header colour follows the type", () => {
    for (const [type, color] of [
      ["enforcement", "orange"],
      ["emergency", "red"],
      ["key", "indigo"],
    ] as const) {
      const w = whistle({ type });
      expect(header(renderDepartmentCard(w, w.dispatches[0] as DispatchView, bj("14:05"), TZ)).template).toBe(
        color,
      );
    }
  });

  it("a deadline on another day shows the day", () => {
    const w = whistle({ createdAt: bj("23:50"), deadlineAt: bj("00:20", 28) }, [
      dispatch(1, "城管执法队", { deadlineAt: bj("00:20", 28) }),
    ]);
    const c = renderDepartmentCard(w, w.dispatches[0] as DispatchView, bj("23:55"), TZ);
    expect(lintCard(c)).toEqual([]);
    expect(markdown(c)).toContain("**11月28日 00:20**");
    expect(markdown(c)).toContain("还剩25分钟");
  });
});

describe("street summary card", () => {
  it("open with mixed states: counts, one row per department, 办结/撤销 form and 催办", () => {
    const w = whistle({}, [chengguanOnSite(), gonganLate(), dispatch(3, "消防", { overdueAt: bj("14:35") })]);
    const c = check(renderSummaryCard(w, bj("14:45"), TZ));
    const text = markdown(c);
    expect(text).toContain("已报到 2/3");
    expect(text).toContain("📍 **城管执法队** 已到场 14:20 · 报到 <at id=ou_cg1></at> 14:12 · 用时7分钟");
    expect(text).toContain(
      "✅ **公安** 已报到 <at id=ou_ga1></at> 14:38 · 用时33分钟 · <font color='red'>迟到3分钟</font>",
    );
    expect(text).toContain("🔴 **消防** <font color='red'>超时10分钟未报到</font>");
    expect(tagTexts(c)).toEqual(["进行中:blue", "超时 1:red"]);

    const close = formNamed(c, "close") as Json;
    expect(close).toBeDefined();
    const inputs = components(close).filter((e) => e.tag === "input");
    expect(inputs).toHaveLength(1);
    expect(inputs[0]).toMatchObject({ name: "text", placeholder: { content: "办结结果或撤销原因" } });
    const submits = buttons(close);
    expect(submits.map((b) => [b.name, (b.text as Json).content, b.form_action_type])).toEqual([
      ["close_resolve", "✅ 办结", "submit"],
      ["close_cancel", "撤销", "submit"],
    ]);
    expect(submits[1]).toMatchObject({ type: "danger" });
    expect(submits[1]?.confirm).toBeDefined();
    expect(actions(c)).toEqual([
      { action: "resolve", w: 42 },
      { action: "cancel", w: 42 },
      { action: "nudge", w: 42 },
    ]);
  });

  it("just whistled: all pending, time left, 催办 offered", () => {
    const w = whistle();
    const c = check(renderSummaryCard(w, bj("14:05"), TZ));
    const text = markdown(c);
    expect(text).toContain("已报到 0/3");
    expect(text).toContain("⏳ **城管执法队** 待报到 · 14:35 截止，还剩30分钟");
    expect(text).toContain("30分钟内报到，14:35 截止（还剩30分钟）");
    expect(actions(c).map((a) => a.action)).toEqual(["resolve", "cancel", "nudge"]);
  });

  it("all reported: no 催办", () => {
    const w = whistle({}, [
      chengguanOnSite(),
      gonganLate(),
      dispatch(3, "消防", {
        state: "reported",
        reportedAt: bj("14:30"),
        reportedBy: "ou_xf1",
        reporters: [{ openId: "ou_xf1", at: bj("14:30") }],
      }),
    ]);
    const c = check(renderSummaryCard(w, bj("14:45"), TZ));
    expect(markdown(c)).toContain("已报到 3/3");
    expect(actions(c).map((a) => a.action)).toEqual(["resolve", "cancel"]);
    expect(tagTexts(c)).toEqual(["进行中:blue"]);
  });

  it("resolved: result, who, when; no buttons", () => {
    const w = resolved([chengguanOnSite(), gonganLate(), dispatch(3, "消防", { overdueAt: bj("14:35") })]);
    const c = check(renderSummaryCard(w, bj("16:00"), TZ));
    expect(buttons(c)).toEqual([]);
    expect(formNamed(c, "close")).toBeUndefined();
    const text = markdown(c);
    expect(text).toContain("🏁 **已办结**：<at id=ou_whistler></at> 15:30");
    expect(text).toContain("**结果**：摊位全部清离，设置隔离护栏");
    expect(text).toContain("已报到 2/3");
    expect(text).toContain("🔴 **消防** <font color='red'>超时未报到</font>");
    expect(text).toContain("未报到 1");
    expect(text).not.toContain("待报到");
    expect(header(c).template).toBe("green");
    expect(tagTexts(c)).toEqual(["已办结:green"]);
  });

  it("cancelled: reason, who, when; no buttons", () => {
    const c = check(renderSummaryCard(cancelled(), bj("14:20"), TZ));
    expect(buttons(c)).toEqual([]);
    const text = markdown(c);
    expect(text).toContain("🚫 **已撤销**：<at id=ou_whistler></at> 14:10");
    expect(text).toContain("**原因**：误报：摊贩已自行离开");
    expect(text).toContain("⚪ **城管执法队** 未报到");
    expect(header(c).template).toBe("grey");
  });

  it("twenty departments still lint clean", () => {
    const many = Array.from({ length: 20 }, (_, i) => dispatch(i + 1, `部门${i + 1}`));
    const c = renderSummaryCard(whistle({ type: "emergency" }, many), bj("14:50"), TZ);
    expect(lintCard(c)).toEqual([]);
    expect(markdown(c)).toContain("已报到 0/20");
  });
});

describe("whistle form card", () => {
  const departments = [
    { id: 11, name: "城管执法队" },
    { id: 12, name: "公安" },
    { id: 13, name: "消防" },
    { id: 14, name: "交通" },
    { id: 15, name: "市场监管" },
    { id: 16, name: "房管" },
  ];

  const items = (c: unknown) => {
    const f = formNamed(c, "whistle") as Json;
    const byName = new Map(components(f).map((e) => [e.name, e] as const));
    return { f, byName };
  };

  it("empty: the 1+4 pre-selected, default limit 30, submit carries the street", () => {
    const c = renderWhistleForm({
      streetId: 5,
      streetName: "朝阳门街道",
      departments,
      forceSetIds: [11, 12, 13, 14, 15],
    });
    check(c);
    const { byName } = items(c);
    expect(byName.get("type")).toMatchObject({ tag: "select_static", initial_option: "enforcement" });
    expect(((byName.get("type")?.options ?? []) as Json[]).map((o) => o.value)).toEqual([
      "enforcement",
      "emergency",
      "key",
    ]);
    const deps = byName.get("departments") as Json;
    expect(deps.tag).toBe("multi_select_static");
    expect(deps.selected_values).toEqual(["11", "12", "13", "14", "15"]);
    expect((deps.options as Json[]).map((o) => o.value)).toEqual(["11", "12", "13", "14", "15", "16"]);
    expect(byName.get("place")).toMatchObject({ tag: "input" });
    expect(byName.get("matter")).toMatchObject({
      tag: "input",
      input_type: "multiline_text",
      required: true,
    });
    expect(byName.get("limit")).toMatchObject({ tag: "input", default_value: "30" });
    expect(actions(c)).toEqual([{ action: "whistle_form", s: 5 }]);
    expect(header(c).template).toBe("blue");
  });

  it("with a problem and prefilled values", () => {
    const c = renderWhistleForm({
      streetId: 5,
      streetName: "朝阳门街道",
      departments,
      forceSetIds: [11, 12, 13, 14, 15],
      problem: "没有找到部门“园林<局>”",
      prefill: {
        type: "emergency",
        departmentIds: [13, 16, 99],
        matter: "燃气管道疑似泄漏",
        place: "南小街 12 号",
        limitMinutes: 15,
      },
    });
    check(c);
    const { byName } = items(c);
    expect(markdown(c)).toContain("⚠️ **没有找到部门“园林&#60;局&#62;”**");
    expect(byName.get("type")).toMatchObject({ initial_option: "emergency" });
    // Ids not in the directory are dropped.
    expect(byName.get("departments")?.selected_values).toEqual(["13", "16"]);
    expect(byName.get("matter")).toMatchObject({ default_value: "燃气管道疑似泄漏" });
    expect(byName.get("place")).toMatchObject({ default_value: "南小街 12 号" });
    expect(byName.get("limit")).toMatchObject({ default_value: "15" });
    expect(header(c).template).toBe("orange");
  });

  it("no departments in the directory: says so, still lints", () => {
    const c = renderWhistleForm({ streetId: 5, streetName: "朝阳门街道", departments: [], forceSetIds: [] });
    expect(lintCard(c)).toEqual([]);
    expect(markdown(c)).toContain("目录里还没有可召集的部门");
  });
});

describe("status cards", () => {
  const mixed = () =>
    whistle({}, [chengguanOnSite(), gonganLate(), dispatch(3, "消防", { overdueAt: bj("14:35") })]);
  const fresh = () =>
    whistle({
      id: 43,
      code: "W20261127-004",
      type: "emergency",
      matter: "南小街燃气管道疑似泄漏",
      place: null,
      createdAt: bj("14:40"),
      deadlineAt: bj("15:10"),
      street: { id: 6, name: "东四街道", chatId: "oc_street_2" },
      dispatches: [
        dispatch(4, "消防", { deadlineAt: bj("15:10") }),
        dispatch(5, "公安", { deadlineAt: bj("15:10") }),
      ],
    });

  it("street list: one block per whistle in the given order, per-department state, no buttons", () => {
    const c = check(renderStatusList("📋 朝阳门街道 · 进行中的吹哨", [mixed(), fresh()], bj("14:45"), TZ));
    expect(buttons(c)).toEqual([]);
    const text = markdown(c);
    expect(text.indexOf("W20261127-003")).toBeLessThan(text.indexOf("W20261127-004"));
    expect(text).toContain("🚔 **W20261127-003** · 综合执法哨 · 朝阳门街道 · 40分钟前吹哨");
    expect(text).toContain("已报到 2/3");
    expect(text).toContain("超时10分钟未报到");
    expect(text).toContain("⏳ **消防** 待报到 · 15:10 截止，还剩25分钟");
    expect(tagTexts(c)).toEqual(["超时 1:red"]);
  });

  it("oversight list: several streets, an ended whistle shows how it ended", () => {
    const c = check(
      renderStatusList(
        "📋 东城区 · 今日吹哨",
        [mixed(), fresh(), resolved([chengguanOnSite(), gonganOnTime(), dispatch(3, "消防")])],
        bj("16:00"),
        TZ,
      ),
    );
    const text = markdown(c);
    expect(text).toContain("东四街道");
    expect(text).toContain("已办结 15:30");
  });

  it("department list: only that department's part of each whistle", () => {
    const c = check(
      renderStatusList("📋 消防 · 待办", [mixed(), fresh()], bj("14:45"), TZ, { departmentId: 13 }),
    );
    const text = markdown(c);
    expect(text).toContain("**消防**");
    expect(text).not.toContain("**公安**");
    expect(text).not.toContain("**城管执法队**");
    expect(text).not.toContain("已报到 2/3");
    expect(text).toContain("⏳ **消防** 待报到 · 15:10 截止，还剩25分钟");
    expect(text.match(/\*\*消防\*\*/g)).toHaveLength(2);
  });

  it("empty list: the given text", () => {
    const c = check(
      renderStatusList("📋 朝阳门街道 · 进行中的吹哨", [], bj("14:45"), TZ, {
        emptyText: "暂无进行中的吹哨。",
      }),
    );
    expect(markdown(c)).toBe("暂无进行中的吹哨。");
    expect(header(c).template).toBe("blue");
  });

  it("a very long list stays under the card limits and says how many were left out", () => {
    const list = Array.from({ length: 150 }, (_, i) =>
      whistle({ id: 100 + i, code: `W20261127-${String(100 + i).padStart(3, "0")}` }),
    );
    const c = renderStatusList("📋 全区", list, bj("14:45"), TZ);
    expect(lintCard(c)).toEqual([]);
    expect(markdown(c)).toMatch(/另有 \d+ 条未显示/);
  });

  const history = (): TimelineEntry[] => [
    { at: bj("14:05"), kind: "whistled", actorOpenId: "ou_whistler", departmentName: null, data: {} },
    { at: bj("14:12"), kind: "reported", actorOpenId: "ou_cg1", departmentName: "城管执法队", data: {} },
    { at: bj("14:20"), kind: "on_site", actorOpenId: "ou_cg1", departmentName: "城管执法队", data: {} },
    {
      at: bj("14:25"),
      kind: "progress",
      actorOpenId: "ou_cg1",
      departmentName: "城管执法队",
      data: { note: "已到场，正在劝离占道摊位" },
    },
    {
      at: bj("14:36"),
      kind: "nudged",
      actorOpenId: "ou_whistler",
      departmentName: null,
      data: { departments: ["公安", "消防"] },
    },
    {
      at: bj("14:38"),
      kind: "reported",
      actorOpenId: "ou_ga1",
      departmentName: "公安",
      data: { minutes: 33, late: 3 },
    },
    { at: bj("14:40"), kind: "joined", actorOpenId: "ou_ga2", departmentName: "公安", data: {} },
    {
      at: bj("15:30"),
      kind: "resolved",
      actorOpenId: "ou_whistler",
      departmentName: null,
      data: { text: "摊位全部清离，设置隔离护栏" },
    },
  ];

  it("timeline: every step with its day and time", () => {
    const w = resolved([chengguanOnSite(), gonganLate(), dispatch(3, "消防", { overdueAt: bj("14:35") })]);
    const c = check(renderTimeline(w, history(), bj("16:00"), TZ));
    expect(buttons(c)).toEqual([]);
    const lines = markdown(c).split("\n");
    const expected = [
      "**11月27日 14:05** 📣 <at id=ou_whistler></at> 吹哨，召集 城管执法队、公安、消防",
      "**11月27日 14:12** ✅ **城管执法队** <at id=ou_cg1></at> 报到（用时7分钟）",
      "**11月27日 14:20** 📍 **城管执法队** <at id=ou_cg1></at> 到场",
      "**11月27日 14:25** 💬 **城管执法队** <at id=ou_cg1></at> 进展：已到场，正在劝离占道摊位",
      "**11月27日 14:36** 📣 <at id=ou_whistler></at> 催办 公安、消防",
      "**11月27日 14:38** ✅ **公安** <at id=ou_ga1></at> 报到（用时33分钟） <font color='red'>迟到3分钟</font>",
      "**11月27日 14:40** 🙋 **公安** <at id=ou_ga2></at> 也报到",
      "**11月27日 15:30** 🏁 <at id=ou_whistler></at> 办结：摊位全部清离，设置隔离护栏",
    ];
    for (const line of expected) expect(lines).toContain(line);
    expect(header(c).template).toBe("green");
  });

  it("timeline of a cancelled whistle, and a huge history keeps its start and end", () => {
    const w = cancelled();
    const entries: TimelineEntry[] = [
      { at: bj("14:05"), kind: "whistled", actorOpenId: "ou_whistler", departmentName: null, data: {} },
      ...Array.from({ length: 400 }, (_, i) => ({
        at: bj("14:06"),
        kind: "progress",
        actorOpenId: `ou_p${i}`,
        departmentName: "城管执法队",
        data: { note: "现场持续处置中，已协调周边商户配合，预计半小时内完成清理工作" },
      })),
      {
        at: bj("14:10"),
        kind: "cancelled",
        actorOpenId: "ou_whistler",
        departmentName: null,
        data: { reason: "误报：摊贩已自行离开" },
      },
    ];
    const c = renderTimeline(w, entries, bj("14:20"), TZ);
    expect(lintCard(c)).toEqual([]);
    const text = markdown(c);
    expect(text).toContain("吹哨，召集");
    expect(text).toContain("🚫 <at id=ou_whistler></at> 撤销：误报：摊贩已自行离开");
    expect(text).toMatch(/中间 \d+ 条未显示/);
  });
});

describe("kit.form with several submits", () => {
  it("names each submit and stays lint clean; one submit keeps the old shape", () => {
    const one = form("f", [], { label: "OK", value: { a: 1 } });
    expect((one.elements as Json[]).at(-1)).toMatchObject({ name: "f_submit", form_action_type: "submit" });
    const two = form(
      "g",
      [],
      [
        { label: "A", value: { a: 1 } },
        { label: "B", value: { b: 1 }, type: "danger" },
      ],
    );
    expect(buttons(two).map((b) => b.name)).toEqual(["g_submit", "g_submit_2"]);
  });
});

describe("department card size", () => {
  it("names 20 colleagues and counts the rest, so 1000 taps still fit Lark's 30 KB", async () => {
    const { renderDepartmentCard } = await import("../../src/bot/cards/department-card");
    const base = new Date("2026-11-27T06:00:00Z");
    const reporters = Array.from({ length: 1000 }, (_, i) => ({
      openId: `ou_${String(i).padStart(32, "0")}`,
      at: new Date(base.getTime() + 60_000 + i),
    }));
    const d = {
      id: 1,
      department: { id: 10, name: "城管执法队" },
      chatId: "oc_cg",
      cardMessageId: "om_1",
      state: "reported" as const,
      deadlineAt: new Date(base.getTime() + 30 * 60_000),
      reportedAt: reporters[0]?.at ?? base,
      reportedBy: reporters[0]?.openId ?? "",
      lateMinutes: null,
      // As a view carries them: the first few, and the count of all.
      reporters: reporters.slice(0, VIEW_REPORTERS),
      reporterCount: reporters.length,
      onSiteAt: null,
      onSiteBy: null,
      overdueAt: null,
      escalationCount: 0,
      progress: [],
      progressCount: 0,
    };
    const w = {
      id: 1,
      code: "W261127-01",
      type: "emergency" as const,
      matter: "南小街5号燃气泄漏",
      place: null,
      street: { id: 1, name: "朝阳门街道", chatId: "oc_s" },
      whistlerOpenId: "ou_official",
      status: "open" as const,
      limitMinutes: 30,
      createdAt: base,
      deadlineAt: d.deadlineAt,
      resolvedAt: null,
      resolvedBy: null,
      resolution: null,
      cancelledAt: null,
      cancelledBy: null,
      cancelReason: null,
      summaryMessageId: null,
      dispatches: [d],
    };
    const card = renderDepartmentCard(w, d, new Date(base.getTime() + 5 * 60_000), "Asia/Shanghai");
    expect(lintCard(card)).toEqual([]);
    const json = JSON.stringify(card);
    expect(new TextEncoder().encode(json).length).toBeLessThan(30 * 1024);
    expect(json).toContain("共 999 人");
  });
});
