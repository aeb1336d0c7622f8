import type { Mention } from "../events";

/**
 * Turn a chat message into a command: `/吹哨 执法 城管,公安 …`, `@Bot ／whistle …`, `/吹哨 @Bot …`.
 * The bot's own @-mention is removed wherever it sits; other mentions become `@Name` in the
 * arguments and are listed in order. Full-width slash and spaces are accepted; English names are
 * case-insensitive. Without a slash, a message counts only when it @-mentions the bot and starts
 * with a known command name.
 */
export interface ParsedCommand {
  /** The command name as registered (normalised: NFKC, lower-case). */
  name: string;
  /** Everything after the name, trimmed, with other mentions written as `@Name`. */
  args: string;
  /** People mentioned in the arguments (not the bot), in order. */
  mentions: { openId: string; name: string }[];
  /** Whether the message @-mentioned the bot. */
  addressed: boolean;
}

export interface ParseOptions {
  botOpenId: string | undefined;
  /** Registered command names, normalised with `commandKey`. */
  known: ReadonlySet<string>;
}

/** The key a command name is registered and matched under. */
export function commandKey(name: string): string {
  return name.normalize("NFKC").toLowerCase();
}

const PLACEHOLDER = /@_user_\d+|@_all/g;

function isOwnBot(m: Mention, botOpenId: string | undefined): boolean {
  if (botOpenId) return m.openId === botOpenId;
  return m.type === "bot";
}

export function parseCommand(text: string, mentions: Mention[], opts: ParseOptions): ParsedCommand | null {
  const byKey = new Map(mentions.map((m) => [m.key, m]));
  let addressed = false;
  const people: { openId: string; name: string }[] = [];
  const replaced = text.replace(PLACEHOLDER, (key) => {
    if (key === "@_all") return "@所有人";
    const m = byKey.get(key);
    if (!m) return key;
    if (isOwnBot(m, opts.botOpenId)) {
      addressed = true;
      return " ";
    }
    if (m.openId) people.push({ openId: m.openId, name: m.name });
    return `@${m.name || m.openId || "?"}`;
  });

  const line = replaced
    .replace(/[\u3000\u00a0\t\r\n]+/g, " ")
    .replace(/ {2,}/g, " ")
    .trim();
  const slashed = /^[/／]/.test(line);
  if (!slashed && !addressed) return null;
  const body = slashed ? line.slice(1).trimStart() : line;
  if (body === "") return null;

  const space = body.indexOf(" ");
  const first = space === -1 ? body : body.slice(0, space);
  let name = commandKey(first);
  let args = space === -1 ? "" : body.slice(space + 1).trim();

  if (!opts.known.has(name)) {
    // "/吹哨执法 …": a known name glued to its first argument.
    const glued = [...opts.known]
      .filter((k) => name.startsWith(k) && k.length < name.length)
      .sort((a, b) => b.length - a.length)[0];
    if (glued) {
      args = `${first.normalize("NFKC").slice(glued.length)} ${args}`.trim();
      name = glued;
    } else if (!slashed) {
      return null; // "@Bot 你好": chatter, not a command
    }
  }
  return { name, args, mentions: people, addressed };
}
