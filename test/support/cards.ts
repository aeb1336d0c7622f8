/** Read rendered cards the way a person would: which buttons there are, what they say. */

type Json = unknown;

function walk(node: Json, visit: (o: Record<string, unknown>) => void) {
  if (Array.isArray(node)) for (const n of node) walk(n, visit);
  else if (node && typeof node === "object") {
    visit(node as Record<string, unknown>);
    for (const v of Object.values(node)) walk(v, visit);
  }
}

/** Every callback value on the card's buttons (form submit buttons included). */
export function buttonValues(card: Json): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  walk(card, (o) => {
    if (o.tag !== "button" || !Array.isArray(o.behaviors)) return;
    for (const b of o.behaviors as { type?: string; value?: unknown }[]) {
      if (b.type === "callback" && b.value && typeof b.value === "object")
        out.push(b.value as Record<string, unknown>);
    }
  });
  return out;
}

/** The callback value of the button with this action, or throws. */
export function button(card: Json, action: string): Record<string, unknown> {
  const v = buttonValues(card).find((b) => b.action === action);
  if (!v) throw new Error(`no ${action} button on card: ${JSON.stringify(card).slice(0, 400)}`);
  return v;
}

/** All the text on the card (markdown and plain text), for wording assertions. */
export function cardText(card: Json): string {
  const parts: string[] = [];
  walk(card, (o) => {
    if (typeof o.content === "string") parts.push(o.content);
  });
  return parts.join("\n");
}
