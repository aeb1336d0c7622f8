/**
 * Sandbox mode (no LARK_APP_ID): the fake Lark runs inside the server process on an internal port,
 * with made-up credentials; the product is configured as if those were a real app's (the four LARK_
 * variables plus LARK_DOMAIN pointing at the fake) and talks to it through the SDK as to Lark. The
 * emulator page asks the fake to push signed, encrypted events and card callbacks to the server's own
 * `/lark/events`, exactly as Lark would: the sandbox adds no shortcut into the domain.
 */
import { join } from "node:path";
import type { Db } from "../db/database";
import { importDirectory } from "../directory/import";
import { loadSnapshot } from "../directory/snapshot";
import type { Logger } from "../log";
import { type DemoDistrict, demoDirectoryFile, demoDistrict } from "./demo";
import { type FakeLark, type PushTarget, type StoredMessage, startFakeLark } from "./fake-lark";
import { randomHex } from "./fake-lark/ids";
import { loadHistory, saveHistory } from "./history";
import { emptyProductTables } from "./reset";

/** What the product's config gets in sandbox mode: the same fields a real app's variables give. */
export interface SandboxLark {
  appId: string;
  appSecret: string;
  verificationToken: string;
  encryptKey: string;
  /** The fake's base URL (LARK_DOMAIN). */
  domain: string;
}

/** What the page follows: a message stored or changed, a reset, or the server closing (streams end). */
export type SandboxEvent =
  | { kind: "message"; message: StoredMessage }
  | { kind: "reset" }
  | { kind: "closing" };

export interface Sandbox {
  fake: FakeLark;
  lark: SandboxLark;
  district: DemoDistrict;
  /** Where the fake pushes: this server's own `/lark/events`; undefined until the server listens. */
  target(): PushTarget | undefined;
  /** Call once the HTTP server listens on `port`. */
  listening(port: number): void;
  /** Import the demo directory through the product's directory import, unless it is set up already. */
  seed(db: Db): Promise<void>;
  /** Empty the fake's messages and the product's tables, then seed again. */
  reset(db: Db, settle: () => Promise<void>): Promise<void>;
  /** Follow messages and resets (the page's live updates); returns the unsubscribe function. */
  subscribe(listener: (e: SandboxEvent) => void): () => void;
  /** End the pages' live streams, so the HTTP server can close (call before closing it). */
  endStreams(): void;
  close(): Promise<void>;
}

/** How long after a change the history is written (changes come in bursts: a card and its patches). */
const SAVE_DELAY_MS = 250;
const MAX_KEPT_CALLS = 2000;

export async function startSandbox(o: { dataDir: string; log: Logger }): Promise<Sandbox> {
  const district = demoDistrict();
  // The long connection needs cli_ + 16 hex digits; webhook mode is what the sandbox uses, but a
  // well-formed id keeps every path open.
  const fake = await startFakeLark({ appId: `cli_${randomHex(16)}`, appSecret: randomHex(32) });
  const lark: SandboxLark = {
    appId: fake.appId,
    appSecret: fake.appSecret,
    verificationToken: randomHex(32),
    encryptKey: randomHex(32),
    domain: fake.url,
  };
  const register = () => {
    for (const p of district.people) fake.addUser(p.openId, p.name);
    for (const c of district.chats) fake.addChat(c.chatId, { name: c.name, members: c.members });
  };
  register();

  const file = join(o.dataDir, "sandbox", "chat-history.json");
  const { history, problem } = loadHistory(file);
  if (problem) o.log.warn("sandbox: chat history unreadable; starting with empty chats", { file, problem });
  fake.restore(history);
  o.log.info("sandbox: fake Lark started", { url: fake.url, messages: history.messages.length });

  let saveTimer: NodeJS.Timeout | undefined;
  const save = () => {
    clearTimeout(saveTimer);
    saveTimer = undefined;
    try {
      saveHistory(file, fake.chats(), fake.messages());
    } catch (err) {
      o.log.error("sandbox: cannot save the chat history", { file, error: err });
    }
  };
  const listeners = new Set<(e: SandboxEvent) => void>();
  const emit = (e: SandboxEvent) => {
    for (const l of listeners) l(e);
  };
  fake.onMessage((message) => {
    // The fake records every API call for tests; a long-running sandbox keeps only the latest.
    if (fake.calls.length > MAX_KEPT_CALLS) fake.calls.splice(0, fake.calls.length - MAX_KEPT_CALLS / 2);
    saveTimer ??= setTimeout(save, SAVE_DELAY_MS);
    emit({ kind: "message", message });
  });

  let target: PushTarget | undefined;
  const seed = async (db: Db) => {
    // Once the street's group is bound the demo is set up: later starts leave the directory as the
    // people using the sandbox have changed it (duty contacts, 1+4, aliases) instead of importing again.
    const streetChat = district.chats.find((c) => c.kind === "street")?.chatId;
    if ((await loadSnapshot(db)).chats.some((c) => c.chatId === streetChat)) {
      o.log.info("sandbox: demo district already set up", { street: district.street });
      return;
    }
    const r = await importDirectory(db, demoDirectoryFile(district), "sandbox-demo-district.json");
    if (!r.ok) throw new Error(`sandbox: the demo directory did not import:\n${r.errors.join("\n")}`);
    o.log.info("sandbox: demo district ready", { street: district.street, changes: r.report.changes });
  };

  return {
    fake,
    lark,
    district,
    target: () => target,
    listening(port) {
      target = {
        url: `http://127.0.0.1:${port}/lark/events`,
        verificationToken: lark.verificationToken,
        encryptKey: lark.encryptKey,
      };
    },
    seed,
    async reset(db, settle) {
      await settle();
      await emptyProductTables(db);
      fake.reset();
      register();
      await seed(db);
      save();
      emit({ kind: "reset" });
      o.log.info("sandbox: demo reset");
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    endStreams() {
      emit({ kind: "closing" });
    },
    async close() {
      if (saveTimer) save();
      listeners.clear();
      await fake.close();
    },
  };
}
