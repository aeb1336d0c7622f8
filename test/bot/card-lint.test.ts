import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { button, card, columns, form, hr, input, md, multiSelect, select } from "../../src/bot/cards/kit";
import { CARD_MAX_BYTES, lintCard } from "../../src/bot/cards/lint";

type Json = Record<string, unknown>;
type El = Json & { tag: string };

/** Cards Lark accepts, from the official Card JSON 2.0 docs (lark-protocol.md §4). */
const samples = (
  JSON.parse(
    readFileSync(new URL("../fixtures/card-json-v2-official-samples.json", import.meta.url), "utf8"),
  ) as { samples: { source: string; card: unknown }[] }
).samples;

const text = (content: string) => ({ tag: "plain_text", content });
/** A minimal valid 2.0 card around `elements`. */
const v2 = (elements: unknown[], extra: Json = {}): Json => ({
  schema: "2.0",
  config: { update_multi: true },
  body: { elements },
  ...extra,
});
const submit = (name = "submit_btn"): El => ({
  tag: "button",
  name,
  text: text("Submit"),
  type: "primary",
  form_action_type: "submit",
  behaviors: [{ type: "callback", value: { action: "submit" } }],
});
const aForm = (elements: unknown[], name = "f"): El => ({ tag: "form", name, elements });
const callbackButton = (extra: Json = {}): El => ({
  tag: "button",
  text: text("Go"),
  behaviors: [{ type: "callback", value: { action: "go" } }],
  ...extra,
});

/** Asserts the card has exactly one problem, at `path`, mentioning every fragment. */
function expectOnly(c: unknown, path: string, ...fragments: string[]): void {
  const problems = lintCard(c);
  expect(problems).toHaveLength(1);
  const [line] = problems as [string];
  expect(line.startsWith(`${path}: `), line).toBe(true);
  for (const f of fragments) expect(line).toContain(f);
}

describe("lintCard: official samples", () => {
  it("has the 36 samples", () => {
    expect(samples).toHaveLength(36);
  });

  it.each(samples.map((s) => [s.source, s.card] as const))("accepts %s", (_source, sample) => {
    expect(lintCard(sample)).toEqual([]);
  });
});

describe("lintCard: kit builders", () => {
  it("accepts a card made of every builder", () => {
    const c = card(
      {
        title: "🚨 Incident #42",
        subtitle: "fire alarm",
        color: "red",
        summary: "Incident #42 – please report in",
        tags: [{ text: "OPEN", color: "red" }],
      },
      [
        md("**Raised by** <at id=ou_raiser></at>", { size: "heading" }),
        hr(),
        button(
          "✅ Report in",
          { action: "report_in", incident: "42" },
          {
            type: "primary_filled",
            width: "fill",
            size: "medium",
            confirm: { title: "Confirm?", text: "Report in for ops" },
            disabled: true,
          },
        ),
        columns(
          [[md("Reported: 0 / 12", { size: "notation" })], [button("Details", { action: "details" })]],
          {
            weights: [3, 1],
          },
        ),
        form(
          "whistle_form",
          [
            input("note", {
              label: "Note",
              placeholder: "Note…",
              required: true,
              maxLength: 200,
              value: "x",
              multiline: true,
            }),
            select(
              "severity",
              [
                { label: "High", value: "high" },
                { label: "Low", value: "low" },
              ],
              { placeholder: "Severity", initial: "high", required: true },
            ),
            multiSelect(
              "depts",
              [
                { label: "Ops", value: "ops" },
                { label: "IT", value: "it" },
              ],
              { placeholder: "Departments", initial: ["ops"], required: true },
            ),
          ],
          { label: "Submit", value: { action: "submit", incident: "42" } },
        ),
      ],
    );
    expect(lintCard(c)).toEqual([]);
  });

  it("accepts a form whose items sit in columns, and a minimal card", () => {
    const c = card({ title: "Duty" }, [
      form("duty_form", [columns([[input("who")], [select("shift", [{ label: "Day", value: "day" }])]])], {
        label: "Save",
        value: { action: "duty" },
        type: "primary",
      }),
    ]);
    expect(lintCard(c)).toEqual([]);
    expect(lintCard(card({ title: "Empty" }, []))).toEqual([]);
  });

  it("reports a kit form item built with an empty name", () => {
    const c = card({ title: "x" }, [form("f", [input("")], { label: "OK", value: { a: 1 } })]);
    expectOnly(c, "body.elements[0].elements[0]", "input", "has no name");
  });
});

describe("lintCard: top level", () => {
  it("rejects a non-object", () => {
    expectOnly(null, "card", "JSON object");
    expectOnly([], "card", "an array");
    expectOnly("{}", "card", "JSON object");
  });

  it("requires schema 2.0", () => {
    expectOnly({ body: { elements: [] } }, "schema", '"2.0"', "undefined");
    expectOnly({ schema: "1.0" }, "schema", '"2.0"', '"1.0"');
  });

  it.each(["elements", "i18n_elements", "fallback"])("rejects top-level %s", (key) => {
    expectOnly(v2([], { [key]: [] }), key, "removed in 2.0", "body.elements");
  });

  it("rejects unknown top-level keys", () => {
    expectOnly(v2([], { wide_screen_mode: true }), "wide_screen_mode", "unknown top-level property");
  });

  it("rejects update_multi: false", () => {
    expectOnly(v2([], { config: { update_multi: false } }), "config.update_multi", "update_multi: true");
  });

  it("rejects an undocumented header colour", () => {
    expectOnly(v2([], { header: { title: text("x"), template: "pink" } }), "header.template", '"pink"');
    expectOnly(
      v2([], { i18n_header: { en_us: { title: text("x"), template: "gray" } } }),
      "i18n_header.en_us.template",
      '"gray"',
    );
  });

  it("rejects a body whose elements are not an array", () => {
    expectOnly({ schema: "2.0", body: { elements: {} } }, "body.elements", "must be an array");
  });
});

describe("lintCard: removed 1.0 features", () => {
  it("rejects the action wrapper anywhere", () => {
    const c = v2([
      {
        tag: "column_set",
        columns: [{ tag: "column", elements: [{ tag: "action", actions: [callbackButton()] }] }],
      },
    ]);
    expectOnly(c, "body.elements[0].columns[0].elements[0]", '"action" wrapper');
  });

  it("rejects the note element", () => {
    expectOnly(v2([md("a"), { tag: "note", elements: [text("n")] }]), "body.elements[1]", '"note"');
  });

  it("rejects markdown href", () => {
    const c = v2([{ tag: "markdown", content: "[a]($u)", href: { u: { url: "https://x" } } }]);
    expectOnly(c, "body.elements[0].href", "markdown href");
  });

  it("rejects img stretch_without_padding", () => {
    const c = v2([{ tag: "img", img_key: "img_v3_x", stretch_without_padding: true }]);
    expectOnly(c, "body.elements[0].stretch_without_padding", "stretch_without_padding");
  });
});

describe("lintCard: element_id", () => {
  it.each([
    ["1abc", "must start with a letter"],
    ["_abc", "must start with a letter"],
    ["ab-c", "only letters, digits and _"],
    ["abcdefghij_klmnopqrst1", "22 characters"],
  ])("rejects %s", (id, problem) => {
    expectOnly(
      v2([{ tag: "markdown", content: "x", element_id: id }]),
      "body.elements[0].element_id",
      problem,
    );
  });

  it("accepts exactly 20 characters", () => {
    expect(lintCard(v2([{ tag: "hr", element_id: "a".repeat(20) }]))).toEqual([]);
  });

  it("rejects a duplicate, naming the first use", () => {
    const c = v2([
      { tag: "markdown", content: "x", element_id: "tally" },
      { tag: "column_set", columns: [{ tag: "column", elements: [{ tag: "hr", element_id: "tally" }] }] },
    ]);
    expectOnly(
      c,
      "body.elements[1].columns[0].elements[0].element_id",
      '"tally"',
      "already used at body.elements[0]",
    );
  });
});

describe("lintCard: forms", () => {
  it.each([
    ["input", { tag: "input" }],
    ["select_static", { tag: "select_static", options: [] }],
    ["multi_select_static", { tag: "multi_select_static", options: [] }],
    ["select_person", { tag: "select_person" }],
    ["multi_select_person", { tag: "multi_select_person" }],
    ["date_picker", { tag: "date_picker" }],
    ["picker_time", { tag: "picker_time" }],
    ["picker_datetime", { tag: "picker_datetime" }],
    ["checker", { tag: "checker", text: text("done") }],
    ["select_img", { tag: "select_img", options: [] }],
  ])("requires a name on a %s in a form", (tag, item) => {
    expectOnly(
      v2([aForm([item, submit()], "my_form")]),
      "body.elements[0].elements[0]",
      tag,
      '"my_form"',
      "no name",
    );
  });

  it("requires a non-blank name, also in nested columns", () => {
    const c = v2([
      aForm([
        { tag: "column_set", columns: [{ tag: "column", elements: [{ tag: "input", name: "  " }] }] },
        submit(),
      ]),
    ]);
    expectOnly(c, "body.elements[0].elements[0].columns[0].elements[0]", "input", "no name");
  });

  it("requires a name on a form's submit button", () => {
    const { name: _name, ...unnamed } = submit();
    const c = v2([aForm([{ tag: "input", name: "note" }, unnamed])]);
    expectOnly(c, "body.elements[0].elements[1]", "button", "no name");
  });

  it("requires names unique across the card", () => {
    const c = v2([
      { tag: "checker", name: "note", text: text("x") },
      aForm([{ tag: "input", name: "note" }, submit()]),
    ]);
    expectOnly(c, "body.elements[1].elements[0].name", '"note"', "already used at body.elements[0]");
  });

  it("requires a submit button", () => {
    const c = v2([
      aForm(
        [
          { tag: "input", name: "note" },
          { ...submit(), form_action_type: "reset" },
        ],
        "f1",
      ),
    ]);
    expectOnly(c, "body.elements[0]", 'form "f1" has no submit button');
  });

  it("accepts the action_type form_submit spelling of official samples", () => {
    const { form_action_type: _t, ...rest } = submit();
    expect(
      lintCard(
        v2([
          aForm([
            { tag: "input", name: "note" },
            { ...rest, action_type: "form_submit" },
          ]),
        ]),
      ),
    ).toEqual([]);
  });

  it("requires a form name", () => {
    const c = v2([{ tag: "form", elements: [{ tag: "input", name: "note" }, submit()] }]);
    expectOnly(c, "body.elements[0]", "form has no name");
  });

  it("rejects form_action_type outside a form", () => {
    expectOnly(v2([submit()]), "body.elements[0]", 'form action "submit" outside a form');
    const { form_action_type: _t, ...rest } = submit();
    expectOnly(
      v2([{ ...rest, action_type: "form_reset" }]),
      "body.elements[0]",
      '"form_reset" outside a form',
    );
  });

  it("rejects an unknown form_action_type", () => {
    const c = v2([
      aForm([{ tag: "input", name: "note" }, submit(), { ...submit("b2"), form_action_type: "send" }]),
    ]);
    expectOnly(c, "body.elements[0].elements[2].form_action_type", '"send"');
  });

  it.each([
    ["multi_select_static", { tag: "multi_select_static", name: "m", options: [] }],
    ["multi_select_person", { tag: "multi_select_person", name: "m" }],
  ])("rejects %s outside a form", (tag, item) => {
    expectOnly(v2([md("x"), item]), "body.elements[1]", tag, "only works inside a form");
  });

  it("rejects a multi-select select_img outside a form", () => {
    expectOnly(
      v2([{ tag: "select_img", multi_select: true, options: [] }]),
      "body.elements[0]",
      "select_img",
    );
  });

  it("rejects a form that is not directly in body.elements", () => {
    const c = v2([{ tag: "collapsible_panel", elements: [aForm([{ tag: "input", name: "n" }, submit()])] }]);
    expectOnly(c, "body.elements[0].elements[0]", "form must sit directly in body.elements");
  });
});

describe("lintCard: buttons and behaviours", () => {
  it("rejects an undocumented type", () => {
    expectOnly(
      v2([callbackButton({ type: "secondary" })]),
      "body.elements[0].type",
      '"secondary"',
      "primary_filled",
    );
  });

  it("rejects an undocumented size", () => {
    expectOnly(v2([callbackButton({ size: "huge" })]), "body.elements[0].size", '"huge"', "tiny");
  });

  it("requires a value on a callback behaviour", () => {
    const c = v2([
      callbackButton({ behaviors: [{ type: "open_url", default_url: "https://x" }, { type: "callback" }] }),
    ]);
    expectOnly(c, "body.elements[0].behaviors[1]", "callback behaviour has no value");
  });

  it("checks callbacks on other components too", () => {
    const c = v2([
      { tag: "interactive_container", behaviors: [{ type: "callback", value: null }], elements: [] },
    ]);
    expectOnly(c, "body.elements[0].behaviors[0]", "no value");
    expectOnly(v2([callbackButton({ behaviors: {} })]), "body.elements[0].behaviors", "must be an array");
  });

  it("requires text on a button that does something", () => {
    expectOnly(
      v2([{ tag: "button", behaviors: [{ type: "callback", value: { a: 1 } }] }]),
      "body.elements[0]",
      "button has no text",
    );
  });

  it("requires the text to be a text object", () => {
    expectOnly(v2([callbackButton({ text: "Go" })]), "body.elements[0].text", "plain_text or lark_md");
  });

  it("accepts an icon-only button", () => {
    const icon = { tag: "standard_icon", token: "forward-com_outlined" };
    const { text: _t, ...rest } = callbackButton({ icon });
    expect(lintCard(v2([rest]))).toEqual([]);
  });
});

describe("lintCard: limits", () => {
  const panels = (depth: number): Json => {
    let node: Json = md("deep");
    for (let i = 0; i < depth; i++) node = { tag: "collapsible_panel", elements: [node] };
    return node;
  };

  it("allows containers 5 deep and rejects 6", () => {
    expect(lintCard(v2([panels(5)]))).toEqual([]);
    expectOnly(v2([panels(6)]), `body.elements[0]${".elements[0]".repeat(5)}`, "nest 6 deep");
  });

  it("counts column_set and its columns as one level", () => {
    let node: Json = md("deep");
    for (let i = 0; i < 6; i++) node = { tag: "column_set", columns: [{ tag: "column", elements: [node] }] };
    expectOnly(v2([node]), `body.elements[0]${".columns[0].elements[0]".repeat(5)}`, "nest 6 deep");
  });

  const table = (): Json => ({
    tag: "table",
    columns: [{ name: "a", display_name: "A" }],
    rows: [{ a: "x" }],
  });

  it("allows 5 tables and rejects the 6th", () => {
    expect(lintCard(v2(Array.from({ length: 5 }, table)))).toEqual([]);
    expectOnly(v2(Array.from({ length: 6 }, table)), "body.elements[5]", "table #6", "at most 5 tables");
  });

  it("rejects a table that is not directly in body.elements", () => {
    const c = v2([{ tag: "column_set", columns: [{ tag: "column", elements: [table()] }] }]);
    expectOnly(c, "body.elements[0].columns[0].elements[0]", "table must sit directly in body.elements");
  });

  it("allows 200 components and rejects 201", () => {
    expect(lintCard(v2(Array.from({ length: 200 }, hr)))).toEqual([]);
    expectOnly(v2(Array.from({ length: 201 }, hr)), "body", "201 components", "at most 200");
  });

  it("counts nested tagged objects but not text objects", () => {
    // 50 × (column_set + column + button) = 150, + 50 icons = 200; the 100 plain_text objects do not count.
    const row = (): Json =>
      columns([[callbackButton({ icon: { tag: "standard_icon", token: "t" }, hover_tips: text("h") })]]);
    expect(lintCard(v2(Array.from({ length: 50 }, row)))).toEqual([]);
    expectOnly(v2([...Array.from({ length: 50 }, row), hr()]), "body", "201 components");
  });

  it("allows exactly 30 KB and rejects one byte more, counting UTF-8 bytes", () => {
    const sized = (content: string) => v2([md(content)]);
    const base = JSON.stringify(sized("")).length;
    expect(lintCard(sized("a".repeat(CARD_MAX_BYTES - base)))).toEqual([]);
    expectOnly(sized("a".repeat(CARD_MAX_BYTES - base + 1)), "card", `${CARD_MAX_BYTES + 1} bytes`, "30 KB");
    // 10,300 characters, but 30,900 bytes.
    expectOnly(sized("汉".repeat(10_300)), "card", "serialised size", "30 KB");
  });

  it("reports a card that cannot be serialised instead of throwing", () => {
    const loop: Json = { tag: "column_set", columns: [] };
    (loop.columns as unknown[]).push(loop);
    const problems = lintCard(v2([loop]));
    expect(problems).toContain("body.elements[0].columns[0]: circular reference");
    expect(problems.some((p) => p.startsWith("card: cannot be serialised to JSON"))).toBe(true);
  });
});

describe("lintCard: charts", () => {
  const chart = (extra: Json = {}): Json => ({
    tag: "chart",
    aspect_ratio: "16:9",
    color_theme: "brand",
    chart_spec: { type: "bar", data: { values: [{ x: "a", y: 1 }] }, xField: "x", yField: "y" },
    ...extra,
  });

  it("accepts a documented chart", () => {
    expect(lintCard(v2([chart()]))).toEqual([]);
  });

  it("requires chart_spec, as an object", () => {
    const { chart_spec: _s, ...bare } = chart();
    expectOnly(v2([bare]), "body.elements[0]", "no chart_spec");
    expectOnly(v2([chart({ chart_spec: [] })]), "body.elements[0].chart_spec", "must be an object");
    expectOnly(
      v2([chart({ chart_spec: '{"type":"bar"}' })]),
      "body.elements[0].chart_spec",
      "must be an object",
    );
  });

  it.each([
    ["a function value", () => "x"],
    ["a function string", "function (d) { return d.y }"],
    ["an arrow function string", "(d) => d.y"],
  ])("rejects %s in chart_spec", (_what, fn) => {
    const c = v2([chart({ chart_spec: { type: "bar", label: { formatter: fn } } })]);
    expectOnly(c, "body.elements[0].chart_spec.label.formatter", "may not contain functions");
  });

  it("rejects undocumented aspect_ratio and color_theme", () => {
    expectOnly(v2([chart({ aspect_ratio: "3:2" })]), "body.elements[0].aspect_ratio", '"3:2"', "16:9");
    expectOnly(v2([chart({ color_theme: "dark" })]), "body.elements[0].color_theme", '"dark"', "rainbow");
  });

  it("allows 5 charts and reports the 6th", () => {
    expect(lintCard(v2(Array.from({ length: 5 }, () => chart())))).toEqual([]);
    expectOnly(
      v2(Array.from({ length: 6 }, () => chart())),
      "body.elements[5]",
      "chart #6",
      "at most 5 charts",
    );
  });
});

describe("lintCard: audio", () => {
  const audio = { tag: "audio", file_key: "file_v3_x", audio_id: "1" };

  it("requires enable_forward: false", () => {
    expectOnly(v2([md("x"), audio]), "config.enable_forward", "must be false", "body.elements[1]");
    expectOnly(
      v2([audio], { config: { update_multi: true, enable_forward: true } }),
      "config.enable_forward",
      "audio",
    );
    expect(lintCard(v2([audio], { config: { enable_forward: false } }))).toEqual([]);
  });
});
