import { describe, expect, it } from "vitest";
import { renderChart } from "../src/sandbox/web/chart.js";
import { escapeHtml, renderMarkdown, renderTextMessage } from "../src/sandbox/web/markdown.js";

/** The sandbox page's pure renderers (markdown and charts), without a browser. */
const names = new Map([
  ["ou_tom", "Tom"],
  ["ou_li", "李娜"],
]);

describe("card markdown as Lark shows it", () => {
  it("bold, italic, strike, code, links, font colours, mentions and people", () => {
    const html = renderMarkdown(
      "**事项**：*急* ~~旧~~ `x` [看](https://example.com)\n<font color='red'>**超时**</font> <at id=ou_tom></at> <at id=all></at> <person id='ou_li'></person>",
      names,
    );
    expect(html).toContain("<b>事项</b>");
    expect(html).toContain("<i>急</i>");
    expect(html).toContain("<s>旧</s>");
    expect(html).toContain("<code>x</code>");
    expect(html).toContain('<a href="https://example.com" target="_blank" rel="noopener noreferrer">看</a>');
    expect(html).toContain('<span style="color:#f54a45"><b>超时</b></span>');
    expect(html).toContain("@Tom");
    expect(html).toContain("@所有人");
    expect(html).toContain('<span class="person">李娜</span>');
    expect(html.match(/md-line/g)).toHaveLength(2);
  });

  it("shows people's text literally: entities stay characters, tags and scripts are escaped", () => {
    // What the bot's `safe()` produces for "<at id=all></at> **急**" is shown as that text, not as markup.
    expect(renderMarkdown("&#60;at id=all&#62;&#60;/at&#62; &#42;&#42;急&#42;&#42;", names)).toBe(
      '<div class="md-line">&#60;at id=all&#62;&#60;/at&#62; &#42;&#42;急&#42;&#42;</div>',
    );
    const hostile = renderMarkdown(
      `<script>alert(1)</script><img src=x onerror=alert(1)> [x](javascript:alert(1)) <font color='red;background:url(x)'>a</font>`,
    );
    expect(hostile).not.toMatch(/<script|<img|href="javascript|url\(x\)/);
    expect(hostile).toContain("&lt;script&gt;");
    expect(escapeHtml(`a & b "c" &amp;`)).toBe("a &amp; b &quot;c&quot; &amp;");
  });

  it("headings, lists and quotes", () => {
    const html = renderMarkdown("# 标题\n- 一\n- 二\n1. 甲\n> 引用");
    expect(html).toContain('<div class="md-h md-h1">标题</div>');
    expect(html).toContain("<ul><li>一</li><li>二</li></ul>");
    expect(html).toContain("<ol><li>甲</li></ol>");
    expect(html).toContain("<blockquote>引用</blockquote>");
  });

  it("text messages: the bot's <at user_id> and a pushed message's @_user_N become @names", () => {
    expect(renderTextMessage('请 <at user_id="ou_tom">Tom</at> 报到\n谢谢', names)).toBe(
      '请 <span class="at">@Tom</span> 报到<br>谢谢',
    );
    expect(
      renderTextMessage("@_user_1 /值班 城管 @_user_2 <b>", names, [
        { key: "@_user_1", name: "吹哨报到" },
        { key: "@_user_2", name: "李娜" },
      ]),
    ).toBe('<span class="at">@吹哨报到</span> /值班 城管 <span class="at">@李娜</span> &lt;b&gt;');
  });
});

describe("charts for the VChart specs the bot emits", () => {
  const bars = (svg: string) => (svg.match(/<rect [^>]*><title>/g) ?? []).length;

  it("a bar chart: one bar per category, whole-number ticks, labels, escaped title", () => {
    const svg = renderChart({
      aspect_ratio: "2:1",
      chart_spec: {
        type: "bar",
        title: { visible: true, text: "考核分 <b>" },
        data: [
          {
            id: "scores",
            values: [
              { name: "城管执法队", score: 92 },
              { name: "公安", score: 60 },
            ],
          },
        ],
        xField: "name",
        yField: "score",
        label: { visible: true },
      },
    });
    expect(svg).toMatch(/^<svg class="chart" viewBox="0 0 560 280"/);
    expect(svg).toContain("考核分 &lt;b&gt;");
    expect(bars(svg)).toBe(2);
    expect(svg).toContain(">92</text>");
    expect(svg).toContain(">100</text>");
  });

  it("a stacked bar chart by series, with a legend", () => {
    const svg = renderChart({
      chart_spec: {
        type: "bar",
        data: [
          {
            values: [
              { day: "11-26", type: "综合执法哨", count: 2 },
              { day: "11-26", type: "应急处置哨", count: 1 },
              { day: "11-27", type: "综合执法哨", count: 3 },
            ],
          },
        ],
        xField: "day",
        yField: "count",
        seriesField: "type",
        stack: true,
        legends: { visible: true },
      },
    });
    expect(bars(svg)).toBe(3);
    expect(svg).toContain(">应急处置哨</text>");
    expect(svg).not.toMatch(/>\d+\.\d+</);
  });

  it("says so when there is no data", () => {
    expect(renderChart({ chart_spec: { type: "bar", data: { values: [] } } })).toContain("暂无数据");
  });
});
