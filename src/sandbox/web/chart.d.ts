/** Types for chart.js (a browser ES module, also imported by tests). */
export function renderChart(el: {
  chart_spec?: Record<string, unknown>;
  aspect_ratio?: string;
  color_theme?: string;
}): string;
