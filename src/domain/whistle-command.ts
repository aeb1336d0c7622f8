/**
 * The `/吹哨` (`/whistle`) line, read into a whistle request. Pure: no I/O, no directory look-ups
 * (department names are resolved, and `1+4` expanded, by the caller).
 *
 * The line is positional — `/吹哨 <类型> <部门列表> <事项描述>`:
 * 1. **类型** is the first token and must be a type word (see {@link typeFromWord}). A first token
 *    that is not one is `unknown_type`, even when the line looks like `<部门列表> <事项>` with the
 *    type left out: we never guess the type.
 * 2. **部门列表** is the second token: names or aliases separated by `,` `，` `、` `;` `；` with no
 *    spaces needed. Spaces next to a separator or a plus sign are forgiven (`城管, 公安`,
 *    `1 + 4`): the list goes on across them (so a list ending in a separator takes the next word
 *    too: `城管, 占道经营` is two departments and no matter). `1+4`, `1＋4`, `一加四` (and `1加4`) stand for the
 *    street's force set and are kept, as the token `1+4`, in their position.
 * 3. **事项** is everything after. Two kinds of phrase may sit anywhere in it and are taken out:
 *    - the report-in limit: `限时20分钟`, `限时 20 分钟`, `限时20分`, `限时20`, `限时2小时`,
 *      `限时半小时`, `20分钟内报到` (with a leading 请/须/于/在 such as `请于20分钟内报到`),
 *      `限时20分钟内报到`; digits may be full-width or Chinese
 *      (`限时二十分钟`). A number that is not a whole number of minutes in 1…{@link MAX_LIMIT_MINUTES}
 *      (`限时0分钟`, `限时2000分钟`, `限时1.5分钟`) is `bad_limit`; so are two limits that disagree.
 *      Text that is not a number (`限时abc分钟`) is not a limit phrase and stays in the matter.
 *    - the place: `地点：<text>` / `地点:<text>` (also `地址：`), up to the next `，` `,` `。` `；` `;`
 *      or the end; or `@<place>`: an `@` at the start or after a space or punctuation, followed by
 *      text up to the next space or punctuation, that is not a mention of a person (`@Name` for a
 *      name in `mentionedNames`, `@所有人`, `@_user_1`). Mentions of people stay in the matter. The
 *      first place phrase in the text is the place; any later one stays in the matter.
 *    Where a phrase is cut out, the punctuation around it is merged (`占道经营，限时20分钟，多次劝离`
 *    → `占道经营，多次劝离`); the matter is trimmed, inner spaces kept single, and trailing `，` `,`
 *    `、` `；` `;` `：` `:` dropped (a final `。` `！` `？` is kept). The matter keeps the user's
 *    characters: it is not NFKC-normalised, so `，` stays a full-width comma.
 *
 * Problems are reported in this order: `empty`, `unknown_type`, `no_departments`, `no_matter`,
 * `bad_limit`. `partial` carries what was understood so the caller can pre-fill the form; for
 * `unknown_type` it is the reading of the rest as if the first token had been the type (departments
 * from the second token, matter from the rest).
 */

import { cleanName, nameKey } from "./names";
import { DEFAULT_LIMIT_MINUTES, MAX_LIMIT_MINUTES, type WhistleType } from "./whistle";

export interface WhistleRequest {
  type: WhistleType;
  /** Department names as typed (cleaned with `cleanName`), in order, without duplicates, "1+4" NOT expanded. */
  departments: string[];
  /** True when the list contained 1+4 (the position is kept: `departments` contains the token "1+4"). */
  usesForceSet: boolean;
  /** The matter with the 限时/地点 phrases removed, trimmed, inner spaces single, trailing `，` etc. dropped. */
  matter: string;
  place: string | null;
  /** Minutes to report in, 1…MAX_LIMIT_MINUTES; null = use the default. */
  limitMinutes: number | null;
}

export type WhistleParse =
  | { ok: true; request: WhistleRequest }
  | { ok: false; problem: WhistleProblem; partial: Partial<WhistleRequest> };

export type WhistleProblem =
  /** Nothing after /吹哨 → the caller shows the form. */
  | { kind: "empty" }
  /** `typed` is the first token as typed. */
  | { kind: "unknown_type"; typed: string }
  | { kind: "no_departments" }
  | { kind: "no_matter" }
  /** `typed` is the limit phrase as typed (two disagreeing phrases are joined with 、). */
  | { kind: "bad_limit"; typed: string };

/** The token the force set is kept as in `departments`. */
export const FORCE_SET_TOKEN = "1+4";

const TYPE_WORDS: Record<WhistleType, readonly string[]> = {
  enforcement: ["执法", "执法哨", "综合执法", "综合执法哨", "enforcement"],
  emergency: ["应急", "应急哨", "应急处置", "应急处置哨", "emergency"],
  key: ["重点", "重点哨", "重点工作", "重点工作哨", "key"],
};

const TYPE_BY_KEY = new Map<string, WhistleType>(
  (Object.entries(TYPE_WORDS) as [WhistleType, readonly string[]][]).flatMap(([type, words]) =>
    words.map((w) => [nameKey(w), type] as const),
  ),
);

const FORCE_SET_KEYS = new Set(["1+4", "一加四", "1加4"]);

/**
 * The whistle type a word names: 执法/执法哨/综合执法/综合执法哨/enforcement,
 * 应急/应急哨/应急处置/应急处置哨/emergency, 重点/重点哨/重点工作/重点工作哨/key.
 * Case-, width- and space-insensitive (NFKC).
 */
export function typeFromWord(word: string): WhistleType | undefined {
  return TYPE_BY_KEY.get(nameKey(word));
}

// --- the department list -------------------------------------------------------------------------

const LIST_SEPARATORS = ",，、;；";
const LIST_JOINERS = `${LIST_SEPARATORS}+＋`;

/**
 * Take the department list off the front of `tokens` (already split on single spaces): one token,
 * extended across spaces while a separator or plus sign sits at the boundary.
 */
function takeList(tokens: string[]): { list: string; rest: string[] } {
  let i = 0;
  let list = tokens[0] ?? "";
  while (i + 1 < tokens.length) {
    const next = tokens[i + 1] as string;
    if (!LIST_JOINERS.includes(list.slice(-1)) && !LIST_JOINERS.includes(next.charAt(0))) break;
    list += next;
    i++;
  }
  return { list, rest: tokens.slice(i + 1) };
}

function readDepartments(list: string): { departments: string[]; usesForceSet: boolean } {
  const departments: string[] = [];
  const seen = new Set<string>();
  let usesForceSet = false;
  for (const piece of list.split(/[,，、;；]+/)) {
    const name = cleanName(piece);
    if (!/[^\p{P}\s]/u.test(name)) continue; // "" or stray punctuation: "城管 ，。"
    let key = nameKey(name);
    const isForceSet = FORCE_SET_KEYS.has(key);
    if (isForceSet) key = FORCE_SET_TOKEN;
    if (seen.has(key)) continue;
    seen.add(key);
    usesForceSet ||= isForceSet;
    departments.push(isForceSet ? FORCE_SET_TOKEN : name);
  }
  return { departments, usesForceSet };
}

// --- the limit phrase ----------------------------------------------------------------------------

const CN_DIGITS = "零〇一二两三四五六七八九";
const CN_NUMERALS = `${CN_DIGITS}十百千`;
const NUM = `[-－]?(?:[0-9０-９]+(?:[.．][0-9０-９]+)?|[${CN_NUMERALS}]+|半)`;
const UNIT = "分钟|分|个?小时";
/** Punctuation (and spaces) that end a bare `限时20`. */
const BOUNDARY = "\\s，,。；;、！？!?\\uE000";
const LIMIT_RE = new RegExp(
  `限时\\s*(${NUM})\\s*(?:(${UNIT})(?:之?内(?:报到)?)?|(?=$|[${BOUNDARY}]))` +
    `|(?:请|须|需|务必)?(?:于|在)?(?<![0-9０-９.．${CN_NUMERALS}半-])(${NUM})\\s*(${UNIT})之?内报到`,
  "gu",
);

const CN_DIGIT_VALUE: Record<string, number> = {
  零: 0,
  〇: 0,
  一: 1,
  二: 2,
  两: 2,
  三: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
};
const CN_UNIT_VALUE: Record<string, number> = { 十: 10, 百: 100, 千: 1000 };

/** A Chinese numeral up to the thousands (十, 二十, 一百零五, 一千四百四十, 两); NaN if malformed ("二三"). */
function chineseNumber(text: string): number {
  let total = 0;
  let digit: number | null = null;
  for (const ch of text) {
    const unit = CN_UNIT_VALUE[ch];
    if (unit !== undefined) {
      total += (digit ?? 1) * unit;
      digit = null;
      continue;
    }
    if (digit !== null && digit !== 0) return Number.NaN;
    digit = CN_DIGIT_VALUE[ch] ?? Number.NaN;
  }
  return total + (digit ?? 0);
}

function parseAmount(text: string): number {
  const t = text.normalize("NFKC");
  if (/^-?\d+(?:\.\d+)?$/.test(t)) return Number(t);
  if (t === "半") return 0.5;
  return chineseNumber(t);
}

/** Minutes a limit phrase names, or null when it is not a whole number in 1…MAX. */
function limitMinutesOf(amount: string, unit: string | undefined): number | null {
  const n = parseAmount(amount) * (unit?.endsWith("小时") ? 60 : 1);
  return Number.isInteger(n) && n >= 1 && n <= MAX_LIMIT_MINUTES ? n : null;
}

// --- the place phrase ----------------------------------------------------------------------------

const PLACE_STOP = "，,。；;\\uE000";
const LABEL_RE = new RegExp(`(?:地点|地址)\\s*[：:]\\s*([^${PLACE_STOP}]+)`, "u");
const AT_STOP = /[\s，,。；;、！？!?）)\uE000]/u;
const AT_BEFORE = /[\s，,。；;、！？!?（(：:\uE000]/u;

interface Found {
  index: number;
  length: number;
  value: string;
}

function tidyPlace(text: string): string {
  return text
    .replace(/\s+/g, " ")
    .trim()
    .replace(/[\s，,、；;：:]+$/u, "");
}

/** The first `@place` in the text: an `@` at a word start that does not begin a person's mention. */
function findAtPlace(text: string, mentioned: readonly string[]): Found | null {
  const names = [...mentioned, "所有人"].filter(Boolean).sort((a, b) => b.length - a.length);
  let from = 0;
  for (;;) {
    const at = text.indexOf("@", from);
    if (at === -1) return null;
    from = at + 1;
    if (at > 0 && !AT_BEFORE.test(text.charAt(at - 1))) continue; // zhang@example.com
    const after = text.slice(at + 1);
    const person = names.find((n) => after.startsWith(n)) ?? /^_user_\d+/.exec(after)?.[0];
    if (person !== undefined) {
      from = at + 1 + person.length;
      continue;
    }
    let end = 0;
    while (end < after.length && !AT_STOP.test(after.charAt(end))) end++;
    if (end === 0) continue;
    return { index: at, length: end + 1, value: after.slice(0, end) };
  }
}

function findPlace(text: string, mentioned: readonly string[]): Found | null {
  const label = LABEL_RE.exec(text);
  const labelled =
    label && tidyPlace(label[1] as string) !== ""
      ? { index: label.index, length: label[0].length, value: label[1] as string }
      : null;
  const at = findAtPlace(text, mentioned);
  const first = labelled && at ? (labelled.index <= at.index ? labelled : at) : (labelled ?? at);
  return first ? Object.assign({}, first, { value: tidyPlace(first.value) }) : null;
}

// --- the matter ----------------------------------------------------------------------------------

/** Marks where a phrase was cut out, until the punctuation around it is merged. */
const CUT = "\uE000";
const PUNCT = "，,、；;。！？!?";
/** Strongest first: the mark kept where a cut meets several. */
const PUNCT_RANK = ["。！？!?", "；;", "，,", "、"];
const CUT_RE = new RegExp(`([\\s${PUNCT}]*)${CUT}(?:[\\s${PUNCT}]*${CUT})*([\\s${PUNCT}]*)`, "gu");

function mergeCuts(text: string): string {
  return text.replace(CUT_RE, (m: string, _before: string, _after: string, offset: number) => {
    if (offset === 0) return "";
    const marks = m.replace(/[\s\uE000]/gu, "");
    for (const rank of PUNCT_RANK) {
      const mark = [...marks].find((c) => rank.includes(c));
      if (mark) return mark;
    }
    if (offset + m.length === text.length) return "";
    return /\s/u.test(m) ? " " : "";
  });
}

function tidyMatter(text: string): string {
  return text
    .replace(/\s+/gu, " ")
    .replace(new RegExp(`^[\\s${PUNCT}]+`, "u"), "")
    .replace(/[\s，,、；;：:]+$/u, "");
}

interface MatterParts {
  matter: string;
  place: string | null;
  /** undefined = no limit phrase; a problem when a phrase is bad or two disagree. */
  limit: { minutes: number } | { problem: WhistleProblem } | undefined;
}

function readMatter(text: string, mentioned: readonly string[]): MatterParts {
  const phrases: { typed: string; minutes: number | null }[] = [];
  let rest = text.replace(
    LIMIT_RE,
    (m: string, amount?: string, unit?: string, amount2?: string, unit2?: string) => {
      phrases.push({ typed: m, minutes: limitMinutesOf((amount ?? amount2) as string, unit ?? unit2) });
      return CUT;
    },
  );

  let limit: MatterParts["limit"];
  const bad = phrases.find((p) => p.minutes === null);
  const values = [...new Set(phrases.map((p) => p.minutes))];
  if (bad) limit = { problem: { kind: "bad_limit", typed: bad.typed } };
  else if (values.length > 1)
    limit = { problem: { kind: "bad_limit", typed: phrases.map((p) => p.typed).join("、") } };
  else if (values.length === 1) limit = { minutes: values[0] as number };

  const found = findPlace(rest, mentioned);
  if (found) rest = rest.slice(0, found.index) + CUT + rest.slice(found.index + found.length);
  return { matter: tidyMatter(mergeCuts(rest)), place: found?.value ?? null, limit };
}

// --- the line ------------------------------------------------------------------------------------

/**
 * Read the arguments of `/吹哨` (the text after the command name). `mentionedNames` are the names of
 * the people @-mentioned in it (written `@Name` by the command parser): those stay in the matter
 * and are never taken for an `@place`. See the module comment for the grammar and the decisions.
 */
export function parseWhistle(args: string, opts: { mentionedNames?: string[] } = {}): WhistleParse {
  const line = args.replace(/\s+/gu, " ").trim();
  if (line === "") return { ok: false, problem: { kind: "empty" }, partial: {} };

  const [first = "", ...afterType] = line.split(" ");
  const type = typeFromWord(first);
  const partial: Partial<WhistleRequest> = type ? { type } : {};

  const { list, rest } = takeList(afterType);
  const { departments, usesForceSet } = readDepartments(list);
  if (departments.length > 0) Object.assign(partial, { departments, usesForceSet });

  const hasMatterPart = afterType.length > 0;
  const parts = hasMatterPart ? readMatter(rest.join(" "), opts.mentionedNames ?? []) : null;
  if (parts) {
    if (parts.matter !== "") partial.matter = parts.matter;
    partial.place = parts.place;
    if (!(parts.limit && "problem" in parts.limit)) partial.limitMinutes = parts.limit?.minutes ?? null;
  }

  const fail = (problem: WhistleProblem): WhistleParse => ({ ok: false, problem, partial });
  if (!type) return fail({ kind: "unknown_type", typed: first });
  if (departments.length === 0 || !parts) return fail({ kind: "no_departments" });
  if (parts.matter === "") return fail({ kind: "no_matter" });
  if (parts.limit && "problem" in parts.limit) return fail(parts.limit.problem);

  return {
    ok: true,
    request: {
      type,
      departments,
      usesForceSet,
      matter: parts.matter,
      place: parts.place,
      limitMinutes: parts.limit?.minutes ?? null,
    },
  };
}

function quote(typed: string): string {
  const chars = [...typed];
  return `“${chars.length > 20 ? `${chars.slice(0, 20).join("")}…` : typed}”`;
}

/** One Chinese sentence a street official can act on. */
export function describeProblem(p: WhistleProblem): string {
  switch (p.kind) {
    case "empty":
      return "请写明哨的类型、要叫的部门和事项，例如：/吹哨 执法 城管执法队,公安 东直门内大街12号门前占道经营。";
    case "unknown_type":
      return `不认识哨的类型${quote(p.typed)}：请写 执法、应急 或 重点。`;
    case "no_departments":
      return "没有写要叫哪些部门：请在哨的类型后面写部门，用逗号或顿号隔开，例如 城管执法队,公安 或 1+4。";
    case "no_matter":
      return "没有写是什么事：请在部门后面写清事项，例如 东直门内大街12号门前占道经营。";
    case "bad_limit":
      return `时限${quote(p.typed)}不对：请写 1 到 ${MAX_LIMIT_MINUTES} 之间的分钟数，例如 限时20分钟；不写则默认 ${DEFAULT_LIMIT_MINUTES} 分钟。`;
  }
}
