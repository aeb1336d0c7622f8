/**
 * Directory file text → validated file, or every problem found, each naming the file, the line
 * and the field (`examples/bad.yaml:14: departments[2].chats[0].id: must look like oc_xxx …`).
 * Pure: no I/O, no database. Checks that need the database are in plan.ts.
 */
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { z } from "zod";
import { cleanName, editDistance, nameKey } from "../domain/names";
import {
  type DirectoryFile,
  directoryFileSchema,
  type FilePath,
  formatPath,
  KNOWN_KEYS,
} from "./file-format";

export interface ParsedDirectory {
  /** As given (shown in messages). */
  fileName: string;
  file: DirectoryFile;
  /** Where a field is in the text (1-based line), or its nearest ancestor that is there. */
  locate(path: FilePath): Position | undefined;
}

export type ParseResult = { ok: true; parsed: ParsedDirectory } | { ok: false; errors: string[] };

export interface Position {
  line: number;
  /** Characters from the start of the text: orders problems on one line. */
  offset: number;
}

/** Collects `file:line: path: message` lines; `sorted()` orders them as they appear in the file. */
export class ErrorList {
  private readonly items: { at: number; text: string }[] = [];
  constructor(
    private readonly fileName: string,
    private readonly locate: (path: FilePath) => Position | undefined,
  ) {}

  add(path: FilePath, message: string): void {
    const pos = this.locate(path);
    const where = pos === undefined ? this.fileName : `${this.fileName}:${pos.line}`;
    this.items.push({ at: pos?.offset ?? -1, text: `${where}: ${formatPath(path)}: ${message}` });
  }

  /** A problem with the text itself, not with a field. */
  addSyntax(pos: Position | undefined, message: string): void {
    const where = pos === undefined ? this.fileName : `${this.fileName}:${pos.line}`;
    this.items.push({ at: pos?.offset ?? -1, text: `${where}: ${message}` });
  }

  /** "line 12, departments[0].chats[0]": where an earlier occurrence is. */
  where(path: FilePath): string {
    const pos = this.locate(path);
    return pos === undefined ? formatPath(path) : `line ${pos.line}, ${formatPath(path)}`;
  }

  get length(): number {
    return this.items.length;
  }

  sorted(): string[] {
    return [...this.items].sort((a, b) => a.at - b.at).map((i) => i.text);
  }
}

export function parseDirectory(text: string, fileName: string): ParseResult {
  const lines = new LineCounter();
  const asJson = /\.json$/i.test(fileName);
  // JSON is read by JSON.parse; the YAML parser (JSON is YAML) only finds lines for messages.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: !asJson, prettyErrors: true });
  const locate = locator(doc, lines);
  const errors = new ErrorList(fileName, locate);
  const at = (offset: number | undefined): Position | undefined =>
    offset === undefined ? undefined : { line: lines.linePos(offset).line, offset };

  let data: unknown;
  if (asJson) {
    try {
      data = JSON.parse(text);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const position = /at position (\d+)/.exec(message)?.[1];
      errors.addSyntax(
        at(position ? Number(position) : doc.errors[0]?.pos[0]),
        `not valid JSON: ${oneLine(message)}`,
      );
      return { ok: false, errors: errors.sorted() };
    }
  } else {
    for (const e of doc.errors) {
      errors.addSyntax(at(e.pos[0]), `not valid YAML: ${yamlMessage(e.message)}`);
    }
    if (errors.length > 0) return { ok: false, errors: errors.sorted() };
    data = doc.toJS({ maxAliasCount: 1000 });
  }

  if (data === null || data === undefined) {
    errors.addSyntax(undefined, "the file is empty (expected admins, streets, departments, oversight)");
    return { ok: false, errors: errors.sorted() };
  }
  const result = directoryFileSchema.safeParse(data, { error: defaultMessage });
  if (!result.success) for (const issue of result.error.issues) addIssue(errors, issue);
  checkWithinFile(data, errors);
  if (!result.success || errors.length > 0) return { ok: false, errors: errors.sorted() };
  return { ok: true, parsed: { fileName, file: result.data, locate } };
}

/** Map a path onto the YAML (or JSON) node tree: a map key's line, or a list item's line. */
function locator(doc: Document.Parsed, lines: LineCounter) {
  return (path: FilePath): Position | undefined => {
    let node: unknown = doc.contents;
    let offset = (node as Node | null)?.range?.[0];
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
        if (!pair) break;
        offset = (pair.key as Node | null)?.range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === "number") {
        const item = node.items[seg] as Node | undefined;
        if (!item) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else {
        break;
      }
    }
    return offset === undefined ? undefined : { line: lines.linePos(offset).line, offset };
  };
}

const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();

/** yaml's pretty messages end with " at line 3, column 1:" and a code frame; the line is shown anyway. */
const yamlMessage = (message: string) =>
  oneLine((message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, ""));

const EXPECTED: Record<string, string> = {
  string: "text",
  array: "a list",
  object: "a mapping (key: value)",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
};

function describe(input: unknown): string {
  if (input === null) return "nothing";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "a mapping";
  if (typeof input === "string") return JSON.stringify(input);
  return String(input);
}

/** Messages for issues whose schema has none of its own. */
function defaultMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type": {
      if (issue.input === undefined) return "is required";
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      const hint = issue.input === null && issue.expected === "array" ? "; write [] for an empty list" : "";
      return `must be ${expected} (got ${describe(issue.input)})${hint}`;
    }
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return undefined;
  }
}

function addIssue(errors: ErrorList, issue: z.core.$ZodIssue): void {
  if (issue.code !== "unrecognized_keys") {
    errors.add(issue.path as FilePath, issue.message);
    return;
  }
  for (const key of issue.keys) {
    const path = [...(issue.path as FilePath), key];
    if (key === "card") {
      errors.add(path, "only a department's chat can be its card group");
    } else if (KNOWN_KEYS.includes(key)) {
      errors.add(path, "is not allowed here");
    } else {
      const close = KNOWN_KEYS.map((k) => ({
        k,
        d: k.startsWith(key) ? 1 : editDistance(key.toLowerCase(), k),
      }))
        .filter((c) => c.d <= 2)
        .sort((a, b) => a.d - b.d)[0];
      errors.add(path, close ? `unknown field (did you mean "${close.k}"?)` : "unknown field");
    }
  }
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const nameText = (v: unknown): string | undefined =>
  typeof v === "string" && cleanName(v) !== "" ? cleanName(v) : undefined;
const field = (v: unknown, key: string): unknown =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined;

/**
 * Rules that span entries of the file: duplicates, one card group per department. Run on the raw
 * data, skipping what the schema rejects, so they are reported together with the schema's problems.
 */
function checkWithinFile(data: unknown, errors: ErrorList): void {
  const once = new Map<string, FilePath>();
  /** Report a second occurrence of `key` (namespaced by the caller), pointing at the first. */
  const unique = (key: string, path: FilePath, what: string) => {
    const first = once.get(key);
    if (first) errors.add(path, `${what} is listed twice (first at ${errors.where(first)})`);
    else once.set(key, path);
  };

  for (const [i, id] of list(field(data, "admins")).entries()) {
    if (typeof id === "string") unique(`admin:${id.trim()}`, ["admins", i], id.trim());
  }

  const aliasOwner = new Map<string, { name: string; path: FilePath }>();
  for (const section of ["streets", "departments", "oversight"]) {
    const entries = list(field(data, section));
    const names = new Map<string, { name: string; u: number }>();
    for (const [u, unit] of entries.entries()) {
      const name = nameText(field(unit, "name"));
      if (name && !names.has(nameKey(name))) names.set(nameKey(name), { name, u });
    }
    for (const [u, unit] of entries.entries()) {
      const at = [section, u] as const;
      const name = nameText(field(unit, "name")) ?? `${section}[${u}]`;
      if (nameText(field(unit, "name"))) unique(`name:${section}:${nameKey(name)}`, [...at, "name"], name);

      for (const [a, raw] of list(field(unit, "aliases")).entries()) {
        const alias = nameText(raw);
        if (!alias) continue;
        const path = [...at, "aliases", a];
        const owner = aliasOwner.get(nameKey(alias));
        const named = names.get(nameKey(alias));
        if (owner) {
          const mine = owner.path[0] === section && owner.path[1] === u;
          const whose = mine ? "listed twice" : `already an alias of ${owner.name}`;
          errors.add(path, `${alias} is ${whose} (first at ${errors.where(owner.path)})`);
        } else if (named && named.u !== u) {
          // An alias must not be the name of another unit of the same sort.
          errors.add(
            path,
            `${alias} is the name of ${named.name} (${errors.where([section, named.u, "name"])})`,
          );
        } else {
          aliasOwner.set(nameKey(alias), { name, path });
        }
      }

      const cards: number[] = [];
      for (const [c, chat] of list(field(unit, "chats")).entries()) {
        const id = typeof chat === "string" ? chat : field(chat, "id");
        if (typeof id === "string") unique(`chat:${id.trim()}`, [...at, "chats", c, "id"], id.trim());
        if (field(chat, "card") === true) cards.push(c);
      }
      for (const c of section === "departments" ? cards.slice(1) : []) {
        errors.add(
          [...at, "chats", c, "card"],
          `only one chat can be the card group (already ${errors.where([...at, "chats", cards[0] ?? 0])})`,
        );
      }
      for (const [d, id] of list(field(unit, "duty")).entries()) {
        if (typeof id === "string") unique(`duty:${u}:${id.trim()}`, [...at, "duty", d], id.trim());
      }
    }
  }
}
