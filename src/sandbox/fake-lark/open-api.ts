/** Open API routes of the fake (protocol doc §5–6): pure request → Reply handlers over FakeLarkState. */
import type { IncomingHttpHeaders } from "node:http";
import { CARD_MAX_BYTES, checkCard, isCardReference, isSharedCard, isV2Card, TEXT_MAX_BYTES } from "./cards";
import { unionIdFor, userIdFor } from "./ids";
import { errors, fieldError, larkError, ok, type Reply } from "./responses";
import { CARD_TOKEN_MAX_USES, type FakeLarkState } from "./state";
import type { ChatRecord, StoredMessage } from "./types";

/** A parsed HTTP request as the handlers see it. */
export interface ApiRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined when empty). */
  body: unknown;
  /** True when a non-empty body was not valid JSON. */
  bodyInvalid: boolean;
}

type Handler = (state: FakeLarkState, req: ApiRequest, params: string[]) => Reply;

/** A matched route; `auth: false` only for the token endpoint. */
export interface Route {
  method: string;
  pattern: RegExp;
  auth: boolean;
  handler: Handler;
}

const MSG_TYPES = new Set([
  "text",
  "post",
  "image",
  "file",
  "audio",
  "media",
  "sticker",
  "interactive",
  "share_chat",
  "share_user",
  "system",
]);
const RECEIVE_ID_TYPES = new Set(["open_id", "union_id", "user_id", "email", "chat_id"]);
const USER_ID_TYPES = new Set(["open_id", "union_id", "user_id"]);
const MESSAGE_PATCH_WINDOW_MS = 14 * 24 * 60 * 60 * 1000;
const SEND_QPS_PER_CHAT = 5;
const PATCH_QPS_PER_MESSAGE = 5;
const URGENT_MAX_USERS = 200;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

// ---- helpers ---------------------------------------------------------------------------------

/** Checks the Bearer tenant token; null when fine. */
export function authenticate(state: FakeLarkState, req: ApiRequest): Reply | null {
  const header = req.headers.authorization?.trim() ?? "";
  const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (!token) {
    return larkError(
      99991661,
      "Missing access token for authorization. Please make a request with token attached.",
    );
  }
  if (!/^[tu]-/.test(token)) {
    return larkError(99991671, "Invalid token: token should start with 't-' or 'u-'.");
  }
  if (!state.tokenIsLive(token)) {
    return larkError(
      99991663,
      "Invalid access token for authorization. Please make a request with token attached.",
    );
  }
  return null;
}

function senderOf(state: FakeLarkState, msg: StoredMessage): Json {
  const { appId, tenantKey } = state.opts;
  return msg.sender === "bot"
    ? { id: appId, id_type: "app_id", sender_type: "app", tenant_key: tenantKey }
    : { id: msg.sender, id_type: "open_id", sender_type: "user", tenant_key: tenantKey };
}

/** The `data` of create/reply/get: the message as Lark describes it. */
export function messageData(state: FakeLarkState, msg: StoredMessage): Json {
  return {
    message_id: msg.message_id,
    ...(msg.root_id ? { root_id: msg.root_id } : {}),
    ...(msg.parent_id ? { parent_id: msg.parent_id } : {}),
    ...(msg.thread_id ? { thread_id: msg.thread_id } : {}),
    msg_type: msg.msg_type,
    create_time: msg.create_time,
    update_time: msg.update_time,
    deleted: false,
    updated: msg.history.length > 1,
    chat_id: msg.chat_id,
    sender: senderOf(state, msg),
    body: { content: JSON.stringify(msg.content) },
  };
}

/** Validates `msg_type` + `content`; returns the parsed content or an error reply. */
function parseContent(msgType: unknown, content: unknown): { parsed: unknown } | { error: Reply } {
  if (typeof msgType !== "string" || msgType === "")
    return { error: fieldError("msg_type", "msg_type is required") };
  if (!MSG_TYPES.has(msgType)) return { error: errors.badParam(`invalid msg_type: ${msgType}`) };
  if (typeof content !== "string") {
    return { error: errors.badParam("content must be a string of serialised JSON") };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    return { error: errors.badParam("content is not a string in json format") };
  }
  if (!isObject(parsed)) return { error: errors.badParam("content is not a JSON object") };
  const limit = msgType === "interactive" ? CARD_MAX_BYTES : TEXT_MAX_BYTES;
  if (Buffer.byteLength(content, "utf8") > limit) {
    return { error: larkError(230025, `The content of the message exceeds the limit (${limit} bytes).`) };
  }
  if (msgType === "text" && typeof parsed.text !== "string") {
    return { error: errors.badParam("invalid message content: text content needs a string `text`") };
  }
  if (msgType === "interactive") {
    const problem = checkCard(parsed);
    if (problem) return { error: larkError(problem.code, problem.msg) };
  }
  return { parsed };
}

/** Chat delivery checks shared by create and reply. */
function chatProblem(chat: ChatRecord): Reply | null {
  if (chat.dissolved)
    return larkError(232009, "Your request specifies a chat which has already been dissolved.");
  if (!chat.botIn) return larkError(230002, "Bot/User can NOT be out of the chat.");
  return null;
}

/** Common tail of create/reply: uuid dedupe, per-chat QPS, store. */
function deliver(
  state: FakeLarkState,
  chat: ChatRecord,
  body: Json,
  parsed: unknown,
  reply?: { parent: StoredMessage; inThread: boolean },
): Reply {
  const uuid = body.uuid;
  if (uuid !== undefined && (typeof uuid !== "string" || uuid.length > 50)) {
    return errors.badParam("uuid must be a string of at most 50 characters");
  }
  if (typeof uuid === "string" && uuid !== "") {
    const earlier = state.uuidHit(uuid);
    if (earlier) return ok(messageData(state, earlier));
  }
  if (!state.allow(`send:${chat.chat_id}`, SEND_QPS_PER_CHAT)) return errors.rateLimited();
  const parent = reply?.parent;
  const msg = state.storeMessage({
    chat_id: chat.chat_id,
    msg_type: body.msg_type as string,
    content: parsed,
    sender: "bot",
    ...(typeof uuid === "string" && uuid !== "" ? { uuid } : {}),
    ...(parent ? { parent_id: parent.message_id, root_id: parent.root_id ?? parent.message_id } : {}),
    ...(parent && (reply?.inThread || parent.thread_id)
      ? { thread_id: parent.thread_id ?? `omt_${parent.message_id.slice(3, 16)}` }
      : {}),
  });
  if (typeof uuid === "string" && uuid !== "") state.rememberUuid(uuid, msg.message_id);
  return ok(messageData(state, msg));
}

function bodyObject(req: ApiRequest): { body: Json } | { error: Reply } {
  if (req.bodyInvalid || !isObject(req.body))
    return { error: errors.badParam("request body is not a JSON object") };
  return { body: req.body };
}

// ---- handlers --------------------------------------------------------------------------------

const tenantToken: Handler = (state, req) => {
  if (req.bodyInvalid || !isObject(req.body)) return larkError(10003, "invalid param");
  const { app_id: appId, app_secret: appSecret } = req.body;
  if (typeof appId !== "string" || typeof appSecret !== "string" || !appId || !appSecret) {
    return larkError(10003, "invalid param");
  }
  if (appId !== state.opts.appId) return larkError(10014, "app id not exists or app unauthorized");
  if (appSecret !== state.opts.appSecret) return larkError(10015, "app secret invalid");
  const { token, expire } = state.issueToken();
  return { status: 200, body: { code: 0, msg: "ok", tenant_access_token: token, expire } };
};

const botInfo: Handler = (state) => ({
  status: 200,
  body: {
    code: 0,
    msg: "ok",
    bot: {
      activate_status: 2,
      app_name: state.opts.botName,
      avatar_url: "",
      ip_white_list: [],
      open_id: state.opts.botOpenId,
    },
  },
});

const createMessage: Handler = (state, req) => {
  const parsedBody = bodyObject(req);
  if ("error" in parsedBody) return parsedBody.error;
  const { body } = parsedBody;
  const idType = req.query.receive_id_type;
  if (!idType) return fieldError("receive_id_type", "receive_id_type is required");
  if (!RECEIVE_ID_TYPES.has(idType)) return fieldError("receive_id_type", `unsupported value ${idType}`);
  const receiveId = body.receive_id;
  if (typeof receiveId !== "string" || receiveId === "")
    return fieldError("receive_id", "receive_id is required");
  const content = parseContent(body.msg_type, body.content);
  if ("error" in content) return content.error;
  let chat: ChatRecord | undefined;
  if (idType === "chat_id") {
    chat = state.chats.get(receiveId);
    if (!chat)
      return errors.badParam(`invalid receive_id: chat ${receiveId} is unknown (fake-lark: addChat first)`);
  } else if (idType === "open_id") {
    if (!state.users.has(receiveId)) {
      return larkError(
        230013,
        `Bot has NO availability to this user (fake-lark: unknown open_id ${receiveId}).`,
      );
    }
    chat = state.p2pChat(receiveId);
  } else {
    return errors.badParam(`fake-lark supports receive_id_type chat_id and open_id only, got ${idType}`);
  }
  const problem = chatProblem(chat);
  if (problem) return problem;
  return deliver(state, chat, body, content.parsed);
};

const replyMessage: Handler = (state, req, [messageId = ""]) => {
  const parsedBody = bodyObject(req);
  if ("error" in parsedBody) return parsedBody.error;
  const { body } = parsedBody;
  const content = parseContent(body.msg_type, body.content);
  if ("error" in content) return content.error;
  const parent = state.message(messageId);
  if (!parent) return errors.badParam(`invalid message_id: ${messageId}`);
  const chat = state.chats.get(parent.chat_id);
  if (!chat) return larkError(230002, "Bot/User can NOT be out of the chat.");
  const problem = chatProblem(chat);
  if (problem) return problem;
  return deliver(state, chat, body, content.parsed, { parent, inThread: body.reply_in_thread === true });
};

const getMessage: Handler = (state, _req, [messageId = ""]) => {
  const msg = state.message(messageId);
  if (!msg) return errors.badParam(`invalid message_id: ${messageId}`);
  return ok({ items: [messageData(state, msg)] });
};

const patchMessage: Handler = (state, req, [messageId = ""]) => {
  const parsedBody = bodyObject(req);
  if ("error" in parsedBody) return parsedBody.error;
  const { body } = parsedBody;
  const msg = state.message(messageId);
  if (!msg) return errors.badParam(`invalid message_id: ${messageId}`);
  if (msg.sender !== "bot")
    return larkError(230027, "Lack of necessary permissions: the bot is not the sender.");
  if (msg.msg_type !== "interactive")
    return errors.badParam("only interactive (card) messages can be patched");
  if (state.now() - Number(msg.create_time) > MESSAGE_PATCH_WINDOW_MS) {
    return larkError(230031, "The message was sent more than 14 days ago and can no longer be updated.");
  }
  const content = parseContent("interactive", body.content);
  if ("error" in content) return content.error;
  const next = content.parsed;
  if (isV2Card(msg.content) && !isCardReference(next) && !isV2Card(next)) {
    return larkError(
      230099,
      "Failed to update card content, ext=ErrCode: 200830; ErrMsg: cannot turn a 2.0 card into 1.0; ",
    );
  }
  if (!isSharedCard(msg.content) || !isSharedCard(next)) {
    return larkError(
      230099,
      "Failed to update card content, ext=config.update_multi must be true before and after the update (shared card); ",
    );
  }
  if (!state.allow(`patch:${messageId}`, PATCH_QPS_PER_MESSAGE)) return errors.rateLimited();
  state.updateContent(msg, next);
  return ok({});
};

const delayedCardUpdate: Handler = (state, req) => {
  const parsedBody = bodyObject(req);
  if ("error" in parsedBody) return parsedBody.error;
  const { body } = parsedBody;
  const { token, card } = body;
  if (typeof token !== "string" || token === "") return fieldError("token", "token is required");
  if (!isObject(card)) return fieldError("card", "card must be a JSON object");
  const rec = state.cardToken(token);
  if (!rec) return fieldError("token", "invalid token (not issued by a card callback)");
  if (!rec.ready) return fieldError("token", "the card callback has not been answered yet");
  if (rec.expiresAt <= state.now()) return fieldError("token", "token expired (valid 30 minutes)");
  if (rec.uses >= CARD_TOKEN_MAX_USES) return fieldError("token", "token already used twice");
  if (Buffer.byteLength(JSON.stringify(card), "utf8") > CARD_MAX_BYTES) {
    return larkError(230025, `The content of the message exceeds the limit (${CARD_MAX_BYTES} bytes).`);
  }
  const problem = checkCard(card);
  if (problem) return larkError(problem.code, problem.msg);
  const msg = state.message(rec.messageId);
  if (!msg) return errors.badParam("the message of this token no longer exists");
  if (isV2Card(msg.content) && !isCardReference(card) && !isV2Card(card)) {
    return larkError(
      230099,
      "Failed to update card content, ext=ErrCode: 200830; ErrMsg: cannot turn a 2.0 card into 1.0; ",
    );
  }
  rec.uses += 1;
  state.updateContent(msg, card);
  return { status: 200, body: { code: 0, msg: "ok" } };
};

function urgent(kind: "app" | "sms" | "phone"): Handler {
  return (state, req, [messageId = ""]) => {
    const parsedBody = bodyObject(req);
    if ("error" in parsedBody) return parsedBody.error;
    const { body } = parsedBody;
    const idType = req.query.user_id_type;
    if (!idType) return fieldError("user_id_type", "user_id_type is required");
    if (!USER_ID_TYPES.has(idType)) return fieldError("user_id_type", `unsupported value ${idType}`);
    const list = body.user_id_list;
    if (!Array.isArray(list) || list.length === 0 || !list.every((id) => typeof id === "string")) {
      return fieldError("user_id_list", "user_id_list must be a non-empty array of strings");
    }
    if (list.length > URGENT_MAX_USERS) {
      return errors.badParam(`user_id_list has ${list.length} ids, at most ${URGENT_MAX_USERS} allowed`);
    }
    const msg = state.message(messageId);
    if (!msg) return errors.badParam(`invalid message_id: ${messageId}`);
    if (msg.sender !== "bot") return larkError(230012, "Bot is NOT the sender of the message.");
    const members = new Set(
      (state.chats.get(msg.chat_id)?.members ?? []).map((openId) => externalId(openId, idType)),
    );
    const ids = list as string[];
    const valid = ids.filter((id) => members.has(id));
    const invalid = ids.filter((id) => !members.has(id));
    if (valid.length === 0) return errors.badParam("all user ids in user_id_list are invalid");
    msg.urgent.push({ kind, user_ids: valid });
    state.changed(msg);
    return ok({ invalid_user_id_list: invalid });
  };
}

/** The id of an open_id-keyed user in the requested id type. */
function externalId(openId: string, idType: string): string {
  if (idType === "union_id") return unionIdFor(openId);
  if (idType === "user_id") return userIdFor(openId);
  return openId;
}

const encodePageToken = (offset: number): string => Buffer.from(`offset:${offset}`).toString("base64url");
function decodePageToken(token: string): number | undefined {
  const m = /^offset:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
  return m ? Number(m[1]) : undefined;
}

const chatMembers: Handler = (state, req, [chatId = ""]) => {
  const idType = req.query.member_id_type ?? "open_id";
  if (!USER_ID_TYPES.has(idType)) return fieldError("member_id_type", `unsupported value ${idType}`);
  const sizeText = req.query.page_size;
  const pageSize = sizeText === undefined || sizeText === "" ? 20 : Number(sizeText);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
    return fieldError("page_size", "page_size must be an integer in 1..100");
  }
  const tokenText = req.query.page_token;
  const offset = tokenText ? decodePageToken(tokenText) : 0;
  if (offset === undefined) return fieldError("page_token", "invalid page_token");
  const chat = state.chats.get(chatId);
  if (!chat || chat.dissolved) return larkError(232006, "Your request specifies a chat_id which is invalid.");
  if (!chat.botIn) return larkError(232011, "Operator can NOT be out of the chat.");
  const members = chat.members.filter((id) => id !== state.opts.botOpenId);
  const page = members.slice(offset, offset + pageSize);
  const hasMore = offset + pageSize < members.length;
  return ok({
    items: page.map((openId) => ({
      member_id_type: idType,
      member_id: externalId(openId, idType),
      name: state.users.get(openId) ?? "",
      tenant_key: state.opts.tenantKey,
    })),
    page_token: hasMore ? encodePageToken(offset + pageSize) : "",
    has_more: hasMore,
    member_total: members.length,
  });
};

const getUser: Handler = (state, req, [userId = ""]) => {
  const idType = req.query.user_id_type ?? "open_id";
  if (!USER_ID_TYPES.has(idType)) return fieldError("user_id_type", `unsupported value ${idType}`);
  const openId = [...state.users.keys()].find((id) => externalId(id, idType) === userId);
  if (openId === undefined) return larkError(41050, "no user authority error (fake-lark: unknown user)");
  const name = state.users.get(openId) ?? "";
  return ok({
    user: {
      open_id: openId,
      union_id: unionIdFor(openId),
      user_id: userIdFor(openId),
      name,
      en_name: name,
      nickname: "",
      email: "",
      mobile: "",
      avatar: { avatar_72: "", avatar_240: "", avatar_640: "", avatar_origin: "" },
      status: {
        is_frozen: false,
        is_resigned: false,
        is_activated: true,
        is_exited: false,
        is_unjoin: false,
      },
      department_ids: [],
      leader_user_id: "",
      job_title: "",
      tenant_key: state.opts.tenantKey,
    },
  });
};

// ---- routing ---------------------------------------------------------------------------------

const SEG = "([^/]+)";
const msgPath = (suffix: string): RegExp => new RegExp(`^/open-apis/im/v1/messages/${SEG}${suffix}$`);

export const TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal";

/** POST /open-apis/im/v1/files (multipart): store the file, answer its file_key. */
function uploadFile(state: FakeLarkState, req: ApiRequest): Reply {
  const b = req.body as Record<string, unknown> | undefined;
  const file = b?.file as { name?: string; bytes?: Uint8Array } | undefined;
  if (!b || !file?.bytes || file.bytes.length === 0)
    return errors.badParam("file is required (multipart field 'file')");
  if (typeof b.file_type !== "string" || typeof b.file_name !== "string") {
    return errors.badParam("file_type and file_name are required");
  }
  if (file.bytes.length > 30 * 1024 * 1024) return larkError(234006, "file too large (30 MB)");
  const fileKey = `file_v3_${Math.random().toString(16).slice(2)}${state.files.size}`;
  state.files.set(fileKey, { name: b.file_name, type: b.file_type, bytes: file.bytes });
  return ok({ file_key: fileKey });
}

const ROUTES: Route[] = [
  { method: "POST", pattern: /^\/open-apis\/im\/v1\/files$/, auth: true, handler: uploadFile },
  { method: "POST", pattern: new RegExp(`^${TOKEN_PATH}$`), auth: false, handler: tenantToken },
  { method: "GET", pattern: /^\/open-apis\/bot\/v3\/info\/?$/, auth: true, handler: botInfo },
  { method: "POST", pattern: /^\/open-apis\/im\/v1\/messages$/, auth: true, handler: createMessage },
  { method: "POST", pattern: msgPath("/reply"), auth: true, handler: replyMessage },
  { method: "GET", pattern: msgPath(""), auth: true, handler: getMessage },
  { method: "PATCH", pattern: msgPath(""), auth: true, handler: patchMessage },
  { method: "PATCH", pattern: msgPath("/urgent_app"), auth: true, handler: urgent("app") },
  { method: "PATCH", pattern: msgPath("/urgent_sms"), auth: true, handler: urgent("sms") },
  { method: "PATCH", pattern: msgPath("/urgent_phone"), auth: true, handler: urgent("phone") },
  {
    method: "POST",
    pattern: /^\/open-apis\/interactive\/v1\/card\/update$/,
    auth: true,
    handler: delayedCardUpdate,
  },
  {
    method: "GET",
    pattern: new RegExp(`^/open-apis/im/v1/chats/${SEG}/members$`),
    auth: true,
    handler: chatMembers,
  },
  {
    method: "GET",
    pattern: new RegExp(`^/open-apis/contact/v3/users/${SEG}$`),
    auth: true,
    handler: getUser,
  },
];

/** Finds the route and its decoded path parameters. */
export function matchRoute(method: string, path: string): { route: Route; params: string[] } | undefined {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(path);
    if (!m) continue;
    try {
      return { route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}
