// A small SVG renderer for the VChart specs the bot emits (bar, grouped or stacked by seriesField,
// line, pie): title, axes, value labels, legend. Not VChart itself; faithful to what the cards say.

const PALETTES = {
  brand: ["#1664ff", "#1ac6ff", "#ff8a00", "#3cc780", "#7442d4", "#ffc400", "#304d77", "#b48deb"],
  rainbow: ["#f54a45", "#ff8800", "#ffc60a", "#34c724", "#14c0ff", "#3370ff", "#7f3bf5", "#f14bb6"],
  complementary: ["#3370ff", "#ff8800", "#34c724", "#f54a45", "#7f3bf5", "#14c0ff"],
  converse: ["#7f3bf5", "#34c724", "#ff8800", "#3370ff", "#f54a45", "#14c0ff"],
  primary: ["#3370ff", "#5b8cff", "#82a7ff", "#a9c2ff", "#d0ddff", "#1f4fbf"],
};

const RATIOS = { "1:1": 1, "2:1": 0.5, "4:3": 0.75, "16:9": 0.5625 };

const esc = (s) =>
  String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

function values(spec) {
  const d = spec.data;
  if (Array.isArray(d)) return d.flatMap((x) => (Array.isArray(x?.values) ? x.values : []));
  if (d && Array.isArray(d.values)) return d.values;
  return [];
}

/** Axis top and tick step: a "nice" step (1, 2, 2.5, 5 × 10^k; whole numbers for counts), four or five ticks. */
function axis(max, whole) {
  if (max <= 0) return { top: whole ? 4 : 1, step: whole ? 1 : 0.25 };
  const rough = max / 4;
  const p = 10 ** Math.floor(Math.log10(rough));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * p).find((v) => v >= rough) ?? 10 * p;
  if (whole) step = Math.max(1, Math.ceil(step));
  return { top: Math.ceil(max / step) * step, step };
}

const fmt = (n) => (Number.isInteger(n) ? String(n) : String(Math.round(n * 10) / 10));

/** SVG markup for a chart element (`{tag:"chart", chart_spec, aspect_ratio, color_theme}`). */
export function renderChart(el) {
  const spec = el.chart_spec ?? {};
  const colors = PALETTES[el.color_theme] ?? PALETTES.brand;
  const W = 560;
  const H = Math.round(W * (RATIOS[el.aspect_ratio] ?? 0.5625));
  const title = spec.title?.visible === false ? "" : (spec.title?.text ?? "");
  const rows = values(spec);
  const parts = [];
  const top = title ? 34 : 12;
  if (title) parts.push(`<text x="12" y="22" class="ch-title">${esc(title)}</text>`);
  if (rows.length === 0) {
    parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="ch-empty">暂无数据</text>`);
    return svg(W, H, parts);
  }
  if (spec.type === "pie") return svg(W, H, parts.concat(pie(spec, rows, colors, W, H, top)));

  const x = spec.xField;
  const y = spec.yField;
  const series = spec.seriesField;
  const cats = [...new Set(rows.map((r) => String(r[x])))];
  const names = series ? [...new Set(rows.map((r) => String(r[series])))] : [String(y)];
  const val = (cat, s) =>
    rows
      .filter((r) => String(r[x]) === cat && (!series || String(r[series]) === s))
      .reduce((a, r) => a + Number(r[y] ?? 0), 0);
  const stack = !!spec.stack;
  const legend = series && spec.legends?.visible !== false;
  const bottom = legend ? 48 : 28;
  const left = 40;
  const plotW = W - left - 12;
  const plotH = H - top - bottom;
  const whole = rows.every((r) => Number.isInteger(Number(r[y] ?? 0)));
  const { top: max, step } = axis(
    Math.max(
      ...cats.map((c) =>
        stack ? names.reduce((a, s) => a + val(c, s), 0) : Math.max(...names.map((s) => val(c, s))),
      ),
    ),
    whole,
  );
  const yPos = (v) => top + plotH - (v / max) * plotH;
  for (let v = 0; v <= max + step / 2; v += step) {
    parts.push(
      `<line x1="${left}" x2="${W - 12}" y1="${yPos(v)}" y2="${yPos(v)}" class="ch-grid"/>`,
      `<text x="${left - 6}" y="${yPos(v) + 4}" text-anchor="end" class="ch-axis">${fmt(v)}</text>`,
    );
  }
  const band = plotW / cats.length;
  const showLabel = spec.label?.visible;
  cats.forEach((c, i) => {
    const cx = left + band * i + band / 2;
    parts.push(
      `<text x="${cx}" y="${top + plotH + 16}" text-anchor="middle" class="ch-axis">${esc(c.length > 8 ? `${c.slice(0, 7)}…` : c)}</text>`,
    );
  });
  if (spec.type === "line") {
    names.forEach((s, si) => {
      const pts = cats.map((c, i) => [left + band * i + band / 2, yPos(val(c, s))]);
      parts.push(
        `<polyline fill="none" stroke="${colors[si % colors.length]}" stroke-width="2" points="${pts.map((p) => p.join(",")).join(" ")}"/>`,
        ...pts.map((p) => `<circle cx="${p[0]}" cy="${p[1]}" r="3" fill="${colors[si % colors.length]}"/>`),
      );
    });
  } else {
    const inner = Math.min(band * 0.6, stack ? 48 : 48 * names.length);
    cats.forEach((c, i) => {
      const x0 = left + band * i + (band - inner) / 2;
      let base = 0;
      names.forEach((s, si) => {
        const v = val(c, s);
        const color = colors[si % colors.length];
        if (stack) {
          const y0 = yPos(base + v);
          const h = yPos(base) - y0;
          if (v > 0) parts.push(rect(x0, y0, inner, h, color, `${c} · ${s}: ${fmt(v)}`));
          base += v;
        } else {
          const w = inner / names.length;
          const y0 = yPos(v);
          parts.push(rect(x0 + w * si, y0, w - 1, top + plotH - y0, color, `${c} · ${s}: ${fmt(v)}`));
          if (showLabel)
            parts.push(
              `<text x="${x0 + w * si + w / 2}" y="${y0 - 4}" text-anchor="middle" class="ch-label">${fmt(v)}</text>`,
            );
        }
      });
      if (stack && showLabel)
        parts.push(
          `<text x="${x0 + inner / 2}" y="${yPos(base) - 4}" text-anchor="middle" class="ch-label">${fmt(base)}</text>`,
        );
    });
  }
  parts.push(`<line x1="${left}" x2="${W - 12}" y1="${top + plotH}" y2="${top + plotH}" class="ch-base"/>`);
  if (legend) {
    let lx = left;
    names.forEach((s, si) => {
      parts.push(
        `<rect x="${lx}" y="${H - 18}" width="10" height="10" rx="2" fill="${colors[si % colors.length]}"/>`,
        `<text x="${lx + 14}" y="${H - 9}" class="ch-axis">${esc(s)}</text>`,
      );
      lx += 24 + s.length * 12;
    });
  }
  return svg(W, H, parts);
}

function rect(x, y, w, h, color, tip) {
  return `<rect x="${x}" y="${y}" width="${Math.max(0, w)}" height="${Math.max(0, h)}" rx="2" fill="${color}"><title>${esc(tip)}</title></rect>`;
}

function pie(spec, rows, colors, W, H, top) {
  const cat = spec.categoryField ?? spec.xField;
  const v = spec.valueField ?? spec.yField;
  const total = rows.reduce((a, r) => a + Number(r[v] ?? 0), 0) || 1;
  const r = Math.min(W / 2, H - top) / 2 - 8;
  const cx = W / 3;
  const cy = top + (H - top) / 2;
  let a0 = -Math.PI / 2;
  const out = [];
  rows.forEach((row, i) => {
    const a1 = a0 + (Number(row[v] ?? 0) / total) * Math.PI * 2;
    const large = a1 - a0 > Math.PI ? 1 : 0;
    const p = (a) => `${cx + r * Math.cos(a)},${cy + r * Math.sin(a)}`;
    out.push(
      `<path d="M${cx},${cy} L${p(a0)} A${r},${r} 0 ${large} 1 ${p(a1)} Z" fill="${colors[i % colors.length]}"/>`,
      `<rect x="${W * 0.62}" y="${top + i * 20}" width="10" height="10" fill="${colors[i % colors.length]}"/>`,
      `<text x="${W * 0.62 + 16}" y="${top + i * 20 + 9}" class="ch-axis">${esc(row[cat])}：${fmt(Number(row[v] ?? 0))}</text>`,
    );
    a0 = a1;
  });
  return out;
}

function svg(W, H, parts) {
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" width="100%" role="img">${parts.join("")}</svg>`;
}
