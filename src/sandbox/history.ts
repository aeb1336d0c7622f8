/**
 * The sandbox's chat history on disk. The fake Lark keeps chats and messages in memory; the page
 * needs them after a restart (the database still holds the whistles whose cards they are), so
 * they are saved as one JSON file in DATA_DIR, written atomically a moment after each change.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { ChatRecord, StoredMessage } from "./fake-lark";

export interface SavedHistory {
  version: 1;
  chats: ChatRecord[];
  messages: StoredMessage[];
}

/** The saved history, or an empty one when there is none (or it cannot be read: a fresh start). */
export function loadHistory(file: string): { history: SavedHistory; problem?: string } {
  const empty: SavedHistory = { version: 1, chats: [], messages: [] };
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return { history: empty };
  }
  try {
    const parsed = JSON.parse(text) as Partial<SavedHistory>;
    if (parsed.version !== 1 || !Array.isArray(parsed.chats) || !Array.isArray(parsed.messages)) {
      return { history: empty, problem: "unknown format" };
    }
    return { history: { version: 1, chats: parsed.chats, messages: parsed.messages } };
  } catch (err) {
    return { history: empty, problem: err instanceof Error ? err.message : String(err) };
  }
}

/** Write the history: to a temporary file first, then renamed over the old one. */
export function saveHistory(file: string, chats: ChatRecord[], messages: StoredMessage[]): void {
  // Only the current content of each message is needed; earlier card versions are dropped.
  const saved: SavedHistory = {
    version: 1,
    chats,
    messages: messages.map((m) => ({ ...m, history: [m.content] })),
  };
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(saved));
  renameSync(tmp, file);
}
