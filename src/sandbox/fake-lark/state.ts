/** In-memory state of the fake: directory, tokens, messages, limits and the observation log. */
import { newCardToken, newMessageId, newTenantToken, stableHex } from "./ids";
import type { ApiCall, ChatRecord, FakeLarkOptions, StoredMessage } from "./types";

/** Fully resolved options. */
export type ResolvedOptions = Required<Omit<FakeLarkOptions, "port" | "ws">> & { port: number; ws: boolean };

export function resolveOptions(opts: FakeLarkOptions = {}): ResolvedOptions {
  return {
    appId: opts.appId ?? "cli_a1b2c3d4e5f60718",
    appSecret: opts.appSecret ?? "fake-secret",
    botOpenId: opts.botOpenId ?? "ou_bot0000000000000000000000000000",
    botName: opts.botName ?? "吹哨报到",
    tokenTtlSeconds: opts.tokenTtlSeconds ?? 7200,
    latencyMs: opts.latencyMs ?? 0,
    port: opts.port ?? 0,
    tenantKey: opts.tenantKey ?? "736588c9260f175e",
    ws: opts.ws ?? false,
  };
}

interface TokenRecord {
  expiresAt: number;
  revoked: boolean;
}

/** A delayed-update token handed out with a card callback (§3.3 option B). */
export interface CardTokenRecord {
  messageId: string;
  expiresAt: number;
  uses: number;
  /** Usable only after the bot has answered the callback. */
  ready: boolean;
}

/** Window for per-chat / per-message QPS limits. */
const QPS_WINDOW_MS = 1000;
/** Issued tokens are reused while more than this is left (Lark: 30 min). */
const TOKEN_REUSE_MS = 30 * 60 * 1000;
/** `uuid` dedupe window (1 h). */
export const UUID_WINDOW_MS = 60 * 60 * 1000;
/** Card-update token validity (30 min) and use limit. */
export const CARD_TOKEN_TTL_MS = 30 * 60 * 1000;
export const CARD_TOKEN_MAX_USES = 2;

export class FakeLarkState {
  /** Uploaded files by file_key (im/v1/files). */
  readonly files = new Map<string, { name: string; type: string; bytes: Uint8Array }>();

  readonly opts: ResolvedOptions;
  /** Shifts the fake's clock (token/uuid/card-token expiry, QPS windows). */
  clockOffsetMs = 0;
  readonly users = new Map<string, string>();
  readonly chats = new Map<string, ChatRecord>();
  readonly calls: ApiCall[] = [];
  private readonly stored: StoredMessage[] = [];
  private readonly byId = new Map<string, StoredMessage>();
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly uuids = new Map<string, { messageId: string; at: number }>();
  private readonly windows = new Map<string, number[]>();
  private readonly cardTokens = new Map<string, CardTokenRecord>();
  /** Told of every message stored or changed (new content, buzz): the sandbox page follows these. */
  readonly listeners = new Set<(msg: StoredMessage) => void>();

  constructor(opts: ResolvedOptions) {
    this.opts = opts;
  }

  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Clear observations and transient limits; keep the directory and issued tenant tokens. */
  reset(): void {
    this.calls.length = 0;
    this.stored.length = 0;
    this.byId.clear();
    this.uuids.clear();
    this.windows.clear();
    this.cardTokens.clear();
  }

  // ---- directory -------------------------------------------------------------------------

  addUser(openId: string, name: string): void {
    this.users.set(openId, name);
  }

  addChat(chatId: string, opts: { name: string; members: string[]; botIn?: boolean }): void {
    this.chats.set(chatId, {
      chat_id: chatId,
      name: opts.name,
      members: [...opts.members],
      botIn: opts.botIn ?? true,
      dissolved: false,
      chat_type: "group",
    });
  }

  dissolveChat(chatId: string): void {
    const chat = this.chats.get(chatId);
    if (!chat) throw new Error(`fake-lark: unknown chat ${chatId}`);
    chat.dissolved = true;
  }

  /** A chat by id, registered (bot in it, no members yet) when unknown. */
  ensureChat(chatId: string, chatType: "group" | "p2p"): ChatRecord {
    let chat = this.chats.get(chatId);
    if (!chat) {
      chat = { chat_id: chatId, name: "", members: [], botIn: true, dissolved: false, chat_type: chatType };
      this.chats.set(chatId, chat);
    }
    return chat;
  }

  /** The bot's p2p chat with a user, created on first use. */
  p2pChat(openId: string): ChatRecord {
    const chatId = `oc_${stableHex("p2p", this.opts.botOpenId, openId)}`;
    let chat = this.chats.get(chatId);
    if (!chat) {
      chat = {
        chat_id: chatId,
        name: "",
        members: [openId],
        botIn: true,
        dissolved: false,
        chat_type: "p2p",
      };
      this.chats.set(chatId, chat);
    }
    return chat;
  }

  // ---- tenant tokens ---------------------------------------------------------------------

  /** Token for a successful token request: reuse the newest one while ≥ 30 min is left, else mint. */
  issueToken(): { token: string; expire: number } {
    const now = this.now();
    let best: [string, TokenRecord] | undefined;
    for (const entry of this.tokens) {
      if (entry[1].revoked || entry[1].expiresAt <= now) continue;
      if (!best || entry[1].expiresAt > best[1].expiresAt) best = entry;
    }
    if (best && best[1].expiresAt - now >= TOKEN_REUSE_MS) {
      return { token: best[0], expire: Math.floor((best[1].expiresAt - now) / 1000) };
    }
    const token = newTenantToken();
    this.tokens.set(token, { expiresAt: now + this.opts.tokenTtlSeconds * 1000, revoked: false });
    return { token, expire: this.opts.tokenTtlSeconds };
  }

  tokenIsLive(token: string): boolean {
    const rec = this.tokens.get(token);
    return !!rec && !rec.revoked && rec.expiresAt > this.now();
  }

  expireAllTokens(): void {
    for (const rec of this.tokens.values()) rec.revoked = true;
  }

  // ---- messages --------------------------------------------------------------------------

  messages(chatId?: string): StoredMessage[] {
    return chatId === undefined ? [...this.stored] : this.stored.filter((m) => m.chat_id === chatId);
  }

  message(messageId: string): StoredMessage | undefined {
    return this.byId.get(messageId);
  }

  /** Store a new message (id generated unless given). */
  storeMessage(
    m: Omit<StoredMessage, "message_id" | "history" | "urgent" | "create_time" | "update_time"> & {
      message_id?: string;
    },
  ): StoredMessage {
    const now = String(this.now());
    const msg: StoredMessage = {
      ...m,
      message_id: m.message_id ?? newMessageId(),
      history: [m.content],
      urgent: [],
      create_time: now,
      update_time: now,
    };
    this.stored.push(msg);
    this.byId.set(msg.message_id, msg);
    this.changed(msg);
    return msg;
  }

  /**
   * Put back chats and messages saved earlier (ids, times and content as they were), e.g. after a
   * restart. Chats and messages already known are kept as they are.
   */
  restore(saved: { chats: ChatRecord[]; messages: StoredMessage[] }): void {
    for (const c of saved.chats) {
      if (!this.chats.has(c.chat_id)) this.chats.set(c.chat_id, structuredClone(c));
    }
    for (const m of saved.messages) {
      if (this.byId.has(m.message_id)) continue;
      const msg = structuredClone(m);
      this.stored.push(msg);
      this.byId.set(msg.message_id, msg);
    }
  }

  /** Tell the listeners that `msg` is new or changed. */
  changed(msg: StoredMessage): void {
    for (const listener of this.listeners) listener(msg);
  }

  /** Record a new content version of a message. */
  updateContent(msg: StoredMessage, content: unknown): void {
    msg.content = content;
    msg.history.push(content);
    msg.update_time = String(this.now());
    this.changed(msg);
  }

  /** Message id already delivered for `uuid` within the last hour. */
  uuidHit(uuid: string): StoredMessage | undefined {
    const rec = this.uuids.get(uuid);
    if (!rec || this.now() - rec.at > UUID_WINDOW_MS) return undefined;
    return this.byId.get(rec.messageId);
  }

  rememberUuid(uuid: string, messageId: string): void {
    this.uuids.set(uuid, { messageId, at: this.now() });
  }

  /** Sliding-window limiter: true (and counted) when fewer than `limit` hits happened in the last second. */
  allow(key: string, limit: number): boolean {
    const now = this.now();
    const hits = (this.windows.get(key) ?? []).filter((t) => now - t < QPS_WINDOW_MS);
    if (hits.length >= limit) {
      this.windows.set(key, hits);
      return false;
    }
    hits.push(now);
    this.windows.set(key, hits);
    return true;
  }

  // ---- card-update tokens ----------------------------------------------------------------

  issueCardToken(messageId: string): string {
    const token = newCardToken();
    this.cardTokens.set(token, {
      messageId,
      expiresAt: this.now() + CARD_TOKEN_TTL_MS,
      uses: 0,
      ready: false,
    });
    return token;
  }

  cardToken(token: string): CardTokenRecord | undefined {
    return this.cardTokens.get(token);
  }
}
