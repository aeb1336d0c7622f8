import { card, type Element, md } from "./kit";

/** Short confirmation and refusal cards: what happened, or exactly what was wrong and what to do. */

export function doneCard(title: string, lines: string[], extra: Element[] = []): ReturnType<typeof card> {
  return card({ title: `✅ ${title}`, color: "green", summary: title }, [md(lines.join("\n")), ...extra]);
}

export function problemCard(
  title: string,
  problem: string,
  opts: { hint?: string; usage?: string[] } = {},
): ReturnType<typeof card> {
  const parts = [`**${problem}**`];
  if (opts.hint) parts.push(opts.hint);
  if (opts.usage?.length) parts.push(`用法：\n${opts.usage.map((u) => `\`${u}\``).join("\n")}`);
  return card({ title: `⚠️ ${title}`, color: "orange", summary: `${title}：${problem}` }, [
    md(parts.join("\n\n")),
  ]);
}
