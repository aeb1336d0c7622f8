import * as lark from "@larksuiteoapi/node-sdk";
import type { Logger } from "../log";
import { fetchHttpInstance } from "./http-instance";
import { LarkApiError, TOKEN_CODES } from "./lark-errors";

/**
 * The only module that talks to Lark: a thin layer over the SDK `Client` that always checks `code`,
 * retries once on a rejected tenant token, and logs one line per call (never the token).
 */
export type ReceiveIdType = "chat_id" | "open_id" | "union_id" | "user_id" | "email";
export type MsgType = "text" | "post" | "interactive" | "file" | "image";
export type BuzzChannel = "app" | "sms" | "phone";

export interface LarkApi {
  botInfo(): Promise<{ openId: string; name: string }>;
  send(p: {
    receiveIdType: ReceiveIdType;
    receiveId: string;
    msgType: MsgType;
    content: string;
    uuid?: string;
  }): Promise<{
    messageId: string;
  }>;
  reply(p: {
    messageId: string;
    msgType: MsgType;
    content: string;
    uuid?: string;
    replyInThread?: boolean;
  }): Promise<{
    messageId: string;
  }>;
  /** Replace a shared card's content (PATCH). */
  patchCard(messageId: string, content: string): Promise<void>;
  /** Delayed update with a card-update token from a callback (30 min, 2 uses). */
  cardUpdate(token: string, card: unknown): Promise<void>;
  buzz(messageId: string, channel: BuzzChannel, openIds: string[]): Promise<{ invalidOpenIds: string[] }>;
  chatMembers(chatId: string): Promise<{ openId: string; name: string }[]>;
  user(openId: string): Promise<{ openId: string; name: string } | null>;
  /** Upload a file (≤ 30 MB) for a file message; returns its file_key. */
  uploadFile(p: {
    fileName: string;
    fileType: "xls" | "pdf" | "stream";
    bytes: Uint8Array;
  }): Promise<{ fileKey: string }>;
  /** The same client, adding these fields (outbox row, whistle) to its log lines. */
  withLogFields?(fields: Record<string, unknown>): LarkApi;
}

export interface LarkClientOptions {
  appId: string;
  appSecret: string;
  /** "feishu", "lark" or a base URL. */
  domain: string;
  log: Logger;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The SDK's token cache contract; ours is per client so a rejected token can be dropped. */
class TokenCache {
  private values = new Map<string, { value: unknown; expireAt: number }>();
  private key(k: string | symbol, ns?: string) {
    return `${ns ?? ""}:${String(k)}`;
  }
  async get(k: string | symbol, o?: { namespace?: string }) {
    const hit = this.values.get(this.key(k, o?.namespace));
    if (!hit) return undefined;
    if (hit.expireAt && hit.expireAt < Date.now()) return undefined;
    return hit.value;
  }
  async set(k: string | symbol, value: unknown, expireAt?: number, o?: { namespace?: string }) {
    this.values.set(this.key(k, o?.namespace), { value, expireAt: expireAt ?? 0 });
    return true;
  }
  clear() {
    this.values.clear();
  }
}

const quietSdkLogger = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

function sdkDomain(domain: string): lark.Domain | string {
  if (domain === "feishu") return lark.Domain.Feishu;
  if (domain === "lark") return lark.Domain.Lark;
  return domain;
}

interface LarkReply<T> {
  code?: number;
  msg?: string;
  data?: T;
}

export function createLarkClient(opts: LarkClientOptions): LarkApi {
  const cache = new TokenCache();
  const client = new lark.Client({
    appId: opts.appId,
    appSecret: opts.appSecret,
    domain: sdkDomain(opts.domain),
    httpInstance: fetchHttpInstance({ timeoutMs: opts.timeoutMs ?? 6000, fetch: opts.fetch }),
    cache: cache as unknown as lark.Cache,
    logger: quietSdkLogger,
    loggerLevel: lark.LoggerLevel.error,
  });
  const log = opts.log;

  /** Run one API call: check `code`, retry once on a token problem, log the outcome. */
  async function call<T>(
    op: string,
    fields: Record<string, unknown>,
    fn: () => Promise<LarkReply<T> & object>,
  ) {
    const started = performance.now();
    const once = async () => {
      const res = await fn();
      if (typeof res.code === "number" && res.code !== 0) {
        throw new LarkApiError(`${op}: ${res.msg ?? "error"}`, res.code, 200);
      }
      return res;
    };
    try {
      let res: LarkReply<T> & object;
      try {
        res = await once();
      } catch (err) {
        if (!(err instanceof LarkApiError) || !TOKEN_CODES.has(err.code)) throw err;
        log.warn("lark token rejected; fetching a new one", { op, code: err.code });
        cache.clear();
        res = await once();
      }
      log.info("lark call", { op, ok: true, ms: Math.round(performance.now() - started), ...fields });
      return res;
    } catch (err) {
      const e = err instanceof LarkApiError ? err : new LarkApiError(`${op}: ${String(err)}`, 0, 0);
      log.warn("lark call", {
        op,
        ok: false,
        code: e.code,
        status: e.httpStatus,
        error: e.message,
        log_id: e.logId,
        ms: Math.round(performance.now() - started),
        ...fields,
      });
      throw e;
    }
  }

  const api = (extra: Record<string, unknown>): LarkApi => ({
    withLogFields: (more) => api(Object.assign({}, extra, more)),

    async botInfo() {
      const res = (await call("bot.info", extra, () =>
        client.request({ method: "GET", url: "/open-apis/bot/v3/info" }),
      )) as { bot?: { open_id?: string; app_name?: string } };
      if (!res.bot?.open_id) throw new LarkApiError("bot.info: no open_id in the answer", -1, 200);
      return { openId: res.bot.open_id, name: res.bot.app_name ?? "" };
    },

    async send(p) {
      const res = await call<{ message_id?: string }>(
        "im.message.create",
        Object.assign({}, extra, { target: p.receiveId }),
        () =>
          client.im.v1.message.create({
            params: { receive_id_type: p.receiveIdType },
            data: { receive_id: p.receiveId, msg_type: p.msgType, content: p.content, uuid: p.uuid },
          }),
      );
      return { messageId: res.data?.message_id ?? "" };
    },

    async reply(p) {
      const res = await call<{ message_id?: string }>(
        "im.message.reply",
        Object.assign({}, extra, { target: p.messageId }),
        () =>
          client.im.v1.message.reply({
            path: { message_id: p.messageId },
            data: { content: p.content, msg_type: p.msgType, uuid: p.uuid, reply_in_thread: p.replyInThread },
          }),
      );
      return { messageId: res.data?.message_id ?? "" };
    },

    async patchCard(messageId, content) {
      await call("im.message.patch", Object.assign({}, extra, { target: messageId }), () =>
        client.im.v1.message.patch({ path: { message_id: messageId }, data: { content } }),
      );
    },

    async cardUpdate(token, card) {
      await call("interactive.card.update", extra, () =>
        client.request({
          method: "POST",
          url: "/open-apis/interactive/v1/card/update",
          data: { token, card },
        }),
      );
    },

    async buzz(messageId, channel, openIds) {
      const payload = {
        path: { message_id: messageId },
        params: { user_id_type: "open_id" as const },
        data: { user_id_list: openIds },
      };
      const op = `im.message.urgent_${channel}`;
      const res = await call<{ invalid_user_id_list?: string[] }>(
        op,
        Object.assign({}, extra, { target: messageId }),
        () =>
          channel === "app"
            ? client.im.v1.message.urgentApp(payload)
            : channel === "sms"
              ? client.im.v1.message.urgentSms(payload)
              : client.im.v1.message.urgentPhone(payload),
      );
      return { invalidOpenIds: res.data?.invalid_user_id_list ?? [] };
    },

    async chatMembers(chatId) {
      const members: { openId: string; name: string }[] = [];
      let pageToken: string | undefined;
      for (let page = 0; page < 100; page++) {
        const res = await call<{
          items?: { member_id?: string; name?: string }[];
          page_token?: string;
          has_more?: boolean;
        }>("im.chat.members", Object.assign({}, extra, { target: chatId, page }), () =>
          client.im.v1.chatMembers.get({
            path: { chat_id: chatId },
            params: { member_id_type: "open_id", page_size: 100, page_token: pageToken },
          }),
        );
        for (const m of res.data?.items ?? []) {
          if (m.member_id) members.push({ openId: m.member_id, name: m.name ?? "" });
        }
        if (!res.data?.has_more || !res.data.page_token) break;
        pageToken = res.data.page_token;
      }
      return members;
    },

    async uploadFile(p) {
      const res = await call<{ file_key?: string }>(
        "im.file.create",
        Object.assign({}, extra, { file: p.fileName }),
        async () => {
          // This SDK method returns `data` itself, not the envelope.
          const data = (await client.im.v1.file.create({
            data: { file_type: p.fileType, file_name: p.fileName, file: p.bytes as unknown as Buffer },
          })) as { file_key?: string } | null;
          return {
            code: data?.file_key ? 0 : -1,
            msg: data ? "ok" : "no file_key in the answer",
            data: data ?? {},
          };
        },
      );
      return { fileKey: res.data?.file_key ?? "" };
    },

    async user(openId) {
      try {
        const res = await call<{ user?: { open_id?: string; name?: string } }>(
          "contact.user.get",
          extra,
          () =>
            client.contact.v3.user.get({ path: { user_id: openId }, params: { user_id_type: "open_id" } }),
        );
        const u = res.data?.user;
        return u?.open_id ? { openId: u.open_id, name: u.name ?? "" } : null;
      } catch (err) {
        if (err instanceof LarkApiError && err.httpStatus === 404) return null;
        throw err;
      }
    },
  });
  return api({});
}
