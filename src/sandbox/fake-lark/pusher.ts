/** Lark → bot pushes: url_verification, v2 events, messages, card callbacks, redeliveries, long-connection frames. */
import { randomUUID } from "node:crypto";
import { checkCard, isCardReference, isV2Card } from "./cards";
import {
  type AppIdentity,
  buildPushRequest,
  cardActionEvent,
  eventEnvelope,
  messageEvent,
} from "./envelopes";
import { newMessageId } from "./ids";
import type { FakeLarkState } from "./state";
import type {
  CardActionResult,
  PushCardAction,
  PushEventOptions,
  PushMessage,
  PushResult,
  PushTarget,
  WsAck,
} from "./types";
import type { LongConnection } from "./ws";

/** Either a webhook or the long connection ("ws", needs `startFakeLark({ ws: true })` and a connected client). */
export type Destination = PushTarget | "ws";

const TOAST_TYPES = new Set(["info", "success", "error", "warning"]);

/** Lark's event redelivery schedule after a failed push (§1.7): 15 s, 5 min, 1 h, 6 h. */
export const LARK_RETRY_DELAYS_MS = [15_000, 300_000, 3_600_000, 21_600_000] as const;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function parseJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export class Pusher {
  /** How long the platform waits for an answer (Lark: 3 s). */
  timeoutMs = 3000;
  /**
   * Delays between automatic redeliveries of a failed event (non-200 or no answer in time).
   * Empty by default (one attempt); use LARK_RETRY_DELAYS_MS or a scaled-down copy to simulate Lark.
   * Card callbacks and url_verification are never retried.
   */
  retryDelaysMs: number[] = [];

  constructor(
    private readonly state: FakeLarkState,
    private readonly longConnection: LongConnection | undefined,
  ) {}

  private get app(): AppIdentity {
    const { appId, tenantKey, botOpenId, botName } = this.state.opts;
    return { appId, tenantKey, botOpenId, botName };
  }

  /** url_verification: plain or encrypted body, never signed. `ok` = 200 echoing the challenge. */
  async challenge(t: PushTarget): Promise<PushResult & { challenge: string; ok: boolean }> {
    const challenge = randomUUID();
    const plaintext = JSON.stringify({ challenge, token: t.verificationToken, type: "url_verification" });
    const { rawBody, headers } = buildPushRequest(t, plaintext, { sign: false });
    const r = await this.send(t, rawBody, headers, plaintext);
    const ok = r.status === 200 && isObject(r.body) && r.body.challenge === challenge;
    return { ...r, challenge, ok };
  }

  /** A v2 event; encrypted and signed when the target has an Encrypt Key. Compact JSON. */
  async event(
    t: Destination,
    eventType: string,
    event: object,
    opts: PushEventOptions = {},
  ): Promise<PushResult & { eventId: string; attempts: PushResult[] }> {
    const envelope = eventEnvelope(this.app, tokenOf(t), eventType, event, opts);
    const eventId = envelope.header.event_id ?? "";
    let last = await this.deliver(t, JSON.stringify(envelope));
    const attempts = [last];
    for (const delay of this.retryDelaysMs) {
      if (last.status === 200 && !last.timedOut) break;
      await new Promise((resolve) => setTimeout(resolve, delay));
      last = await this.redeliver(last);
      attempts.push(last);
    }
    return { ...last, eventId, attempts };
  }

  /**
   * `im.message.receive_v1` for a user's text message. The message is also stored in the fake
   * (an unknown chat is registered with the bot in it, and the sender is added to its members).
   */
  async message(
    t: Destination,
    m: PushMessage,
  ): Promise<PushResult & { messageId: string; eventId: string; attempts: PushResult[] }> {
    const messageId = m.messageId ?? newMessageId();
    const existing = this.state.message(messageId);
    const chat = this.state.ensureChat(m.chatId, m.chatType ?? "group");
    if (!chat.members.includes(m.senderOpenId)) chat.members.push(m.senderOpenId);
    const parent = m.parentId ? this.state.message(m.parentId) : undefined;
    const rootId = m.parentId ? (parent?.root_id ?? m.parentId) : undefined;
    const createTime = existing?.create_time ?? String(this.state.now());
    const { event, text, mentions } = messageEvent(this.app, {
      ...m,
      messageId,
      createTime,
      ...(rootId ? { rootId } : {}),
    });
    if (!existing) {
      this.state.storeMessage({
        message_id: messageId,
        chat_id: m.chatId,
        msg_type: "text",
        content: { text },
        sender: m.senderOpenId,
        ...(mentions.length > 0
          ? { mentions: mentions.map((x) => ({ key: x.key, openId: x.id.open_id, name: x.name })) }
          : {}),
        ...(m.parentId && rootId ? { parent_id: m.parentId, root_id: rootId } : {}),
      });
    }
    const r = await this.event(t, "im.message.receive_v1", event, m.eventId ? { eventId: m.eventId } : {});
    return { ...r, messageId };
  }

  /**
   * `card.action.trigger` on a stored message. Issues a fresh `c-…` token for `/interactive/v1/card/update`
   * (usable once the answer is in), applies a returned `{card:{type:"raw",data}}` to the message,
   * and reports the error code Lark's client would show. Never retried.
   */
  async cardAction(t: Destination, a: PushCardAction): Promise<CardActionResult> {
    const msg = this.state.message(a.messageId);
    if (!msg) throw new Error(`fake-lark: cardAction on unknown message ${a.messageId}`);
    const token = this.state.issueCardToken(msg.message_id);
    const event = cardActionEvent(this.app, a, { token, chatId: a.chatId ?? msg.chat_id });
    const envelope = eventEnvelope(this.app, tokenOf(t), "card.action.trigger", event, {
      ...(a.eventId ? { eventId: a.eventId } : {}),
      createTime: String(this.state.now() * 1000),
    });
    const eventId = envelope.header.event_id ?? "";
    const r = { ...(await this.deliver(t, JSON.stringify(envelope))), eventId };
    const rec = this.state.cardToken(token);
    if (rec) rec.ready = true;
    const result: CardActionResult = { ...r, token, cardApplied: false };
    if (r.timedOut) return { ...result, errorCode: 200341 };
    if (r.status === 0) return { ...result, errorCode: 200342 };
    if (r.status !== 200) return { ...result, errorCode: 200671 };
    // An empty answer (SDK adapters write nothing when the handler returns undefined) means "no change".
    if (r.text.trim() === "") return result;
    if (!isObject(r.body)) return { ...result, errorCode: 200672 };
    const { toast, card } = r.body;
    if (toast !== undefined) {
      if (!isObject(toast) || !TOAST_TYPES.has(String(toast.type))) return { ...result, errorCode: 200672 };
      result.toast = toast;
    }
    if (card === undefined) return result;
    if (!isObject(card) || !isObject(card.data)) return { ...result, errorCode: 200673 };
    if (card.type === "template") {
      this.state.updateContent(msg, card);
      return { ...result, cardApplied: true };
    }
    if (card.type !== "raw" || checkCard(card.data)) return { ...result, errorCode: 200673 };
    if (isV2Card(msg.content) && !isCardReference(card.data) && !isV2Card(card.data)) {
      return { ...result, errorCode: 200830 };
    }
    this.state.updateContent(msg, card.data);
    return { ...result, cardApplied: true };
  }

  /**
   * Sends an earlier push again (the at-least-once duplicate): the exact same body, with a new
   * timestamp/nonce/signature. Pass `{target, plaintext}` to re-encrypt a given envelope instead.
   */
  async redeliver(last: PushResult | { target: Destination; plaintext: string }): Promise<PushResult> {
    const t = last.target;
    if (t === "ws") return this.deliver("ws", last.plaintext);
    const previous = "rawBody" in last ? last : undefined;
    const sign = previous ? "x-lark-signature" in previous.headers : !!t.encryptKey;
    const { rawBody, headers } = buildPushRequest(t, last.plaintext, {
      sign,
      ...(previous ? { rawBody: previous.rawBody } : {}),
    });
    return this.send(t, rawBody, headers, last.plaintext);
  }

  /** Sends a v2 event as a long-connection data frame and resolves with the client's decoded ACK. */
  async wsEvent(
    eventType: string,
    event: object,
    opts: PushEventOptions & { timeoutMs?: number; fragments?: number } = {},
  ): Promise<WsAck> {
    const envelope = eventEnvelope(this.app, "", eventType, event, opts);
    const ack = await this.requireLongConnection().push(JSON.stringify(envelope), {
      timeoutMs: opts.timeoutMs ?? this.timeoutMs,
      ...(opts.fragments ? { fragments: opts.fragments } : {}),
    });
    return { ...ack, eventId: envelope.header.event_id ?? "" };
  }

  /** Connected long-connection clients (0 without `ws: true`). */
  wsClients(): number {
    return this.longConnection?.clients() ?? 0;
  }

  private requireLongConnection(): LongConnection {
    if (!this.longConnection)
      throw new Error("fake-lark: start with { ws: true } to use the long connection");
    return this.longConnection;
  }

  private async deliver(t: Destination, plaintext: string): Promise<PushResult> {
    if (t === "ws") {
      const ack = await this.requireLongConnection().push(plaintext, { timeoutMs: this.timeoutMs });
      const text = ack.data === undefined ? "" : JSON.stringify(ack.data);
      return {
        status: ack.ackCode,
        body: ack.data,
        text,
        ms: ack.ms,
        timedOut: ack.timedOut,
        plaintext,
        rawBody: plaintext,
        headers: {},
        target: "ws",
      };
    }
    const { rawBody, headers } = buildPushRequest(t, plaintext, { sign: true });
    return this.send(t, rawBody, headers, plaintext);
  }

  /** POSTs with the platform timeout; never throws. */
  private async send(
    t: PushTarget,
    rawBody: string,
    headers: Record<string, string>,
    plaintext: string,
  ): Promise<PushResult> {
    const started = performance.now();
    const base = { plaintext, rawBody, headers, target: t };
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve("timeout");
      }, this.timeoutMs);
    });
    const doFetch = t.fetch ?? fetch;
    const attempt = (async () => {
      const res = await doFetch(t.url, { method: "POST", headers, body: rawBody, signal: controller.signal });
      return { status: res.status, text: await res.text() };
    })();
    attempt.catch(() => undefined);
    try {
      const out = await Promise.race([attempt, timeout]);
      const ms = performance.now() - started;
      if (out === "timeout") return { ...base, status: 0, body: undefined, text: "", ms, timedOut: true };
      return { ...base, status: out.status, body: parseJson(out.text), text: out.text, ms, timedOut: false };
    } catch (e) {
      const ms = performance.now() - started;
      const error = e instanceof Error ? e.message : String(e);
      return { ...base, status: 0, body: undefined, text: "", ms, timedOut: false, error };
    } finally {
      clearTimeout(timer);
    }
  }
}

function tokenOf(t: Destination): string {
  return t === "ws" ? "" : t.verificationToken;
}
