// Card JSON 2.0 → DOM, the way the Lark client shows it: header with its template colour, subtitle and
// tags; markdown, div, hr, column sets, buttons (callback behaviours, confirm dialogs), forms with inputs,
// selects, multi-selects, date pickers and checkers, collapsible panels, tables, images and charts.
// Clicking or submitting calls `ctx.act(...)` with what Lark would put in the callback's `action`.
import { renderChart } from "./chart.js";
import { escapeHtml, renderMarkdown } from "./markdown.js";

const h = (tag, cls, html) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (html !== undefined) e.innerHTML = html;
  return e;
};

/** Text of a `plain_text` / `lark_md` object (or a bare string). */
function textOf(t, names) {
  if (t === undefined || t === null) return "";
  if (typeof t === "string") return escapeHtml(t);
  if (t.tag === "lark_md" || t.tag === "markdown") return renderMarkdown(t.content ?? "", names);
  return escapeHtml(t.content ?? "").replace(/\n/g, "<br>");
}

const callbackValue = (el) => (el.behaviors ?? []).find((b) => b.type === "callback")?.value;
const openUrl = (el) => (el.behaviors ?? []).find((b) => b.type === "open_url");

/**
 * Render a card. `ctx`: `names` (open_id → name), `act(action)` (returns a promise; the card stays
 * locked until it settles), `confirm({title, text})` (resolves true to go on).
 */
export function renderCard(card, ctx) {
  const root = h("div", "card");
  if (!card || typeof card !== "object") {
    root.append(h("div", "unsupported", "空卡片"));
    return root;
  }
  if (card.type === "template") {
    root.append(
      h("div", "unsupported", `模板卡片 ${escapeHtml(card.data?.template_id ?? "")}（沙箱不渲染模板）`),
    );
    return root;
  }
  if (card.schema !== "2.0") root.append(h("div", "unsupported", "不是 2.0 卡片（schema 缺失）"));
  const header = card.header;
  if (header && (header.title || header.subtitle)) {
    const hd = h("div", `card-header tpl-${header.template ?? "default"}`);
    const row = h("div", "card-title-row");
    row.append(h("div", "card-title", textOf(header.title, ctx.names)));
    for (const tag of header.text_tag_list ?? []) {
      row.append(h("span", `tag tag-${tag.color ?? "neutral"}`, textOf(tag.text, ctx.names)));
    }
    hd.append(row);
    if (header.subtitle) hd.append(h("div", "card-subtitle", textOf(header.subtitle, ctx.names)));
    root.append(hd);
  }
  const body = h("div", "card-body");
  const scope = { form: null };
  for (const el of card.body?.elements ?? card.elements ?? []) body.append(element(el, ctx, scope));
  root.append(body);
  return root;
}

function element(el, ctx, scope) {
  switch (el?.tag) {
    case "markdown": {
      const e = h("div", `md size-${el.text_size ?? "normal"}`, renderMarkdown(el.content, ctx.names));
      if (el.text_align) e.style.textAlign = el.text_align;
      return e;
    }
    case "div": {
      const e = h("div", "md", textOf(el.text, ctx.names));
      for (const f of el.fields ?? []) e.append(h("div", "md-field", textOf(f.text, ctx.names)));
      return e;
    }
    case "plain_text":
      return h("div", "md", textOf(el, ctx.names));
    case "hr":
      return h("hr", "card-hr");
    case "column_set":
      return columnSet(el, ctx, scope);
    case "button":
      return button(el, ctx, scope);
    case "form":
      return form(el, ctx);
    case "input":
      return input(el, ctx, scope);
    case "select_static":
      return select(el, ctx, scope, false);
    case "multi_select_static":
      return select(el, ctx, scope, true);
    case "select_person":
    case "multi_select_person":
      return select(personOptions(el, ctx), ctx, scope, el.tag === "multi_select_person");
    case "overflow":
      return overflow(el, ctx);
    case "interactive_container":
      return container(el, ctx, scope);
    case "select_img":
      return imagePicker(el, ctx, scope);
    case "img_combination":
      return h("div", "card-img", `🖼 ${(el.img_list ?? []).length} 张图片（沙箱不加载图片）`);
    case "audio":
      return h("div", "card-img", "🔊 语音（沙箱不播放）");
    case "date_picker":
    case "picker_time":
    case "picker_datetime":
      return picker(el, scope);
    case "checker":
      return checker(el, ctx, scope);
    case "collapsible_panel":
      return panel(el, ctx, scope);
    case "table":
      return table(el, ctx);
    case "chart": {
      const e = h("div", "card-chart", renderChart(el));
      return e;
    }
    case "img":
      return h("div", "card-img", `🖼 ${textOf(el.alt, ctx.names) || "图片"}（沙箱不加载图片）`);
    case "person":
      return h(
        "div",
        "md",
        `<span class="person">${escapeHtml(ctx.names.get(el.user_id) ?? el.user_id)}</span>`,
      );
    case "person_list":
      return h(
        "div",
        "md",
        (el.persons ?? [])
          .map((p) => `<span class="person">${escapeHtml(ctx.names.get(p.id) ?? p.id)}</span>`)
          .join(" "),
      );
    default:
      return h("div", "unsupported", `沙箱暂不支持的元素：${escapeHtml(el?.tag ?? "?")}`);
  }
}

function columnSet(el, ctx, scope) {
  const row = h("div", "column-set");
  row.style.gap = el.horizontal_spacing ?? "8px";
  for (const col of el.columns ?? []) {
    const c = h("div", "column");
    if (col.width === "auto") c.style.flex = "0 0 auto";
    else if (col.width && col.width !== "weighted") c.style.flex = `0 0 ${col.width}`;
    else c.style.flex = `${col.weight ?? 1} 1 0`;
    c.style.justifyContent =
      { top: "flex-start", center: "center", bottom: "flex-end" }[col.vertical_align] ?? "";
    for (const child of col.elements ?? []) c.append(element(child, ctx, scope));
    row.append(c);
  }
  return row;
}

function button(el, ctx, scope) {
  const b = h("button", `btn btn-${el.type ?? "default"} size-${el.size ?? "medium"}`);
  b.type = "button";
  b.innerHTML = textOf(el.text, ctx.names);
  if (el.width === "fill") b.classList.add("fill");
  if (el.disabled) b.disabled = true;
  const form = scope.form;
  b.addEventListener("click", async () => {
    if (el.confirm) {
      const go = await ctx.confirm({
        title: el.confirm.title?.content ?? "",
        text: el.confirm.text?.content ?? "",
      });
      if (!go) return;
    }
    const url = openUrl(el);
    if (url) {
      window.open(url.pc_url || url.default_url, "_blank", "noopener");
      return;
    }
    if (el.form_action_type === "reset" && form) {
      form.reset();
      return;
    }
    const action = { value: callbackValue(el) ?? {}, tag: "button" };
    if (el.name) action.name = el.name;
    if (el.form_action_type === "submit" && form) {
      const collected = form.collect();
      if (!collected) return;
      action.formValue = collected;
    }
    await ctx.act(action, b);
  });
  return b;
}

/** A form: items register a getter; submit collects every named value and checks required ones. */
function form(el, ctx) {
  const e = h("div", "card-form");
  const items = [];
  const f = {
    add: (item) => items.push(item),
    collect() {
      const out = {};
      let missing = false;
      for (const it of items) {
        const v = it.get();
        const empty = v === undefined || v === "" || (Array.isArray(v) && v.length === 0);
        it.mark(it.required && empty);
        if (it.required && empty) missing = true;
        if (!empty) out[it.name] = v;
      }
      return missing ? null : out;
    },
    reset() {
      for (const it of items) it.reset();
    },
  };
  const scope = { form: f };
  for (const child of el.elements ?? []) e.append(element(child, ctx, scope));
  return e;
}

function field(el, ctx, control) {
  const wrap = h("div", "field");
  if (el.label) {
    const label = h("div", "field-label", textOf(el.label, ctx.names));
    if (el.required) label.insertAdjacentHTML("afterbegin", '<span class="req">*</span>');
    wrap.append(label);
  }
  wrap.append(control);
  if (el.label_position === "left") wrap.classList.add("label-left");
  return wrap;
}

function input(el, ctx, scope) {
  const multiline = el.input_type === "multiline_text";
  const control = document.createElement(multiline ? "textarea" : "input");
  control.className = "card-input";
  if (!multiline) control.type = el.input_type === "password" ? "password" : "text";
  if (multiline) control.rows = el.rows ?? 3;
  control.placeholder = el.placeholder?.content ?? "";
  if (el.name) control.name = el.name;
  if (el.max_length) control.maxLength = el.max_length;
  const initial = el.default_value ?? "";
  control.value = initial;
  if (el.disabled) control.disabled = true;
  if (scope.form && el.name) {
    scope.form.add({
      name: el.name,
      required: !!el.required,
      get: () => control.value,
      mark: (bad) => control.classList.toggle("invalid", bad),
      reset: () => {
        control.value = initial;
      },
    });
  } else if (!multiline) {
    control.addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter" || control.value === "") return;
      const action = { value: callbackValue(el) ?? {}, tag: "input", inputValue: control.value };
      if (el.name) action.name = el.name;
      void ctx.act(action, control);
    });
  }
  return field(el, ctx, control);
}

/** A dropdown like Lark's: click to open, click an option (multi: tick several). */
function select(el, ctx, scope, multi) {
  const opts = (el.options ?? []).map((o) => ({ value: o.value, label: textOf(o.text, ctx.names) }));
  const initial = multi
    ? [...(el.selected_values ?? [])]
    : (el.initial_option ?? el.initial_index ?? undefined);
  let chosen = multi ? [...initial] : typeof initial === "number" ? opts[initial]?.value : initial;
  const wrap = h("div", `select${multi ? " multi" : ""}`);
  if (el.name) wrap.dataset.name = el.name;
  const shown = h("button", "select-shown");
  shown.type = "button";
  const menu = h("div", "select-menu");
  menu.hidden = true;
  const paint = () => {
    if (multi) {
      const labels = opts
        .filter((o) => chosen.includes(o.value))
        .map((o) => `<span class="chip">${o.label}</span>`);
      shown.innerHTML = labels.length
        ? labels.join("")
        : `<span class="ph">${escapeHtml(el.placeholder?.content ?? "请选择")}</span>`;
    } else {
      const o = opts.find((x) => x.value === chosen);
      shown.innerHTML = o
        ? o.label
        : `<span class="ph">${escapeHtml(el.placeholder?.content ?? "请选择")}</span>`;
    }
    for (const item of menu.children) {
      const v = item.dataset.value;
      const on = multi ? chosen.includes(v) : chosen === v;
      item.classList.toggle("on", on);
      item.setAttribute("aria-selected", String(on));
    }
  };
  for (const o of opts) {
    const item = h("div", "select-option", `<span class="tick">✓</span>${o.label}`);
    item.dataset.value = o.value;
    item.setAttribute("role", "option");
    item.setAttribute("aria-label", h("span", "", o.label).textContent);
    item.addEventListener("click", (ev) => {
      ev.stopPropagation();
      if (multi) {
        chosen = chosen.includes(o.value) ? chosen.filter((v) => v !== o.value) : [...chosen, o.value];
        paint();
        return;
      }
      chosen = o.value;
      menu.hidden = true;
      paint();
      if (!scope.form) {
        const action = { value: callbackValue(el) ?? {}, tag: "select_static", option: o.value };
        if (el.name) action.name = el.name;
        void ctx.act(action, shown);
      }
    });
    menu.append(item);
  }
  shown.addEventListener("click", (ev) => {
    ev.stopPropagation();
    const open = menu.hidden;
    for (const m of document.querySelectorAll(".select-menu")) m.hidden = true;
    menu.hidden = !open;
  });
  if (el.disabled) shown.disabled = true;
  wrap.append(shown, menu);
  paint();
  if (scope.form && el.name) {
    const first = multi ? [...chosen] : chosen;
    scope.form.add({
      name: el.name,
      required: !!el.required,
      get: () => (multi ? [...chosen] : chosen),
      mark: (bad) => shown.classList.toggle("invalid", bad),
      reset: () => {
        chosen = multi ? [...first] : first;
        paint();
      },
    });
  }
  return field(el, ctx, wrap);
}

function picker(el, scope) {
  const control = document.createElement("input");
  control.className = "card-input";
  control.type = el.tag === "date_picker" ? "date" : el.tag === "picker_time" ? "time" : "datetime-local";
  const initial = el.initial_date ?? el.initial_time ?? el.initial_datetime ?? "";
  control.value = initial;
  if (scope.form && el.name) {
    scope.form.add({
      name: el.name,
      required: !!el.required,
      get: () => (control.value ? `${control.value.replace("T", " ")} +0800` : ""),
      mark: (bad) => control.classList.toggle("invalid", bad),
      reset: () => {
        control.value = initial;
      },
    });
  }
  return control;
}

function checker(el, ctx, scope) {
  const label = h("label", "checker");
  const box = document.createElement("input");
  box.type = "checkbox";
  box.checked = !!el.checked;
  label.append(box);
  label.insertAdjacentHTML("beforeend", textOf(el.text, ctx.names));
  if (scope.form && el.name) {
    scope.form.add({
      name: el.name,
      required: false,
      get: () => box.checked,
      mark: () => {},
      reset: () => {
        box.checked = !!el.checked;
      },
    });
  } else {
    box.addEventListener("change", () => {
      void ctx.act({ value: callbackValue(el) ?? {}, tag: "checker", checked: box.checked }, label);
    });
  }
  return label;
}

function panel(el, ctx, scope) {
  const d = document.createElement("details");
  d.className = "panel";
  if (el.expanded) d.open = true;
  const s = document.createElement("summary");
  s.innerHTML = textOf(el.header?.title, ctx.names) || "展开";
  d.append(s);
  for (const child of el.elements ?? []) d.append(element(child, ctx, scope));
  return d;
}

function table(el, ctx) {
  const t = h("table", "card-table");
  const cols = el.columns ?? [];
  const head = h("tr");
  for (const c of cols) head.append(h("th", "", escapeHtml(c.display_name ?? c.name)));
  t.append(head);
  for (const row of el.rows ?? []) {
    const tr = h("tr");
    for (const c of cols) {
      const v = row[c.name];
      tr.append(h("td", "", cell(c, v, ctx)));
    }
    t.append(tr);
  }
  return t;
}

/** A table cell by column type: markdown, options (tags), persons, numbers with their format, text. */
function cell(c, v, ctx) {
  if (v === undefined || v === null) return "";
  if (c.data_type === "lark_md" || c.data_type === "markdown") return renderMarkdown(String(v), ctx.names);
  if (c.data_type === "options") {
    return (Array.isArray(v) ? v : [v])
      .map(
        (o) => `<span class="tag tag-${escapeHtml(o.color ?? "neutral")}">${escapeHtml(o.text ?? o)}</span>`,
      )
      .join(" ");
  }
  if (c.data_type === "persons") {
    return (Array.isArray(v) ? v : [v])
      .map((id) => `<span class="person">${escapeHtml(ctx.names.get(id) ?? id)}</span>`)
      .join(" ");
  }
  if (c.data_type === "number" && typeof v === "number") {
    const f = c.format ?? {};
    const n = v.toLocaleString("zh-CN", {
      minimumFractionDigits: f.precision ?? 0,
      maximumFractionDigits: f.precision ?? 2,
      useGrouping: !!f.separator,
    });
    return escapeHtml(`${f.symbol ?? ""}${n}`);
  }
  if (c.data_type === "date" && typeof v === "number") return escapeHtml(new Date(v).toLocaleString("zh-CN"));
  return escapeHtml(typeof v === "object" ? JSON.stringify(v) : v);
}

/** A person picker is a select whose options are people (the chat's members when the card lists none). */
function personOptions(el, ctx) {
  const ids = (el.options ?? []).length ? el.options.map((o) => o.value) : (ctx.members ?? []);
  const options = ids.map((id) => ({
    value: id,
    text: { tag: "plain_text", content: ctx.names.get(id) ?? id },
  }));
  return { ...el, options };
}

/** The "⋯" menu: picking an option calls back with `option`. */
function overflow(el, ctx) {
  const wrap = h("div", "select overflow");
  const b = h("button", "btn btn-default", "⋯");
  b.type = "button";
  const menu = h("div", "select-menu");
  menu.hidden = true;
  for (const o of el.options ?? []) {
    const item = h("div", "select-option", textOf(o.text, ctx.names));
    item.setAttribute("role", "option");
    item.addEventListener("click", (ev) => {
      ev.stopPropagation();
      menu.hidden = true;
      const url = o.multi_url?.url;
      if (url) {
        window.open(url, "_blank", "noopener");
        return;
      }
      void ctx.act({ value: callbackValue(el) ?? {}, tag: "overflow", option: o.value }, b);
    });
    menu.append(item);
  }
  b.addEventListener("click", (ev) => {
    ev.stopPropagation();
    menu.hidden = !menu.hidden;
  });
  wrap.append(b, menu);
  return wrap;
}

/** A bordered area; when it has a callback behaviour, clicking it calls back. */
function container(el, ctx, scope) {
  const e = h("div", `container${el.has_border ? " bordered" : ""}`);
  if (el.padding) e.style.padding = el.padding;
  for (const child of el.elements ?? []) e.append(element(child, ctx, scope));
  const value = callbackValue(el);
  const url = openUrl(el);
  if (value !== undefined || url) {
    e.classList.add("clickable");
    e.addEventListener("click", (ev) => {
      if (ev.target.closest("button, input, textarea, .select")) return;
      if (url) window.open(url.pc_url || url.default_url, "_blank", "noopener");
      else void ctx.act({ value, tag: "interactive_container" }, e);
    });
  }
  return e;
}

/** Picture choices, shown as labelled tiles (the sandbox loads no images). */
function imagePicker(el, ctx, scope) {
  const e = h("div", "img-picker");
  let chosen = [];
  for (const o of el.options ?? []) {
    const tile = h("button", "img-tile", `🖼 ${textOf(o.hover_tips, ctx.names) || escapeHtml(o.value)}`);
    tile.type = "button";
    if (o.disabled) tile.disabled = true;
    tile.addEventListener("click", () => {
      chosen = el.multi_select
        ? chosen.includes(o.value)
          ? chosen.filter((v) => v !== o.value)
          : [...chosen, o.value]
        : [o.value];
      for (const t of e.children) t.classList.toggle("on", chosen.includes(t.dataset.value));
      if (!scope.form)
        void ctx.act({ value: callbackValue(el) ?? {}, tag: "select_img", option: o.value }, tile);
    });
    tile.dataset.value = o.value;
    e.append(tile);
  }
  if (scope.form && el.name) {
    scope.form.add({
      name: el.name,
      required: !!el.required,
      get: () => (el.multi_select ? chosen : chosen[0]),
      mark: (bad) => e.classList.toggle("invalid", bad),
      reset: () => {
        chosen = [];
        for (const t of e.children) t.classList.remove("on");
      },
    });
  }
  return e;
}
