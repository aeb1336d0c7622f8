/** Public types of the fake Lark Open Platform. */

/** Options of {@link startFakeLark}. */
export interface FakeLarkOptions {
  /** Must match `/^cli_[0-9a-fA-F]{16}$/` for the SDK's WSClient. Default "cli_a1b2c3d4e5f60718". */
  appId?: string;
  /** Default "fake-secret". */
  appSecret?: string;
  /** Default "ou_bot0000000000000000000000000000". */
  botOpenId?: string;
  /** Default "吹哨报到". */
  botName?: string;
  /** Lifetime of issued tenant tokens. Default 7200. */
  tokenTtlSeconds?: number;
  /** Added to every Open API response. Default 0. */
  latencyMs?: number;
  /** Default 0 (random). The server always listens on 127.0.0.1. */
  port?: number;
  /** Tenant key put in events and responses. Default "736588c9260f175e". */
  tenantKey?: string;
  /** Also serve the long connection (§7.6): `/callback/ws/endpoint` plus a WebSocket upgrade. */
  ws?: boolean;
}

/** Fault kinds injected on business APIs (never on the token endpoint). */
export type FaultKind = "5xx" | "429" | "timeout" | "230020" | "timeout-after-commit";

/** One Open API request as the fake saw it. */
export interface ApiCall {
  method: string;
  /** Path without query string. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body; the raw text when it was not JSON; undefined when empty. */
  body: unknown;
  /** HTTP status answered; 0 while pending or when the request was never answered (timeout fault). */
  status: number;
  /** Lark `code` of the JSON answer (undefined for HTML answers or unanswered requests). */
  code: number | undefined;
  /** Fake-clock ms epoch at which the request arrived. */
  at: number;
  /** Set when a fault was injected into this request. */
  fault?: FaultKind;
}

/** A delivered message (sent by the bot through the API, or pushed as a user message). */
export interface StoredMessage {
  message_id: string;
  chat_id: string;
  msg_type: string;
  /** Parsed JSON of the current content (the card JSON after updates). */
  content: unknown;
  /** Every content version; the first is as sent. */
  history: unknown[];
  uuid?: string;
  root_id?: string;
  parent_id?: string;
  thread_id?: string;
  /** "bot" for API-sent messages, the open_id for pushed user messages. */
  sender: "bot" | string;
  /** Pushed user messages: who each `@_user_N` in the text stands for. */
  mentions?: { key: string; openId: string; name: string }[];
  urgent: { kind: "app" | "sms" | "phone"; user_ids: string[] }[];
  /** ms epoch as a string. */
  create_time: string;
  /** ms epoch of the latest content version. */
  update_time: string;
}

/** Directory entry for a chat. */
export interface ChatRecord {
  chat_id: string;
  name: string;
  members: string[];
  botIn: boolean;
  dissolved: boolean;
  chat_type: "group" | "p2p";
}

/** Where the fake pushes events: the bot's webhook (e.g. `/lark/events`). */
export interface PushTarget {
  url: string;
  verificationToken: string;
  encryptKey?: string;
  /**
   * Optional transport instead of the global `fetch`, e.g. a Hono app's `app.request`,
   * so pushes reach an app without a socket. Same shape as `fetch(url, init)`.
   */
  fetch?: (url: string, init: RequestInit) => Response | Promise<Response>;
}

/** Outcome of one push. */
export interface PushResult {
  /** HTTP status of the bot's answer; 0 when there was none (timeout or connection error). */
  status: number;
  /** Parsed JSON answer, or undefined when the body was empty or not JSON. */
  body: unknown;
  /** Raw answer text. */
  text: string;
  /** Round-trip time. */
  ms: number;
  /** True when no answer came within the platform limit (3 s by default). */
  timedOut: boolean;
  /** Transport error message (connection refused, …), if any. */
  error?: string;
  /** The compact JSON envelope before encryption. */
  plaintext: string;
  /** The exact HTTP body sent (`{"encrypt":"…"}` when encrypted). */
  rawBody: string;
  /** Request headers sent. */
  headers: Record<string, string>;
  /** Where it went ("ws" for the long connection). */
  target: PushTarget | "ws";
}

/** Message pushed as `im.message.receive_v1`. */
export interface PushMessage {
  chatId: string;
  senderOpenId: string;
  text: string;
  /** Where the bot's @-mention goes in the text. Default false (no mention). */
  mentionBot?: "before" | "after" | false;
  /**
   * Other people mentioned. A mention replaces the first `@<name>` in `text`;
   * when the text has none it is appended at the end.
   */
  mentions?: { openId: string; name: string }[];
  /** Reuse to simulate a duplicate delivery of the same message with a new event id. */
  messageId?: string;
  eventId?: string;
  /** Default "group". */
  chatType?: "group" | "p2p";
  /** Reply to an earlier message (sets parent_id/root_id). */
  parentId?: string;
}

/** A card click pushed as `card.action.trigger`. */
export interface PushCardAction {
  operatorOpenId: string;
  messageId: string;
  value: unknown;
  formValue?: Record<string, unknown>;
  name?: string;
  /** Default "button". */
  tag?: string;
  /** Outside-form inputs. */
  inputValue?: string;
  option?: string;
  eventId?: string;
  /**
   * The chat the click happens in; default the card's own chat. Another chat simulates a card
   * forwarded elsewhere and clicked there (context.open_chat_id is where the clicked copy lives).
   */
  chatId?: string;
}

/** What `cardAction` saw (a single attempt: callbacks are never retried). */
export interface CardActionResult extends PushResult {
  eventId: string;
  /** The `c-…` delayed-update token issued with this callback. */
  token: string;
  toast?: unknown;
  /** True when the answer carried a card that replaced the stored message content. */
  cardApplied: boolean;
  /** Client-side error Lark would show: 200341 timeout, 200671 non-200, 200672 bad body, 200673 bad card, 200830 2.0→1.0. */
  errorCode?: number;
}

/** Decoded ACK of a long-connection data frame. */
export interface WsAck {
  /** `code` of the ACK payload: 200 ok, 500 handler threw; 0 when no ACK came in time. */
  ackCode: number;
  /** Decoded `data` (the handler's return value), if any. */
  data?: unknown;
  timedOut: boolean;
  ms: number;
  eventId: string;
}

/** Options common to event pushes. */
export interface PushEventOptions {
  eventId?: string;
  createTime?: string;
}
