/**
 * Small builders for Card JSON 2.0 (lark-protocol.md §4): every card the bot sends is made of these,
 * so the 2.0 rules (no `action` wrapper, named form items, callback behaviours) hold by construction.
 * Pure data; `lintCard` (lint.ts) checks the result.
 */

export type HeaderColor =
  | "blue"
  | "wathet"
  | "turquoise"
  | "green"
  | "yellow"
  | "orange"
  | "red"
  | "carmine"
  | "violet"
  | "purple"
  | "indigo"
  | "grey"
  | "default";

/** Colours of a header text tag (a different set from header templates). */
export type TagColor =
  | "neutral"
  | "blue"
  | "turquoise"
  | "lime"
  | "orange"
  | "violet"
  | "indigo"
  | "wathet"
  | "green"
  | "yellow"
  | "red"
  | "purple"
  | "carmine";

export type Element = Record<string, unknown> & { tag: string };

export interface Card {
  schema: "2.0";
  config: Record<string, unknown>;
  header?: Record<string, unknown>;
  body: { elements: Element[] };
}

const text = (content: string) => ({ tag: "plain_text", content });

export interface CardOptions {
  title: string;
  subtitle?: string;
  color?: HeaderColor;
  /** Chat-list preview text. */
  summary?: string;
  tags?: { text: string; color: TagColor }[];
}

/** A shared (update_multi) 2.0 card: everyone who sees it sees every update. */
export function card(opts: CardOptions, elements: Element[]): Card {
  const header: Record<string, unknown> = { title: text(opts.title), template: opts.color ?? "blue" };
  if (opts.subtitle) header.subtitle = text(opts.subtitle);
  if (opts.tags?.length) {
    header.text_tag_list = opts.tags.map((t) => ({ tag: "text_tag", text: text(t.text), color: t.color }));
  }
  const config: Record<string, unknown> = { update_multi: true, width_mode: "fill" };
  if (opts.summary) config.summary = { content: opts.summary };
  return { schema: "2.0", config, header, body: { elements } };
}

/** Markdown (supports **bold**, <at id=ou_…></at>, <font color='red'>…</font>). */
export function md(content: string, opts: { size?: "normal" | "notation" | "heading" } = {}): Element {
  const e: Element = { tag: "markdown", content };
  if (opts.size) e.text_size = opts.size;
  return e;
}

export const hr = (): Element => ({ tag: "hr" });

export type ButtonType =
  | "default"
  | "primary"
  | "danger"
  | "primary_filled"
  | "danger_filled"
  | "text"
  | "laser";

export interface ButtonOptions {
  type?: ButtonType;
  width?: "default" | "fill";
  size?: "tiny" | "small" | "medium" | "large";
  confirm?: { title: string; text: string };
  disabled?: boolean;
}

/** A button whose click calls back with `value` (routed by `value.action`). */
export function button(label: string, value: Record<string, unknown>, opts: ButtonOptions = {}): Element {
  const e: Element = {
    tag: "button",
    text: text(label),
    type: opts.type ?? "default",
    behaviors: [{ type: "callback", value }],
  };
  if (opts.width) e.width = opts.width;
  if (opts.size) e.size = opts.size;
  if (opts.disabled) e.disabled = true;
  if (opts.confirm) e.confirm = { title: text(opts.confirm.title), text: text(opts.confirm.text) };
  return e;
}

/** Side-by-side columns (weighted widths). */
export function columns(cols: Element[][], opts: { weights?: number[] } = {}): Element {
  return {
    tag: "column_set",
    flex_mode: "stretch",
    horizontal_spacing: "8px",
    columns: cols.map((elements, i) => ({
      tag: "column",
      width: "weighted",
      weight: opts.weights?.[i] ?? 1,
      vertical_align: "top",
      elements,
    })),
  };
}

export interface Option {
  label: string;
  value: string;
}

const options = (list: Option[]) => list.map((o) => ({ text: text(o.label), value: o.value }));

/** A text input for a form; its value arrives as `form_value[name]`. */
export function input(
  name: string,
  opts: {
    label?: string;
    placeholder?: string;
    required?: boolean;
    maxLength?: number;
    value?: string;
    multiline?: boolean;
  } = {},
): Element {
  const e: Element = { tag: "input", name };
  if (opts.placeholder) e.placeholder = text(opts.placeholder);
  if (opts.label) {
    e.label = text(opts.label);
    e.label_position = "top";
  }
  if (opts.required) e.required = true;
  if (opts.maxLength) e.max_length = opts.maxLength;
  if (opts.value) e.default_value = opts.value;
  if (opts.multiline) e.input_type = "multiline_text";
  return e;
}

/** A single select; inside a form its value arrives as `form_value[name]`. */
export function select(
  name: string,
  list: Option[],
  opts: { placeholder?: string; initial?: string; required?: boolean } = {},
): Element {
  const e: Element = { tag: "select_static", name, options: options(list) };
  if (opts.placeholder) e.placeholder = text(opts.placeholder);
  if (opts.initial) e.initial_option = opts.initial;
  if (opts.required) e.required = true;
  return e;
}

/** A multi-select (forms only); its values arrive as `form_value[name]: string[]`. */
export function multiSelect(
  name: string,
  list: Option[],
  opts: { placeholder?: string; initial?: string[]; required?: boolean } = {},
): Element {
  const e: Element = { tag: "multi_select_static", name, options: options(list) };
  if (opts.placeholder) e.placeholder = text(opts.placeholder);
  if (opts.initial?.length) e.selected_values = opts.initial;
  if (opts.required) e.required = true;
  return e;
}

/** One submit button of a form; `name` is unique in the card (default `<form>_submit`, `_submit_2`, …). */
export interface Submit {
  label: string;
  value: Record<string, unknown>;
  type?: ButtonType;
  name?: string;
  confirm?: { title: string; text: string };
}

function submitButton(s: Submit, name: string): Element {
  const e: Element = {
    tag: "button",
    name: s.name ?? name,
    text: text(s.label),
    type: s.type ?? "primary_filled",
    form_action_type: "submit",
    behaviors: [{ type: "callback", value: s.value }],
  };
  if (s.confirm) e.confirm = { title: text(s.confirm.title), text: text(s.confirm.text) };
  return e;
}

/**
 * A form: a submit button calls back with its `value` plus every item's value in `form_value`.
 * Several submits (an array) sit side by side in one row, each with its own name and value, so the
 * handler tells them apart by `value.action`.
 */
export function form(name: string, items: Element[], submit: Submit | Submit[]): Element {
  const submits = Array.isArray(submit) ? submit : [submit];
  const buttons = submits.map((s, i) =>
    submitButton(s, i === 0 ? `${name}_submit` : `${name}_submit_${i + 1}`),
  );
  const row: Element[] =
    buttons.length > 1
      ? [
          {
            tag: "column_set",
            flex_mode: "none",
            horizontal_spacing: "8px",
            columns: buttons.map((b) => ({
              tag: "column",
              width: "auto",
              vertical_align: "top",
              elements: [b],
            })),
          },
        ]
      : buttons;
  return { tag: "form", name, elements: [...items, ...row] };
}

/**
 * A chart (VChart spec, lark-protocol.md §4.2): data only, no functions; at most 5 per card.
 */
export function chart(
  spec: Record<string, unknown>,
  opts: {
    aspectRatio?: "1:1" | "2:1" | "4:3" | "16:9";
    theme?: "brand" | "rainbow" | "complementary" | "converse" | "primary";
  } = {},
): Element {
  return {
    tag: "chart",
    aspect_ratio: opts.aspectRatio ?? "16:9",
    color_theme: opts.theme ?? "brand",
    chart_spec: spec,
    preview: true,
    height: "auto",
  };
}
