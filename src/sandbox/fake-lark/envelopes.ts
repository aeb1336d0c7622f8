/** Pure builders for what Lark pushes: v2 envelopes, message and card events, sealed HTTP bodies. */
import { randomInt } from "node:crypto";
import { encryptLark, signLark } from "./crypto";
import { newEventId, unionIdFor, userIdFor } from "./ids";
import type { PushCardAction, PushEventOptions, PushMessage } from "./types";

/** App identity the builders stamp into events. */
export interface AppIdentity {
  appId: string;
  tenantKey: string;
  botOpenId: string;
  botName: string;
}

export interface Mention {
  key: string;
  id: { open_id: string; union_id: string; user_id: string };
  mentioned_type: "user" | "bot";
  name: string;
  tenant_key: string;
}

/** Schema 2.0 envelope `{schema, header, event}`. */
export function eventEnvelope(
  app: AppIdentity,
  verificationToken: string,
  eventType: string,
  event: object,
  opts: PushEventOptions = {},
): { schema: "2.0"; header: Record<string, string>; event: object } {
  return {
    schema: "2.0",
    header: {
      event_id: opts.eventId ?? newEventId(),
      event_type: eventType,
      create_time: opts.createTime ?? String(Date.now()),
      token: verificationToken,
      app_id: app.appId,
      tenant_key: app.tenantKey,
    },
    event,
  };
}

interface Slot {
  pos: number;
  len: number;
  openId: string;
  name: string;
  type: "user" | "bot";
}

/** Index of `needle` in `text` that overlaps no taken slot, or -1. */
function freeIndexOf(text: string, needle: string, taken: Slot[]): number {
  let from = 0;
  for (;;) {
    const idx = text.indexOf(needle, from);
    if (idx < 0) return -1;
    const clash = taken.some((s) => idx < s.pos + s.len && s.pos < idx + needle.length);
    if (!clash) return idx;
    from = idx + 1;
  }
}

/**
 * Turns display text into Lark's receive form: every mention becomes `@_user_N`, numbered by position,
 * with a matching `mentions[]` entry (§2.3).
 */
export function composeMentions(
  app: AppIdentity,
  text: string,
  mentionBot: "before" | "after" | false,
  others: { openId: string; name: string }[],
): { text: string; mentions: Mention[] } {
  let body = text;
  const slots: Slot[] = [];
  for (const o of others) {
    const needle = `@${o.name}`;
    let idx = freeIndexOf(body, needle, slots);
    if (idx < 0) {
      body = body === "" ? needle : `${body} ${needle}`;
      idx = body.length - needle.length;
    }
    slots.push({ pos: idx, len: needle.length, openId: o.openId, name: o.name, type: "user" });
  }
  const botNeedle = `@${app.botName}`;
  const bot = { len: botNeedle.length, openId: app.botOpenId, name: app.botName, type: "bot" as const };
  if (mentionBot === "before") {
    body = `${botNeedle} ${body}`;
    for (const s of slots) s.pos += botNeedle.length + 1;
    slots.push({ pos: 0, ...bot });
  } else if (mentionBot === "after") {
    body = `${body} ${botNeedle}`;
    slots.push({ pos: body.length - botNeedle.length, ...bot });
  }
  slots.sort((a, b) => a.pos - b.pos);
  let out = "";
  let cursor = 0;
  const mentions: Mention[] = slots.map((s, i) => {
    const key = `@_user_${i + 1}`;
    out += body.slice(cursor, s.pos) + key;
    cursor = s.pos + s.len;
    return {
      key,
      id: {
        open_id: s.openId,
        union_id: unionIdFor(s.openId),
        user_id: s.type === "bot" ? "" : userIdFor(s.openId),
      },
      mentioned_type: s.type,
      name: s.name,
      tenant_key: app.tenantKey,
    };
  });
  out += body.slice(cursor);
  return { text: out, mentions };
}

/** `event` body of `im.message.receive_v1` for a text message. */
export function messageEvent(
  app: AppIdentity,
  m: PushMessage & { messageId: string; createTime: string; rootId?: string },
): { event: object; text: string; mentions: Mention[] } {
  const { text, mentions } = composeMentions(app, m.text, m.mentionBot ?? false, m.mentions ?? []);
  const event = {
    sender: {
      sender_id: {
        union_id: unionIdFor(m.senderOpenId),
        user_id: userIdFor(m.senderOpenId),
        open_id: m.senderOpenId,
      },
      sender_type: "user",
      tenant_key: app.tenantKey,
    },
    message: {
      message_id: m.messageId,
      ...(m.parentId ? { root_id: m.rootId ?? m.parentId, parent_id: m.parentId } : {}),
      create_time: m.createTime,
      update_time: m.createTime,
      chat_id: m.chatId,
      chat_type: m.chatType ?? "group",
      message_type: "text",
      content: JSON.stringify({ text }),
      ...(mentions.length > 0 ? { mentions } : {}),
    },
  };
  return { event, text, mentions };
}

/** `event` body of `card.action.trigger` (§3.1). */
export function cardActionEvent(
  app: AppIdentity,
  a: PushCardAction,
  ctx: { token: string; chatId: string },
): object {
  return {
    operator: {
      tenant_key: app.tenantKey,
      user_id: userIdFor(a.operatorOpenId),
      open_id: a.operatorOpenId,
      union_id: unionIdFor(a.operatorOpenId),
    },
    token: ctx.token,
    action: {
      value: a.value,
      tag: a.tag ?? "button",
      timezone: "Asia/Shanghai",
      ...(a.name !== undefined ? { name: a.name } : {}),
      ...(a.formValue !== undefined ? { form_value: a.formValue } : {}),
      ...(a.inputValue !== undefined ? { input_value: a.inputValue } : {}),
      ...(a.option !== undefined ? { option: a.option } : {}),
    },
    host: "im_message",
    context: { open_message_id: a.messageId, open_chat_id: ctx.chatId },
  };
}

/**
 * The HTTP request Lark would send for `plaintext`: encrypted to `{"encrypt":…}` when an Encrypt Key is set,
 * and (when `sign`) with `X-Lark-Request-Timestamp` (seconds), `-Nonce` and `-Signature` over the exact body.
 * Usable directly with `app.request()` in tests.
 */
export function buildPushRequest(
  t: { encryptKey?: string },
  plaintext: string,
  opts: { sign: boolean; rawBody?: string },
): { rawBody: string; headers: Record<string, string> } {
  const rawBody =
    opts.rawBody ??
    (t.encryptKey ? JSON.stringify({ encrypt: encryptLark(t.encryptKey, plaintext) }) : plaintext);
  const headers: Record<string, string> = {
    "content-type": "application/json;charset=utf-8",
    "user-agent": "Go-http-client/1.1",
  };
  if (opts.sign && t.encryptKey) {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = String(randomInt(100_000_000, 999_999_999));
    headers["x-lark-request-timestamp"] = timestamp;
    headers["x-lark-request-nonce"] = nonce;
    headers["x-lark-signature"] = signLark(timestamp, nonce, t.encryptKey, rawBody);
  }
  return { rawBody, headers };
}
