/**
 * A pure linter for Card JSON 2.0 (lark-protocol.md §3.3, §4, §5.2): `lintCard(card)` returns one readable
 * problem per line, each prefixed with the JSON path it concerns (`body.elements[3].elements[1]: …`), or `[]`
 * when the card breaks none of the rules below. It never throws and has no runtime dependencies, so it runs
 * on Node and on Cloudflare Workers alike.
 *
 * Every card in `shared/reference/card-json-v2-official-samples.json` (cards Lark accepts) lints clean; where
 * a sample is looser than the prose rules, the sample wins (noted at each rule).
 *
 * Rules:
 * - top level: an object; `schema` is "2.0"; no `elements` / `i18n_elements` / `fallback`; only the keys
 *   `schema`, `config`, `card_link`, `header`, `i18n_header` (used by an official sample), `body`;
 *   `config.update_multi` is not false; `header.template` / `i18n_header.<locale>.template` is a documented
 *   colour; `body.elements` is an array.
 * - 1.0 leftovers anywhere: tags `action` and `note`; markdown `href`; img `stretch_without_padding`.
 * - `element_id`: starts with a letter, then letters, digits or `_`, at most 20 characters, unique in the card.
 * - `name`: every named component's name is unique across the card.
 * - forms and tables sit directly in `body.elements`; a form has a non-empty `name` and at least one submit
 *   button (`form_action_type: "submit"`, or the `action_type: "form_submit"` spelling official samples use);
 *   every interactive component inside a form (FORM_ITEM_TAGS, or a button with a form action) has a
 *   non-empty `name`; a form action outside a form is an error; `multi_select_static`, `multi_select_person`
 *   and a multi-select `select_img` only inside a form.
 * - buttons: `type` / `size` are documented values; `text`, when present, is a plain_text/lark_md object; a
 *   button that does something (behaviours, form action, value or url) has `text` or an `icon` (a bare
 *   `{"tag":"button","element_id":…}` is an official sample, so a do-nothing button may omit both).
 * - behaviours (any component): `behaviors` is an array of objects; a `callback` one carries a `value`.
 * - containers (CONTAINER_TAGS) nest at most 5 deep; at most 5 tables; at most 5 charts (the documented
 *   recommendation, reported as a problem); at most 200 components; at most 30 KB serialised.
 * - chart: `chart_spec` is an object; nothing in it is a function or a string that looks like one
 *   (`function(`, `=>`); `aspect_ratio` / `color_theme` are documented values.
 * - an `audio` component needs `config.enable_forward: false`.
 */

/** Serialised card limit: UTF-8 bytes of `JSON.stringify(card)` (§4.1, §5.2; same 30 × 1024 as the fake). */
export const CARD_MAX_BYTES = 30 * 1024;
/** Components per card (230099 / 11310). Counting rule: see `lintCard`. */
export const CARD_MAX_COMPONENTS = 200;
export const CARD_MAX_TABLES = 5;
export const CARD_MAX_CHARTS = 5;
export const CARD_MAX_CONTAINER_DEPTH = 5;

const TOP_LEVEL_KEYS = new Set(["schema", "config", "card_link", "header", "i18n_header", "body"]);
const REMOVED_TOP_LEVEL_KEYS = new Set(["elements", "i18n_elements", "fallback"]);
const HEADER_TEMPLATES = new Set([
  "blue",
  "wathet",
  "turquoise",
  "green",
  "yellow",
  "orange",
  "red",
  "carmine",
  "violet",
  "purple",
  "indigo",
  "grey",
  "default",
]);
const BUTTON_TYPES = new Set([
  "default",
  "primary",
  "danger",
  "text",
  "primary_text",
  "danger_text",
  "primary_filled",
  "danger_filled",
  "laser",
]);
const BUTTON_SIZES = new Set(["tiny", "small", "medium", "large"]);
const CHART_ASPECT_RATIOS = new Set(["1:1", "2:1", "4:3", "16:9"]);
const CHART_COLOR_THEMES = new Set(["brand", "rainbow", "complementary", "converse", "primary"]);
/** Text objects: payloads of a component, not components of their own. */
const TEXT_TAGS = new Set(["plain_text", "lark_md"]);
/**
 * Tags that open a nesting level. A `column` is part of its `column_set` (one level for the pair): an official
 * sample nests column_set › column three times, which would be 6 levels if columns counted separately.
 */
const CONTAINER_TAGS = new Set(["column_set", "form", "collapsible_panel", "interactive_container"]);
/** Interactive components whose value a form submits: each needs a non-empty, card-unique `name`. */
const FORM_ITEM_TAGS = new Set([
  "input",
  "select_static",
  "multi_select_static",
  "select_person",
  "multi_select_person",
  "date_picker",
  "picker_time",
  "picker_datetime",
  "checker",
  "select_img",
]);
const FORM_ONLY_TAGS = new Set(["multi_select_static", "multi_select_person"]);
const FORM_ACTION_TYPES = new Set(["submit", "reset"]);
/** The older spelling of a form action, used by several official samples. */
const LEGACY_FORM_ACTIONS = new Set(["form_submit", "form_reset"]);
const ELEMENT_ID = /^[A-Za-z][A-Za-z0-9_]*$/;
const ELEMENT_ID_MAX = 20;
const FUNCTION_LIKE = /\bfunction\s*\(|=>/;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const show = (v: unknown): string => {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "function") return "a function";
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};
const child = (path: string, key: string): string => (path ? `${path}.${key}` : key);
const oneOf = (set: Set<string>): string => [...set].join(", ");

interface FormScope {
  name: string;
  hasSubmit: boolean;
}

interface Scope {
  /** The enclosing form, if any. */
  form: FormScope | undefined;
  /** Containers (CONTAINER_TAGS) enclosing this node. */
  depth: number;
  /** Under `body` (components there count towards the 200 limit). */
  inBody: boolean;
}

class Linter {
  readonly problems: string[] = [];
  private readonly elementIds = new Map<string, string>();
  private readonly names = new Map<string, string>();
  private readonly ancestors = new Set<object>();
  components = 0;
  private tables = 0;
  private charts = 0;
  firstAudio: string | undefined;

  report(path: string, problem: string): void {
    this.problems.push(`${path || "card"}: ${problem}`);
  }

  /** Walk any JSON value; objects with a string `tag` are checked as components. */
  walk(node: unknown, path: string, scope: Scope): void {
    if (typeof node !== "object" || node === null) return;
    if (this.ancestors.has(node)) {
      this.report(path, "circular reference");
      return;
    }
    this.ancestors.add(node);
    try {
      if (Array.isArray(node)) {
        node.forEach((item, i) => {
          this.walk(item, `${path}[${i}]`, scope);
        });
        return;
      }
      const obj = node as Json;
      if (typeof obj.tag === "string") {
        this.component(obj, obj.tag, path, scope);
        return;
      }
      for (const [key, value] of Object.entries(obj)) this.walk(value, child(path, key), scope);
    } finally {
      this.ancestors.delete(node);
    }
  }

  private component(el: Json, tag: string, path: string, scope: Scope): void {
    if (scope.inBody && !TEXT_TAGS.has(tag)) this.components += 1;

    this.removedV1(el, tag, path);
    this.elementId(el, path);
    if (typeof el.name === "string" && el.name.trim() !== "") this.uniqueName(el.name, path);

    const formAction = formActionOf(el);
    if (formAction !== undefined && !scope.form) {
      this.report(path, `form action ${show(formAction)} outside a form`);
    }
    if (scope.form && (FORM_ITEM_TAGS.has(tag) || (tag === "button" && formAction !== undefined))) {
      if (typeof el.name !== "string" || el.name.trim() === "") {
        this.report(path, `${tag} inside form ${show(scope.form.name)} has no name`);
      }
    }
    if (FORM_ONLY_TAGS.has(tag) && !scope.form) this.report(path, `${tag} only works inside a form`);
    if (tag === "select_img" && el.multi_select === true && !scope.form) {
      this.report(path, "a multi-select select_img only works inside a form");
    }
    if ("behaviors" in el) this.behaviors(el.behaviors, child(path, "behaviors"));

    let inner = scope;
    switch (tag) {
      case "button":
        this.button(el, path, scope, formAction);
        break;
      case "form":
        inner = this.form(el, path, scope);
        break;
      case "table":
        this.tables += 1;
        if (!/^body\.elements\[\d+\]$/.test(path)) {
          this.report(path, "a table must sit directly in body.elements");
        }
        if (this.tables > CARD_MAX_TABLES) {
          this.report(path, `table #${this.tables}: a card may hold at most ${CARD_MAX_TABLES} tables`);
        }
        break;
      case "chart":
        this.chart(el, path);
        break;
      case "audio":
        this.firstAudio ??= path;
        break;
    }

    if (CONTAINER_TAGS.has(tag)) {
      const depth = inner.depth + 1;
      if (depth === CARD_MAX_CONTAINER_DEPTH + 1) {
        this.report(path, `containers nest ${depth} deep; at most ${CARD_MAX_CONTAINER_DEPTH} are allowed`);
      }
      inner = Object.assign({}, inner, { depth });
    }

    for (const [key, value] of Object.entries(el)) {
      // Data, not components: the VChart spec (checked by `chart`) and table rows.
      if (tag === "chart" && key === "chart_spec") continue;
      if (tag === "table" && key === "rows") continue;
      this.walk(value, child(path, key), inner);
    }

    if (tag === "form" && inner.form && !inner.form.hasSubmit) {
      this.report(path, `form ${show(inner.form.name)} has no submit button (form_action_type: "submit")`);
    }
  }

  private removedV1(el: Json, tag: string, path: string): void {
    if (tag === "action") {
      this.report(path, `the 1.0 "action" wrapper was removed in 2.0; put its buttons directly in elements`);
    } else if (tag === "note") {
      this.report(path, `the 1.0 "note" element was removed in 2.0`);
    } else if (tag === "markdown" && "href" in el) {
      this.report(child(path, "href"), "markdown href was removed in 2.0; write links in the content");
    } else if (tag === "img" && "stretch_without_padding" in el) {
      this.report(child(path, "stretch_without_padding"), "img stretch_without_padding was removed in 2.0");
    }
  }

  private elementId(el: Json, path: string): void {
    if (!("element_id" in el)) return;
    const id = el.element_id;
    const at = child(path, "element_id");
    if (typeof id !== "string") {
      this.report(at, `element_id must be a string, got ${show(id)}`);
      return;
    }
    if (!ELEMENT_ID.test(id)) {
      this.report(at, `element_id ${show(id)} must start with a letter and hold only letters, digits and _`);
    }
    if (id.length > ELEMENT_ID_MAX) {
      this.report(at, `element_id ${show(id)} is ${id.length} characters; at most ${ELEMENT_ID_MAX} allowed`);
    }
    const first = this.elementIds.get(id);
    if (first !== undefined) this.report(at, `element_id ${show(id)} is already used at ${first}`);
    else this.elementIds.set(id, path);
  }

  private uniqueName(name: string, path: string): void {
    const first = this.names.get(name);
    if (first !== undefined)
      this.report(child(path, "name"), `name ${show(name)} is already used at ${first}`);
    else this.names.set(name, path);
  }

  private behaviors(list: unknown, path: string): void {
    if (!Array.isArray(list)) {
      this.report(path, "behaviors must be an array");
      return;
    }
    list.forEach((b, i) => {
      const at = `${path}[${i}]`;
      if (!isObject(b)) this.report(at, "a behaviour must be an object");
      else if (typeof b.type !== "string") this.report(at, "a behaviour needs a type");
      else if (b.type === "callback" && (b.value === undefined || b.value === null)) {
        this.report(at, "callback behaviour has no value");
      }
    });
  }

  private button(el: Json, path: string, scope: Scope, formAction: unknown): void {
    if ("type" in el && !(typeof el.type === "string" && BUTTON_TYPES.has(el.type))) {
      this.report(child(path, "type"), `button type ${show(el.type)} is not one of ${oneOf(BUTTON_TYPES)}`);
    }
    if ("size" in el && !(typeof el.size === "string" && BUTTON_SIZES.has(el.size))) {
      this.report(child(path, "size"), `button size ${show(el.size)} is not one of ${oneOf(BUTTON_SIZES)}`);
    }
    if ("text" in el) {
      const t = el.text;
      if (
        !isObject(t) ||
        typeof t.tag !== "string" ||
        !TEXT_TAGS.has(t.tag) ||
        typeof t.content !== "string"
      ) {
        this.report(
          child(path, "text"),
          "button text must be a plain_text or lark_md object with string content",
        );
      }
    } else if (!("icon" in el)) {
      const acts =
        "behaviors" in el || formAction !== undefined || el.value !== undefined || el.url !== undefined;
      if (acts) this.report(path, "button has no text (and no icon)");
    }
    if ("form_action_type" in el && !FORM_ACTION_TYPES.has(el.form_action_type as string)) {
      this.report(
        child(path, "form_action_type"),
        `form_action_type ${show(el.form_action_type)} is not one of ${oneOf(FORM_ACTION_TYPES)}`,
      );
    }
    if (scope.form && (el.form_action_type === "submit" || el.action_type === "form_submit")) {
      scope.form.hasSubmit = true;
    }
  }

  private form(el: Json, path: string, scope: Scope): Scope {
    if (!/^body\.elements\[\d+\]$/.test(path)) {
      this.report(path, "a form must sit directly in body.elements");
    }
    const name = typeof el.name === "string" ? el.name : "";
    if (name.trim() === "") this.report(path, "form has no name");
    return Object.assign({}, scope, { form: { name, hasSubmit: false } });
  }

  private chart(el: Json, path: string): void {
    this.charts += 1;
    if (this.charts > CARD_MAX_CHARTS) {
      this.report(path, `chart #${this.charts}: use at most ${CARD_MAX_CHARTS} charts per card`);
    }
    const at = child(path, "chart_spec");
    if (!("chart_spec" in el)) this.report(path, "chart has no chart_spec");
    else if (!isObject(el.chart_spec)) this.report(at, "chart_spec must be an object");
    else this.noFunctions(el.chart_spec, at);
    if ("aspect_ratio" in el && !CHART_ASPECT_RATIOS.has(el.aspect_ratio as string)) {
      this.report(
        child(path, "aspect_ratio"),
        `chart aspect_ratio ${show(el.aspect_ratio)} is not one of ${oneOf(CHART_ASPECT_RATIOS)}`,
      );
    }
    if ("color_theme" in el && !CHART_COLOR_THEMES.has(el.color_theme as string)) {
      this.report(
        child(path, "color_theme"),
        `chart color_theme ${show(el.color_theme)} is not one of ${oneOf(CHART_COLOR_THEMES)}`,
      );
    }
  }

  /** Charts take no JavaScript: neither function values nor strings that look like functions. */
  private noFunctions(node: unknown, path: string): void {
    if (typeof node === "function") {
      this.report(path, "chart_spec may not contain functions");
    } else if (typeof node === "string") {
      if (FUNCTION_LIKE.test(node))
        this.report(path, `chart_spec may not contain functions, got ${show(node)}`);
    } else if (typeof node === "object" && node !== null) {
      if (this.ancestors.has(node)) {
        this.report(path, "circular reference");
        return;
      }
      this.ancestors.add(node);
      if (Array.isArray(node)) {
        node.forEach((v, i) => {
          this.noFunctions(v, `${path}[${i}]`);
        });
      } else {
        for (const [k, v] of Object.entries(node)) this.noFunctions(v, child(path, k));
      }
      this.ancestors.delete(node);
    }
  }
}

/** The form action a component declares, in either spelling; undefined when it declares none. */
function formActionOf(el: Json): unknown {
  if ("form_action_type" in el) return el.form_action_type;
  if (typeof el.action_type === "string" && LEGACY_FORM_ACTIONS.has(el.action_type)) return el.action_type;
  return undefined;
}

function checkHeader(lint: Linter, header: unknown, path: string): void {
  if (!isObject(header)) {
    lint.report(path, "header must be an object");
    return;
  }
  if ("template" in header && !HEADER_TEMPLATES.has(header.template as string)) {
    lint.report(
      child(path, "template"),
      `header template ${show(header.template)} is not one of ${oneOf(HEADER_TEMPLATES)}`,
    );
  }
}

function serialisedBytes(card: unknown): number | string {
  try {
    return new TextEncoder().encode(JSON.stringify(card) ?? "").length;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Lint a Card JSON 2.0 card: `[]` when fine, else one `path: problem` line per problem.
 *
 * Component counting rule (for the 200 limit): every object with a string `tag` reached from `body.elements`
 * counts — elements, columns, icons, option icons and so on — except `plain_text` / `lark_md` text objects;
 * the contents of `chart_spec` and table `rows` are data and are not searched. The header does not count.
 */
export function lintCard(card: unknown): string[] {
  const lint = new Linter();
  if (!isObject(card)) {
    lint.report("", `a card must be a JSON object, got ${Array.isArray(card) ? "an array" : show(card)}`);
    return lint.problems;
  }

  if (card.schema !== "2.0") lint.report("schema", `must be "2.0", got ${show(card.schema)}`);
  for (const key of Object.keys(card)) {
    if (REMOVED_TOP_LEVEL_KEYS.has(key)) {
      lint.report(key, `top-level ${key} was removed in 2.0; put components in body.elements`);
    } else if (!TOP_LEVEL_KEYS.has(key)) {
      lint.report(key, `unknown top-level property (allowed: ${oneOf(TOP_LEVEL_KEYS)})`);
    }
  }

  if ("config" in card) {
    if (!isObject(card.config)) lint.report("config", "config must be an object");
    else if (card.config.update_multi === false) {
      lint.report("config.update_multi", "2.0 cards only support update_multi: true");
    }
  }

  const outside: Scope = { form: undefined, depth: 0, inBody: false };
  if ("header" in card) {
    checkHeader(lint, card.header, "header");
    lint.walk(card.header, "header", outside);
  }
  if ("i18n_header" in card) {
    if (!isObject(card.i18n_header)) lint.report("i18n_header", "i18n_header must be an object");
    else {
      for (const [locale, header] of Object.entries(card.i18n_header)) {
        checkHeader(lint, header, `i18n_header.${locale}`);
      }
      lint.walk(card.i18n_header, "i18n_header", outside);
    }
  }

  if ("body" in card) {
    if (!isObject(card.body)) lint.report("body", "body must be an object");
    else if ("elements" in card.body) {
      if (!Array.isArray(card.body.elements)) lint.report("body.elements", "body.elements must be an array");
      else lint.walk(card.body.elements, "body.elements", { form: undefined, depth: 0, inBody: true });
    }
  }

  if (lint.components > CARD_MAX_COMPONENTS) {
    lint.report("body", `${lint.components} components; a card may hold at most ${CARD_MAX_COMPONENTS}`);
  }
  if (lint.firstAudio !== undefined) {
    const config = isObject(card.config) ? card.config : {};
    if (config.enable_forward !== false) {
      lint.report(
        "config.enable_forward",
        `must be false on a card with an audio component (${lint.firstAudio})`,
      );
    }
  }
  const bytes = serialisedBytes(card);
  if (typeof bytes === "string") lint.report("", `cannot be serialised to JSON: ${bytes}`);
  else if (bytes > CARD_MAX_BYTES) {
    lint.report("", `serialised size ${bytes} bytes exceeds ${CARD_MAX_BYTES} bytes (30 KB)`);
  }
  return lint.problems;
}
