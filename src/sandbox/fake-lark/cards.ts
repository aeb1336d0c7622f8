/** Card JSON checks the real platform enforces on send/update (protocol doc §3.3, §4.1). */

/** Card message body limit (230025). */
export const CARD_MAX_BYTES = 30 * 1024;
/** Text/post message body limit (230025). */
export const TEXT_MAX_BYTES = 150 * 1024;
/** Components per card (230099 / 11310). */
export const CARD_MAX_COMPONENTS = 200;

/** Tags removed in JSON 2.0 (sub-code 200861). */
const REMOVED_V2_TAGS = new Set(["action", "note"]);
/** Top-level keys removed in JSON 2.0. */
const REMOVED_V2_TOP = ["elements", "i18n_elements", "fallback"];
/** Tagged objects that are text/icon payloads rather than components. */
const NON_COMPONENT_TAGS = new Set(["plain_text", "lark_md", "standard_icon", "custom_icon"]);

export interface CardProblem {
  code: number;
  msg: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** A template or CardKit reference (`{type:"template"|"card", data}`), which the fake cannot inspect. */
export function isCardReference(card: unknown): boolean {
  return isObject(card) && (card.type === "template" || card.type === "card") && isObject(card.data);
}

export function isV2Card(card: unknown): boolean {
  return isObject(card) && card.schema === "2.0";
}

/** Effective `config.update_multi` (1.0 defaults to false, 2.0 to true); references count as shared. */
export function isSharedCard(card: unknown): boolean {
  if (isCardReference(card)) return true;
  if (!isObject(card)) return false;
  const config = isObject(card.config) ? card.config : {};
  if (typeof config.update_multi === "boolean") return config.update_multi;
  return isV2Card(card);
}

function cardError(sub: number, detail: string): CardProblem {
  return {
    code: 230099,
    msg: `Failed to create card content, ext=ErrCode: ${sub}; ErrMsg: ${detail}; `,
  };
}

/** Walk every object in the card, calling `visit` with each tagged object. */
function walkTags(node: unknown, visit: (tag: string) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) walkTags(item, visit);
    return;
  }
  if (!isObject(node)) return;
  if (typeof node.tag === "string") visit(node.tag);
  for (const value of Object.values(node)) walkTags(value, visit);
}

/** Structural checks of a parsed card: null when acceptable, else the Lark error. */
export function checkCard(card: unknown): CardProblem | null {
  if (!isObject(card)) return cardError(200621, "card content is not a JSON object");
  if (isCardReference(card)) return null;
  let removed: string | undefined;
  let components = 0;
  if (isV2Card(card)) {
    const top = REMOVED_V2_TOP.find((k) => k in card);
    if (top) {
      return cardError(200861, `cards of schema V2 no longer support this capability; ErrorValue: ${top}`);
    }
  }
  walkTags(card, (tag) => {
    if (REMOVED_V2_TAGS.has(tag)) removed ??= tag;
    if (!NON_COMPONENT_TAGS.has(tag)) components += 1;
  });
  if (isV2Card(card) && removed) {
    return cardError(200861, `cards of schema V2 no longer support this capability; ErrorValue: ${removed}`);
  }
  if (components > CARD_MAX_COMPONENTS) {
    return cardError(11310, `element exceeds the limit (${components} > ${CARD_MAX_COMPONENTS})`);
  }
  return null;
}
