// Card markdown (lark_md) as Lark shows it: **bold**, *italic*, ~~strike~~, `code`, [links](url),
// headings, lists, quotes, <font color>, <at id>, <person>, <text_tag>, and HTML entities such as
// &#60; (the bot escapes people's text that way). Returns HTML; everything else is escaped.

const FONT_COLORS = {
  red: "#f54a45",
  green: "#32a645",
  grey: "#8f959e",
  gray: "#8f959e",
  blue: "#3370ff",
  orange: "#ff8800",
  yellow: "#dc9b04",
  purple: "#7f3bf5",
  violet: "#7f3bf5",
  carmine: "#e1226b",
  turquoise: "#04b49c",
  wathet: "#1e9ed1",
  indigo: "#4954e6",
};

/** Escape text for HTML, keeping character references (&#60; &amp; …) as they are. */
export function escapeHtml(s) {
  return String(s)
    .replace(/&(?!#\d+;|#x[0-9a-fA-F]+;|[a-zA-Z]+;)/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

const attr = (tag, name) => {
  const m = new RegExp(`${name}\\s*=\\s*(?:'([^']*)'|"([^"]*)"|([^\\s>]+))`).exec(tag);
  return m ? (m[1] ?? m[2] ?? m[3] ?? "") : "";
};

/** `@name` for an open_id (or @所有人). */
export function mention(id, names) {
  if (id === "all") return `<span class="at at-all">@所有人</span>`;
  const name = names.get(id);
  return `<span class="at" title="${escapeHtml(id)}">@${escapeHtml(name ?? id)}</span>`;
}

/**
 * Replace Lark's markup tags by placeholder tokens (so escaping leaves them alone) and return the
 * text with a restore function.
 */
function protectTags(text, names) {
  const saved = [];
  const keep = (html) => {
    saved.push(html);
    return `\uE000${saved.length - 1}\uE000`;
  };
  const out = text
    .replace(/<at\s+([^>]*)>\s*<\/at>/g, (_m, attrs) => {
      const ids = attr(attrs, "ids");
      if (ids)
        return keep(
          ids
            .split(",")
            .map((id) => mention(id.trim(), names))
            .join(" "),
        );
      const id = attr(attrs, "id") || attr(attrs, "user_id") || attr(attrs, "email");
      return keep(mention(id, names));
    })
    .replace(/<person\s+([^>]*)>\s*<\/person>/g, (_m, attrs) => {
      const id = attr(attrs, "id");
      return keep(`<span class="person">${escapeHtml(names.get(id) ?? id)}</span>`);
    })
    .replace(/<font\s+([^>]*)>/g, (_m, attrs) => {
      const c = attr(attrs, "color");
      const css = FONT_COLORS[c] ?? (/^#[0-9a-fA-F]{3,8}$/.test(c) ? c : "inherit");
      return keep(`<span style="color:${css}">`);
    })
    .replace(/<\/font>/g, () => keep("</span>"))
    .replace(/<text_tag\s*([^>]*)>([^<]*)<\/text_tag>/g, (_m, attrs, inner) =>
      keep(
        `<span class="tag tag-${escapeHtml(attr(attrs, "color") || "neutral")}">${escapeHtml(inner)}</span>`,
      ),
    )
    .replace(/<br\s*\/?>/g, () => keep("<br>"));
  return { text: out, restore: (s) => s.replace(/\uE000(\d+)\uE000/g, (_m, i) => saved[Number(i)]) };
}

function inline(s) {
  return s
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+?)\*\*/g, "<b>$1</b>")
    .replace(/~~([^~]+?)~~/g, "<s>$1</s>")
    .replace(/(^|[^*])\*([^*\s][^*]*?)\*/g, "$1<i>$2</i>")
    .replace(
      /\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g,
      '<a href="$2" target="_blank" rel="noopener noreferrer">$1</a>',
    );
}

/** lark_md / markdown element content → HTML. */
export function renderMarkdown(text, names = new Map()) {
  const { text: plain, restore } = protectTags(String(text ?? ""), names);
  const lines = escapeHtml(plain).split("\n");
  const out = [];
  let list = null;
  const closeList = () => {
    if (list) out.push(`</${list}>`);
    list = null;
  };
  for (const line of lines) {
    let m = /^(#{1,4})\s+(.*)$/.exec(line);
    if (m) {
      closeList();
      out.push(`<div class="md-h md-h${m[1].length}">${inline(m[2])}</div>`);
      continue;
    }
    m = /^\s*[-*]\s+(.*)$/.exec(line);
    if (m) {
      if (list !== "ul") {
        closeList();
        out.push("<ul>");
        list = "ul";
      }
      out.push(`<li>${inline(m[1])}</li>`);
      continue;
    }
    m = /^\s*\d+\.\s+(.*)$/.exec(line);
    if (m) {
      if (list !== "ol") {
        closeList();
        out.push("<ol>");
        list = "ol";
      }
      out.push(`<li>${inline(m[1])}</li>`);
      continue;
    }
    closeList();
    m = /^&gt;\s?(.*)$/.exec(line);
    if (m) {
      out.push(`<blockquote>${inline(m[1])}</blockquote>`);
      continue;
    }
    if (/^\s*(---+|\*\*\*+)\s*$/.test(line)) {
      out.push("<hr>");
      continue;
    }
    out.push(`<div class="md-line">${line === "" ? "&nbsp;" : inline(line)}</div>`);
  }
  closeList();
  return restore(out.join(""));
}

/** A plain text message of the bot: `<at user_id="ou_…">Name</at>` becomes @Name; the rest is text. */
export function renderTextMessage(text, names = new Map(), mentions = []) {
  const keys = new Map(mentions.map((m) => [m.key, m]));
  const saved = [];
  const keep = (html) => {
    saved.push(html);
    return `\uE000${saved.length - 1}\uE000`;
  };
  const protectedText = String(text ?? "")
    .replace(/<at\s+([^>]*)>([^<]*)<\/at>/g, (_m, attrs, inner) => {
      const id = attr(attrs, "user_id") || attr(attrs, "id");
      if (id === "all") return keep(mention("all", names));
      return keep(`<span class="at">@${escapeHtml(inner || names.get(id) || id)}</span>`);
    })
    .replace(/@_user_\d+|@_all/g, (key) => {
      if (key === "@_all") return keep(mention("all", names));
      const m = keys.get(key);
      return m ? keep(`<span class="at">@${escapeHtml(m.name)}</span>`) : key;
    });
  return escapeHtml(protectedText)
    .replace(/\n/g, "<br>")
    .replace(/\uE000(\d+)\uE000/g, (_m, i) => saved[Number(i)]);
}
