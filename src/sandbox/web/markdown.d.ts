/** Types for markdown.js (a browser ES module, also imported by tests). */
export function escapeHtml(s: unknown): string;
export function mention(id: string, names: Map<string, string>): string;
export function renderMarkdown(text: string, names?: Map<string, string>): string;
export function renderTextMessage(
  text: string,
  names?: Map<string, string>,
  mentions?: { key: string; openId?: string; name: string }[],
): string;
