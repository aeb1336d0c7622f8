/** `startFakeLark`: the HTTP server tying state, Open API routes, faults, pusher and long connection together. */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Faults } from "./faults";
import { newLogId } from "./ids";
import { type ApiRequest, authenticate, matchRoute } from "./open-api";
import { Pusher } from "./pusher";
import { errors, type Reply } from "./responses";
import { FakeLarkState, resolveOptions } from "./state";
import type { ApiCall, ChatRecord, FakeLarkOptions, StoredMessage } from "./types";
import { rejectUpgrade } from "./websocket";
import { LongConnection, WS_BOOTSTRAP_PATH } from "./ws";

/** A running fake Lark Open Platform. */
export interface FakeLark {
  /** "http://127.0.0.1:<port>", no trailing slash: pass as the SDK Client's `domain`. */
  url: string;
  appId: string;
  appSecret: string;
  botOpenId: string;
  botName: string;
  tenantKey: string;
  close(): Promise<void>;
  addUser(openId: string, name: string): void;
  /** Registers (or replaces) a group chat; `botIn` defaults to true. */
  addChat(chatId: string, opts: { name: string; members: string[]; botIn?: boolean }): void;
  /** Later sends to the chat fail with 232009. */
  dissolveChat(chatId: string): void;
  chat(chatId: string): ChatRecord | undefined;
  /** Every chat the fake knows, in registration order. */
  chats(): ChatRecord[];
  /** Every user as `[open_id, name]`, in registration order. */
  users(): [string, string][];
  /** Calls `listener` whenever a message is stored or changes; returns the unsubscribe function. */
  onMessage(listener: (msg: StoredMessage) => void): () => void;
  /** Puts back chats and messages saved earlier (same ids, times and content), skipping those already present. */
  restore(saved: { chats: ChatRecord[]; messages: StoredMessage[] }): void;
  /** Every request received, in arrival order (status/code filled in when answered). */
  calls: ApiCall[];
  /** Delivered messages in order, optionally for one chat. */
  messages(chatId?: string): StoredMessage[];
  message(messageId: string): StoredMessage | undefined;
  /** A file uploaded through im/v1/files, by its file_key. */
  file(fileKey: string): { name: string; type: string; bytes: Uint8Array } | undefined;
  /** Clears calls, messages, uuid/QPS memory, card tokens and faults; keeps the directory and tenant tokens. */
  reset(): void;
  /** Moves the fake's clock forward (token, uuid and card-token expiry; QPS windows). */
  advanceClock(ms: number): void;
  faults: Faults;
  push: Pusher;
  /** The long-connection server (only with `ws: true`). */
  ws: LongConnection | undefined;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

const HTML_502 =
  "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n";
const HTML_503 =
  "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n";

/** "5xx" faults rotate through a JSON 500 and HTML 502/503 pages. */
function serverError(n: number): Reply {
  if (n % 3 === 1) return { status: 502, html: HTML_502 };
  if (n % 3 === 2) return { status: 503, html: HTML_503 };
  return { status: 500, body: { code: 2200, msg: "Internal Error", error: { log_id: "" } } };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** A multipart upload as `{ field: string | { name, bytes } }` (file uploads: im/v1/files). */
async function readMultipart(bytes: Buffer, contentType: string): Promise<Record<string, unknown>> {
  const form = await new Response(new Uint8Array(bytes), {
    headers: { "content-type": contentType },
  }).formData();
  const out: Record<string, unknown> = {};
  for (const [k, v] of form.entries()) {
    out[k] = typeof v === "string" ? v : { name: v.name, bytes: new Uint8Array(await v.arrayBuffer()) };
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts the fake on 127.0.0.1 (random port unless `port` is given). */
export async function startFakeLark(options: FakeLarkOptions = {}): Promise<FakeLark> {
  const opts = resolveOptions(options);
  const state = new FakeLarkState(opts);
  const faults = new Faults(opts.latencyMs, () => state.expireAllTokens());
  let url = "";
  const longConnection = opts.ws ? new LongConnection(state, () => url) : undefined;
  const push = new Pusher(state, longConnection);
  const held = new Set<{ res: ServerResponse; timer: NodeJS.Timeout }>();
  let serverErrors = 0;

  /** Keeps a request unanswered, then drops the connection after `faults.timeoutMs`. */
  const hold = (res: ServerResponse): void => {
    const entry = {
      res,
      timer: setTimeout(() => {
        held.delete(entry);
        res.socket?.destroy();
      }, faults.timeoutMs),
    };
    held.add(entry);
    res.on("close", () => {
      clearTimeout(entry.timer);
      held.delete(entry);
    });
  };

  const write = (res: ServerResponse, reply: Reply, call: ApiCall): void => {
    if (res.destroyed || res.writableEnded) return;
    const logId = newLogId();
    let text: string;
    let contentType: string;
    if (reply.html !== undefined) {
      text = reply.html;
      contentType = "text/html; charset=utf-8";
    } else {
      const body = reply.body ?? {};
      if (isObject(body) && isObject(body.error) && body.error.log_id === "") body.error.log_id = logId;
      if (isObject(body) && typeof body.code === "number") call.code = body.code;
      text = JSON.stringify(body);
      contentType = "application/json; charset=utf-8";
    }
    call.status = reply.status;
    res.writeHead(reply.status, {
      "content-type": contentType,
      "content-length": Buffer.byteLength(text),
      "x-tt-logid": logId,
      ...reply.headers,
    });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const u = new URL(req.url ?? "/", "http://fake");
    const bytes = await readBody(req);
    const contentType = String(req.headers["content-type"] ?? "");
    const multipart = contentType.startsWith("multipart/form-data");
    const raw = multipart ? "" : bytes.toString("utf8");
    const method = (req.method ?? "GET").toUpperCase();
    const path = u.pathname;
    const query = Object.fromEntries(u.searchParams);
    let body: unknown;
    let bodyInvalid = false;
    if (multipart) {
      try {
        body = await readMultipart(bytes, contentType);
      } catch {
        bodyInvalid = true;
      }
    } else if (raw.trim() !== "") {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
        bodyInvalid = true;
      }
    }
    const call: ApiCall = { method, path, query, body, status: 0, code: undefined, at: state.now() };
    state.calls.push(call);
    const apiReq: ApiRequest = {
      method,
      path,
      query,
      headers: req.headers,
      body: bodyInvalid ? undefined : body,
      bodyInvalid,
    };

    let reply: Reply | "hang";
    const match = path.startsWith("/open-apis/") ? matchRoute(method, path) : undefined;
    if (longConnection && method === "POST" && path === WS_BOOTSTRAP_PATH) {
      reply = longConnection.bootstrap(apiReq);
    } else if (!match) {
      reply = errors.notFound(method, path);
    } else if (!match.route.auth) {
      reply = match.route.handler(state, apiReq, match.params);
    } else {
      const fault = faults.pick(path);
      if (fault) call.fault = fault;
      if (fault === "timeout") reply = "hang";
      else if (fault === "5xx") reply = serverError(serverErrors++);
      else if (fault === "429") reply = errors.gatewayLimited();
      else if (fault === "230020") reply = errors.rateLimited();
      else {
        const answer = authenticate(state, apiReq) ?? match.route.handler(state, apiReq, match.params);
        reply = fault === "timeout-after-commit" ? "hang" : answer;
      }
    }
    if (reply === "hang") {
      hold(res);
      return;
    }
    if (faults.latencyMs > 0 && path.startsWith("/open-apis/")) await sleep(faults.latencyMs);
    write(res, reply, call);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent || res.destroyed) return;
      const msg = err instanceof Error ? err.message : String(err);
      res.writeHead(500, { "content-type": "application/json; charset=utf-8", "x-tt-logid": newLogId() });
      res.end(JSON.stringify({ code: 2200, msg: `fake-lark internal error: ${msg}` }));
    });
  });
  server.on("upgrade", (req, socket, head: Buffer) => {
    if (longConnection) longConnection.upgrade(req, socket, head);
    else rejectUpgrade(socket, 404, "Not Found", {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    appId: opts.appId,
    appSecret: opts.appSecret,
    botOpenId: opts.botOpenId,
    botName: opts.botName,
    tenantKey: opts.tenantKey,
    async close() {
      for (const entry of held) {
        clearTimeout(entry.timer);
        entry.res.socket?.destroy();
      }
      held.clear();
      await longConnection?.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
    addUser: (openId, name) => state.addUser(openId, name),
    addChat: (chatId, chatOpts) => state.addChat(chatId, chatOpts),
    dissolveChat: (chatId) => state.dissolveChat(chatId),
    chat: (chatId) => state.chats.get(chatId),
    chats: () => [...state.chats.values()],
    users: () => [...state.users.entries()],
    onMessage(listener) {
      state.listeners.add(listener);
      return () => state.listeners.delete(listener);
    },
    restore: (saved) => state.restore(saved),
    calls: state.calls,
    messages: (chatId) => state.messages(chatId),
    message: (messageId) => state.message(messageId),
    file: (fileKey) => state.files.get(fileKey),
    reset() {
      state.reset();
      faults.clear();
    },
    advanceClock(ms) {
      state.clockOffsetMs += ms;
    },
    faults,
    push,
    ws: longConnection,
  };
}
