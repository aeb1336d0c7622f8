import { createDecipheriv, createHash } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as lark from "@larksuiteoapi/node-sdk";
import { Hono } from "hono";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  decodeFrame,
  decryptLark,
  encodeFrame,
  encryptLark,
  type FakeLark,
  type PushTarget,
  signLark,
  startFakeLark,
} from "../src/sandbox/fake-lark";

// ---- helpers -----------------------------------------------------------------------------------

type SdkCache = NonNullable<ConstructorParameters<typeof lark.Client>[0]["cache"]>;

/** Fresh token cache per Client (the SDK's default cache is a module-level singleton). */
function newCache(): SdkCache {
  const values = new Map<string, { value: unknown; expiresAt?: number }>();
  const keyOf = (key: { toString(): string }, ns?: string) => `${ns ?? ""}/${key.toString()}`;
  return {
    async get(key, options) {
      const hit = values.get(keyOf(key, options?.namespace));
      if (!hit || (hit.expiresAt !== undefined && hit.expiresAt <= Date.now())) return undefined;
      return hit.value;
    },
    async set(key, value, expiresAt, options) {
      values.set(keyOf(key, options?.namespace), { value, ...(expiresAt ? { expiresAt } : {}) });
      return true;
    },
  };
}

/** `loggerLevel: fatal` (0) is falsy and falls back to info inside the SDK, so silence it with a logger. */
const noop = () => undefined;
const silent = { error: noop, warn: noop, info: noop, debug: noop, trace: noop };

function sdkClient(fake: FakeLark): lark.Client {
  return new lark.Client({
    appId: fake.appId,
    appSecret: fake.appSecret,
    domain: fake.url,
    cache: newCache(),
    logger: silent,
  });
}

interface HttpFailure {
  status: number;
  data: { code?: number; msg?: string; error?: { log_id?: string } } | string;
  headers: Record<string, string>;
}

/** Awaits a call that must fail with an HTTP error (axios throws on non-2xx) and returns the response. */
async function failure(p: Promise<unknown>): Promise<HttpFailure> {
  try {
    await p;
  } catch (e) {
    const response = (e as { response?: HttpFailure }).response;
    if (response) return response;
    throw e;
  }
  throw new Error("expected the call to fail");
}

async function codeOf(p: Promise<unknown>): Promise<number | undefined> {
  const r = await failure(p);
  return typeof r.data === "object" ? r.data.code : undefined;
}

/** Raw fetch against the fake. */
async function api(
  fake: FakeLark,
  method: string,
  path: string,
  init: { body?: string; token?: string } = {},
) {
  const res = await fetch(`${fake.url}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // HTML answers
  }
  return { status: res.status, headers: res.headers, text, json };
}

async function fetchToken(fake: FakeLark): Promise<string> {
  const r = await api(fake, "POST", "/open-apis/auth/v3/tenant_access_token/internal", {
    body: JSON.stringify({ app_id: fake.appId, app_secret: fake.appSecret }),
  });
  return r.json.tenant_access_token as string;
}

const v2Card = (text: string) => ({
  schema: "2.0",
  config: { update_multi: true },
  header: { title: { tag: "plain_text", content: "🚨 Incident" }, template: "red" },
  body: { elements: [{ tag: "markdown", content: text }] },
});

const sendText = (client: lark.Client, chatId: string, text: string, uuid?: string) =>
  client.im.v1.message.create({
    params: { receive_id_type: "chat_id" },
    data: {
      receive_id: chatId,
      msg_type: "text",
      content: JSON.stringify({ text }),
      ...(uuid ? { uuid } : {}),
    },
  });

const sendCard = (client: lark.Client, chatId: string, card: unknown) =>
  client.im.v1.message.create({
    params: { receive_id_type: "chat_id" },
    data: { receive_id: chatId, msg_type: "interactive", content: JSON.stringify(card) },
  });

/** Element `i`, failing loudly when absent. */
function at<T>(items: T[], i: number): T {
  const item = items[i];
  if (item === undefined) throw new Error(`no item at index ${i}`);
  return item;
}

/** Test-side decryption, written independently of the fake's helper. */
function decrypt(encryptKey: string, b64: string): string {
  const key = createHash("sha256").update(encryptKey).digest();
  const buf = Buffer.from(b64, "base64");
  const decipher = createDecipheriv("aes-256-cbc", key, buf.subarray(0, 16));
  return Buffer.concat([decipher.update(buf.subarray(16)), decipher.final()]).toString("utf8");
}

// ---- directory fixture -------------------------------------------------------------------------

const ALICE = "ou_alice000000000000000000000000000";
const BOB = "ou_bob00000000000000000000000000000";
const CAROL = "ou_carol000000000000000000000000000";
const ROOM = "oc_room0000000000000000000000000000";
const NOBOT = "oc_nobot000000000000000000000000000";

function seed(fake: FakeLark): void {
  fake.addUser(ALICE, "Alice");
  fake.addUser(BOB, "Bob");
  fake.addUser(CAROL, "Carol");
  fake.addChat(ROOM, { name: "Street office", members: [ALICE, BOB, CAROL, fake.botOpenId] });
  fake.addChat(NOBOT, { name: "No bot here", members: [ALICE], botIn: false });
}

// ---- Open API ----------------------------------------------------------------------------------

describe("fake Lark Open API with the real SDK Client", () => {
  let fake: FakeLark;
  beforeAll(async () => {
    fake = await startFakeLark();
    seed(fake);
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it("serves token, send, reply, patch, urgent, members, user and bot info", async () => {
    const client = sdkClient(fake);

    const info = (await client.request({ method: "GET", url: "/open-apis/bot/v3/info" })) as {
      code: number;
      bot: { open_id: string; app_name: string; activate_status: number };
    };
    expect(info.code).toBe(0);
    expect(info.bot).toMatchObject({ open_id: fake.botOpenId, app_name: "吹哨报到", activate_status: 2 });

    const sent = await sendText(client, ROOM, "hello");
    expect(sent.code).toBe(0);
    expect(sent.data?.message_id).toMatch(/^om_[0-9a-f]{32}$/);
    expect(sent.data).toMatchObject({
      chat_id: ROOM,
      msg_type: "text",
      body: { content: '{"text":"hello"}' },
    });
    expect(sent.data?.sender).toMatchObject({ id: fake.appId, id_type: "app_id", sender_type: "app" });

    const card = await sendCard(client, ROOM, v2Card("**0 / 3** reported"));
    const cardId = card.data?.message_id ?? "";
    expect(fake.message(cardId)?.content).toEqual(v2Card("**0 / 3** reported"));

    const reply = await client.im.v1.message.reply({
      path: { message_id: cardId },
      data: { msg_type: "text", content: JSON.stringify({ text: "on it" }) },
    });
    expect(reply.data).toMatchObject({ parent_id: cardId, root_id: cardId, chat_id: ROOM });

    const patched = await client.im.v1.message.patch({
      path: { message_id: cardId },
      data: { content: JSON.stringify(v2Card("**1 / 3** reported")) },
    });
    expect(patched.code).toBe(0);
    expect(fake.message(cardId)?.history).toHaveLength(2);
    expect(fake.message(cardId)?.content).toEqual(v2Card("**1 / 3** reported"));

    const buzz = await client.im.v1.message.urgentApp({
      path: { message_id: cardId },
      params: { user_id_type: "open_id" },
      data: { user_id_list: [ALICE, "ou_stranger"] },
    });
    expect(buzz.data?.invalid_user_id_list).toEqual(["ou_stranger"]);
    expect(fake.message(cardId)?.urgent).toEqual([{ kind: "app", user_ids: [ALICE] }]);

    const page1 = await client.im.v1.chatMembers.get({
      path: { chat_id: ROOM },
      params: { member_id_type: "open_id", page_size: 2 },
    });
    expect(page1.data).toMatchObject({ has_more: true, member_total: 3 });
    expect(page1.data?.items?.map((i) => i.member_id)).toEqual([ALICE, BOB]);
    const page2 = await client.im.v1.chatMembers.get({
      path: { chat_id: ROOM },
      params: { member_id_type: "open_id", page_size: 2, page_token: page1.data?.page_token ?? "" },
    });
    expect(page2.data?.items).toEqual([
      { member_id_type: "open_id", member_id: CAROL, name: "Carol", tenant_key: fake.tenantKey },
    ]);
    expect(page2.data?.has_more).toBe(false);

    const user = await client.contact.v3.user.get({
      path: { user_id: BOB },
      params: { user_id_type: "open_id" },
    });
    expect(user.data?.user).toMatchObject({ open_id: BOB, name: "Bob" });

    // One token fetch, then every call carried it.
    const tokenCalls = fake.calls.filter((c) => c.path.endsWith("/tenant_access_token/internal"));
    expect(tokenCalls).toHaveLength(1);
    expect(fake.calls.every((c) => c.status === 200 && c.code === 0)).toBe(true);
    expect(fake.messages(ROOM).map((m) => m.msg_type)).toEqual(["text", "interactive", "text"]);
  });

  it("sends to an open_id through the bot's p2p chat", async () => {
    const client = sdkClient(fake);
    const r = await client.im.v1.message.create({
      params: { receive_id_type: "open_id" },
      data: { receive_id: ALICE, msg_type: "text", content: JSON.stringify({ text: "hi" }) },
    });
    const chatId = r.data?.chat_id ?? "";
    expect(chatId).toMatch(/^oc_/);
    expect(fake.chat(chatId)?.chat_type).toBe("p2p");
    expect(
      await codeOf(
        client.im.v1.message.create({
          params: { receive_id_type: "open_id" },
          data: { receive_id: "ou_nobody", msg_type: "text", content: JSON.stringify({ text: "hi" }) },
        }),
      ),
    ).toBe(230013);
  });

  it("issues tokens like Lark and rejects bad credentials and tokens", async () => {
    const own = await startFakeLark();
    try {
      await tokenChecks(own);
    } finally {
      await own.close();
    }
  });

  async function tokenChecks(fake: FakeLark): Promise<void> {
    const path = "/open-apis/auth/v3/tenant_access_token/internal";
    const good = await api(fake, "POST", path, {
      body: JSON.stringify({ app_id: fake.appId, app_secret: fake.appSecret }),
    });
    expect(good.status).toBe(200);
    expect(good.json).toMatchObject({ code: 0, msg: "ok", expire: 7200 });
    expect(good.json.tenant_access_token).toMatch(/^t-/);
    expect(good.headers.get("x-tt-logid")).toMatch(/^\d{17}[0-9A-F]+$/);
    expect(await fetchToken(fake)).toBe(good.json.tenant_access_token);

    // < 30 min left → a new token; the old one stays valid.
    fake.advanceClock((7200 - 1700) * 1000);
    const fresh = await fetchToken(fake);
    expect(fresh).not.toBe(good.json.tenant_access_token);
    const old = await api(fake, "GET", "/open-apis/bot/v3/info", {
      token: good.json.tenant_access_token as string,
    });
    expect(old.status).toBe(200);
    fake.advanceClock(1800 * 1000);
    const expired = await api(fake, "GET", "/open-apis/bot/v3/info", {
      token: good.json.tenant_access_token as string,
    });
    expect(expired.json.code).toBe(99991663);

    const wrongSecret = await api(fake, "POST", path, {
      body: JSON.stringify({ app_id: fake.appId, app_secret: "x" }),
    });
    expect([wrongSecret.status, wrongSecret.json.code]).toEqual([400, 10015]);
    const unknownApp = await api(fake, "POST", path, {
      body: JSON.stringify({ app_id: "cli_ffffffffffffffff", app_secret: "x" }),
    });
    expect(unknownApp.json.code).toBe(10014);
    const badJson = await api(fake, "POST", path, { body: "{nope" });
    expect([badJson.status, badJson.json.code]).toEqual([400, 10003]);

    const missing = await api(fake, "GET", "/open-apis/bot/v3/info");
    expect([missing.status, missing.json.code]).toEqual([400, 99991661]);
    const bogus = await api(fake, "GET", "/open-apis/bot/v3/info", { token: "t-bogus" });
    expect([bogus.status, bogus.json.code]).toEqual([400, 99991663]);
    expect((bogus.json.error as { log_id: string }).log_id).toBe(bogus.headers.get("x-tt-logid"));

    const token = await fetchToken(fake);
    const garbage = await api(fake, "POST", "/open-apis/im/v1/messages?receive_id_type=chat_id", {
      token,
      body: "not json",
    });
    expect([garbage.status, garbage.json.code]).toEqual([400, 230001]);
    const nowhere = await api(fake, "GET", "/open-apis/nowhere", { token });
    expect(nowhere.status).toBe(404);
    expect(nowhere.json.msg).toContain("404");
  }

  it("dedupes sends by uuid for an hour", async () => {
    const client = sdkClient(fake);
    const a = await sendText(client, ROOM, "once", "uuid-1");
    const b = await sendText(client, ROOM, "once", "uuid-1");
    expect(b.data?.message_id).toBe(a.data?.message_id);
    expect(fake.messages(ROOM)).toHaveLength(1);
    expect(fake.messages(ROOM)[0]?.uuid).toBe("uuid-1");
    fake.advanceClock(61 * 60 * 1000);
    const c = await sendText(client, ROOM, "once", "uuid-1");
    fake.advanceClock(-61 * 60 * 1000);
    expect(c.data?.message_id).not.toBe(a.data?.message_id);
  });

  it("enforces chat membership, dissolution and the per-chat 5 QPS limit", async () => {
    const client = sdkClient(fake);
    const out = await failure(sendText(client, NOBOT, "hi"));
    expect(out.status).toBe(400);
    expect(typeof out.data === "object" && out.data.code).toBe(230002);
    expect(out.headers["x-tt-logid"]).toBeTruthy();

    fake.addChat("oc_gone", { name: "gone", members: [ALICE] });
    fake.dissolveChat("oc_gone");
    expect(await codeOf(sendText(client, "oc_gone", "hi"))).toBe(232009);

    fake.addChat("oc_busy", { name: "busy", members: [ALICE] });
    const results = await Promise.allSettled(
      Array.from({ length: 7 }, (_, i) => sendText(client, "oc_busy", `#${i}`)),
    );
    const limited = fake.calls.filter((c) => c.code === 230020);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
    expect(limited).toHaveLength(2);
    expect(fake.messages("oc_busy")).toHaveLength(5);
  });

  it("validates content and Card JSON 2.0 rules", async () => {
    const client = sdkClient(fake);
    const bad = (content: string, msgType = "interactive") =>
      codeOf(
        client.im.v1.message.create({
          params: { receive_id_type: "chat_id" },
          data: { receive_id: ROOM, msg_type: msgType, content },
        }),
      );
    expect(await bad("{not json")).toBe(230001);
    expect(await bad(JSON.stringify({ text: "x" }), "telegram")).toBe(230001);
    const withAction = v2Card("x");
    withAction.body.elements.push({ tag: "action", actions: [] } as never);
    expect(await bad(JSON.stringify(withAction))).toBe(230099);
    const withNote = v2Card("x");
    withNote.body.elements.push({ tag: "note", elements: [] } as never);
    expect(await bad(JSON.stringify(withNote))).toBe(230099);
    expect(await bad(JSON.stringify({ schema: "2.0", elements: [] }))).toBe(230099);
    expect(await bad(JSON.stringify(v2Card("x".repeat(31 * 1024))))).toBe(230025);
    const many = { schema: "2.0", body: { elements: Array.from({ length: 201 }, () => ({ tag: "hr" })) } };
    expect(await bad(JSON.stringify(many))).toBe(230099);
    // A 1.0 card with `action` is fine.
    const v1 = { config: { update_multi: true }, elements: [{ tag: "action", actions: [] }] };
    expect((await sendCard(client, ROOM, v1)).code).toBe(0);
    expect(fake.messages(ROOM)).toHaveLength(1);
  });

  it("patches only shared bot cards, at most 5 per second per message", async () => {
    const client = sdkClient(fake);
    const patch = (id: string, card: unknown) =>
      client.im.v1.message.patch({ path: { message_id: id }, data: { content: JSON.stringify(card) } });
    const v1 = await sendCard(client, ROOM, { elements: [{ tag: "hr" }] });
    expect(await codeOf(patch(v1.data?.message_id ?? "", { elements: [] }))).toBe(230099);
    const text = await sendText(client, ROOM, "plain");
    expect(await codeOf(patch(text.data?.message_id ?? "", v2Card("x")))).toBe(230001);
    const card = await sendCard(client, ROOM, v2Card("v0"));
    const id = card.data?.message_id ?? "";
    const noShare = { ...v2Card("x"), config: { update_multi: false } };
    expect(await codeOf(patch(id, noShare))).toBe(230099);
    const results = await Promise.allSettled([1, 2, 3, 4, 5, 6].map((n) => patch(id, v2Card(`v${n}`))));
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
    expect(fake.message(id)?.history).toHaveLength(6);
  });

  it("urgent: needs user_id_type, the bot as sender, and at least one valid id", async () => {
    const client = sdkClient(fake);
    const sent = await sendText(client, ROOM, "buzz me");
    const id = sent.data?.message_id ?? "";
    const token = await fetchToken(fake);
    const noType = await api(fake, "PATCH", `/open-apis/im/v1/messages/${id}/urgent_sms`, {
      token,
      body: JSON.stringify({ user_id_list: [ALICE] }),
    });
    expect(noType.json.code).toBe(99992402);
    expect(
      await codeOf(
        client.im.v1.message.urgentPhone({
          path: { message_id: id },
          params: { user_id_type: "open_id" },
          data: { user_id_list: ["ou_x", "ou_y"] },
        }),
      ),
    ).toBe(230001);
    const pushed = await fake.push.message(
      { url: "http://127.0.0.1:9/unused", verificationToken: "v" },
      { chatId: ROOM, senderOpenId: ALICE, text: "hello" },
    );
    expect(
      await codeOf(
        client.im.v1.message.urgentApp({
          path: { message_id: pushed.messageId },
          params: { user_id_type: "open_id" },
          data: { user_id_list: [BOB] },
        }),
      ),
    ).toBe(230012);
    const sms = await client.im.v1.message.urgentSms({
      path: { message_id: id },
      params: { user_id_type: "open_id" },
      data: { user_id_list: [BOB, CAROL] },
    });
    expect(sms.data?.invalid_user_id_list).toEqual([]);
    expect(fake.message(id)?.urgent).toEqual([{ kind: "sms", user_ids: [BOB, CAROL] }]);
  });

  it("expireAllTokens makes cached tokens fail with 99991663 until a new one is fetched", async () => {
    const client = sdkClient(fake);
    await sendText(client, ROOM, "before");
    fake.faults.expireAllTokens();
    expect(await codeOf(sendText(client, ROOM, "after"))).toBe(99991663);
    expect(fake.messages(ROOM)).toHaveLength(1);
    const fresh = sdkClient(fake);
    expect((await sendText(fresh, ROOM, "after")).code).toBe(0);
  });

  it("injects 5xx, 429 and 230020 faults without side effects", async () => {
    const client = sdkClient(fake);
    await client.request({ method: "GET", url: "/open-apis/bot/v3/info" }); // token fetched, no fault on it
    fake.faults.failNext(3, "5xx");
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await failure(sendText(client, ROOM, `x${i}`));
      statuses.push(r.status);
      if (r.status === 500) expect(typeof r.data === "object" && r.data.code).toBeTypeOf("number");
      else expect(String(r.data)).toContain("<html>");
    }
    expect(statuses).toEqual([500, 502, 503]);

    fake.faults.failNext(1, "429");
    const limited = await failure(sendText(client, ROOM, "y"));
    expect(limited.status).toBe(429);
    expect(limited.headers["x-ogw-ratelimit-limit"]).toBe("50");
    expect(limited.headers["x-ogw-ratelimit-reset"]).toBe("1");
    expect(limited.data).toEqual({ code: 99991400, msg: "request trigger frequency limit" });

    fake.faults.failNext(1, "230020", /\/reply$/);
    const ok = await sendText(client, ROOM, "not a reply");
    expect(ok.code).toBe(0);
    expect(
      await codeOf(
        client.im.v1.message.reply({
          path: { message_id: ok.data?.message_id ?? "" },
          data: { msg_type: "text", content: JSON.stringify({ text: "r" }) },
        }),
      ),
    ).toBe(230020);
    expect(fake.messages(ROOM).map((m) => (m.content as { text: string }).text)).toEqual(["not a reply"]);
    expect(fake.calls.filter((c) => c.fault).map((c) => c.fault)).toEqual([
      "5xx",
      "5xx",
      "5xx",
      "429",
      "230020",
    ]);
  });

  it("timeout holds the request with no effect; timeout-after-commit stores then hangs", async () => {
    const client = sdkClient(fake);
    await client.request({ method: "GET", url: "/open-apis/bot/v3/info" });
    fake.faults.timeoutMs = 200;
    fake.faults.failNext(1, "timeout");
    const started = Date.now();
    await expect(sendText(client, ROOM, "lost", "u-timeout")).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(fake.messages(ROOM)).toHaveLength(0);

    fake.faults.failNext(1, "timeout-after-commit");
    await expect(sendText(client, ROOM, "committed", "u-commit")).rejects.toThrow();
    expect(fake.messages(ROOM)).toHaveLength(1);
    const retry = await sendText(client, ROOM, "committed", "u-commit");
    expect(retry.data?.message_id).toBe(fake.messages(ROOM)[0]?.message_id);
    expect(fake.messages(ROOM)).toHaveLength(1);
  });

  it("random faults are reproducible with a seed and limited to matching paths", async () => {
    const token = await fetchToken(fake);
    const run = async () => {
      fake.reset();
      fake.faults.setRandom({
        rate: 0.5,
        kinds: ["5xx", "429", "230020"],
        seed: 42,
        paths: /\/bot\/v3\/info$/,
      });
      const out: number[] = [];
      for (let i = 0; i < 12; i++)
        out.push((await api(fake, "GET", "/open-apis/bot/v3/info", { token })).status);
      const chatOk = await api(fake, "GET", `/open-apis/im/v1/chats/${ROOM}/members`, { token });
      expect(chatOk.status).toBe(200);
      return out;
    };
    const first = await run();
    expect(first.some((s) => s !== 200)).toBe(true);
    expect(first.some((s) => s === 200)).toBe(true);
    expect(await run()).toEqual(first);
  });

  it("adds latency to every Open API response", async () => {
    const token = await fetchToken(fake);
    fake.faults.latencyMs = 120;
    const started = Date.now();
    await api(fake, "GET", "/open-apis/bot/v3/info", { token });
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });

  it("reset clears calls, messages and faults but keeps the directory", async () => {
    const client = sdkClient(fake);
    await sendText(client, ROOM, "x");
    fake.faults.failNext(5, "5xx");
    fake.reset();
    expect(fake.calls).toHaveLength(0);
    expect(fake.messages()).toHaveLength(0);
    expect((await sendText(client, ROOM, "y")).code).toBe(0);
    expect(fake.chat(ROOM)?.members).toContain(ALICE);
  });
});

// ---- pushes ------------------------------------------------------------------------------------

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  plain: Record<string, unknown>;
  signatureOk: boolean | undefined;
}

/** A tiny bot webhook: verifies the signature over the raw body, decrypts, then asks `reply`. */
async function startReceiver(encryptKey: string | undefined) {
  const received: Received[] = [];
  let reply: (r: Received) => Promise<{ status: number; body: string }> | { status: number; body: string } =
    () => ({
      status: 200,
      body: "{}",
    });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const outer = JSON.parse(raw) as { encrypt?: string };
      const plain = JSON.parse(
        encryptKey && outer.encrypt ? decrypt(encryptKey, outer.encrypt) : raw,
      ) as Record<string, unknown>;
      const ts = req.headers["x-lark-request-timestamp"];
      const nonce = req.headers["x-lark-request-nonce"];
      const sig = req.headers["x-lark-signature"];
      const signatureOk =
        typeof ts === "string" && typeof nonce === "string" && encryptKey
          ? signLark(ts, nonce, encryptKey, raw) === sig
          : undefined;
      const r: Received = { headers: req.headers, raw, plain, signatureOk };
      received.push(r);
      if (plain.type === "url_verification") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ challenge: plain.challenge }));
        return;
      }
      const out = await reply(r);
      if (res.destroyed) return;
      res.writeHead(out.status, { "content-type": "application/json" });
      res.end(out.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/lark/events`,
    received,
    setReply(fn: typeof reply) {
      reply = fn;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe("fake Lark pushes to the bot", () => {
  const encryptKey = "whistle-encrypt-key";
  const verificationToken = "whistle-verification-token";
  let fake: FakeLark;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let target: PushTarget;

  beforeAll(async () => {
    fake = await startFakeLark();
    seed(fake);
    receiver = await startReceiver(encryptKey);
    target = { url: receiver.url, verificationToken, encryptKey };
  });
  afterAll(async () => {
    await receiver.close();
    await fake.close();
  });
  beforeEach(() => {
    fake.reset();
    receiver.received.length = 0;
    receiver.setReply(() => ({ status: 200, body: "{}" }));
    fake.push.timeoutMs = 3000;
  });

  it("decrypts the official test vector and round-trips the helpers", () => {
    expect(decrypt("test key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=")).toBe("hello world");
    expect(decryptLark("test key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=")).toBe("hello world");
    const sealed = encryptLark("k", "你好 hello");
    expect(decrypt("k", sealed)).toBe("你好 hello");
    expect(signLark("1", "2", "k", "{}")).toBe(createHash("sha256").update("12k{}").digest("hex"));
  });

  it("sends url_verification encrypted and unsigned", async () => {
    const r = await fake.push.challenge(target);
    expect(r.ok).toBe(true);
    const got = at(receiver.received, 0);
    expect(got.headers["x-lark-signature"]).toBeUndefined();
    expect(JSON.parse(got.raw ?? "{}")).toHaveProperty("encrypt");
    expect(got.plain).toEqual({
      challenge: r.challenge,
      token: verificationToken,
      type: "url_verification",
    });
  });

  it("sends plain events without signature headers when no Encrypt Key is set", async () => {
    const r = await fake.push.event({ url: receiver.url, verificationToken }, "im.chat.member.bot.added_v1", {
      chat_id: ROOM,
    });
    expect(r.status).toBe(200);
    const got = at(receiver.received, 0);
    expect(got.headers["x-lark-signature"]).toBeUndefined();
    expect(got.raw).toBe(r.plaintext);
  });

  it("pushes a signed, encrypted v2 message event with @_user_N mentions, and redelivers it", async () => {
    const r = await fake.push.message(target, {
      chatId: ROOM,
      senderOpenId: ALICE,
      text: "/whistle fire in lab 3, cc @Bob",
      mentionBot: "before",
      mentions: [{ openId: BOB, name: "Bob" }],
    });
    expect(r.status).toBe(200);
    const got = at(receiver.received, 0);
    expect(got.signatureOk).toBe(true);
    expect(got.headers["x-lark-request-timestamp"]).toMatch(/^\d{10}$/);
    expect(got.raw).toMatch(/^\{"encrypt":"[^"]+"\}$/);
    const header = got.plain.header as Record<string, string>;
    expect(header).toMatchObject({
      event_id: r.eventId,
      event_type: "im.message.receive_v1",
      token: verificationToken,
      app_id: fake.appId,
    });
    const message = (got.plain.event as { message: Record<string, unknown> }).message;
    expect(message).toMatchObject({
      message_id: r.messageId,
      chat_id: ROOM,
      chat_type: "group",
      message_type: "text",
    });
    expect(JSON.parse(message.content as string)).toEqual({
      text: "@_user_1 /whistle fire in lab 3, cc @_user_2",
    });
    expect(message.mentions).toMatchObject([
      { key: "@_user_1", mentioned_type: "bot", id: { open_id: fake.botOpenId }, name: fake.botName },
      { key: "@_user_2", mentioned_type: "user", id: { open_id: BOB }, name: "Bob" },
    ]);
    expect(fake.message(r.messageId)).toMatchObject({ sender: ALICE, chat_id: ROOM, msg_type: "text" });

    // The SDK's own dispatcher accepts the body (compact JSON, correct signature).
    const dispatcher = new lark.EventDispatcher({ encryptKey, logger: silent }).register({
      "im.message.receive_v1": async (data) => data.message.message_id,
    });
    const invoked = await dispatcher.invoke(
      Object.assign(Object.create({ headers: got.headers }), JSON.parse(got.raw ?? "{}")),
    );
    expect(invoked).toBe(r.messageId);

    const again = await fake.push.redeliver(r);
    const dup = at(receiver.received, 1);
    expect(again.status).toBe(200);
    expect(dup.raw).toBe(got.raw);
    expect(dup.signatureOk).toBe(true);
    expect((dup.plain.header as Record<string, string>).event_id).toBe(r.eventId);

    // Same message, new event id: stored once.
    const twin = await fake.push.message(target, {
      chatId: ROOM,
      senderOpenId: ALICE,
      text: "x",
      messageId: r.messageId,
    });
    expect(twin.eventId).not.toBe(r.eventId);
    expect(fake.messages(ROOM)).toHaveLength(1);
  });

  it("retries a failed event on the configured schedule with the same body", async () => {
    let failures = 2;
    receiver.setReply(() => (failures-- > 0 ? { status: 503, body: "" } : { status: 200, body: "{}" }));
    fake.push.retryDelaysMs = [20, 20, 20];
    try {
      const r = await fake.push.event(target, "im.chat.member.bot.added_v1", { chat_id: ROOM });
      expect(r.status).toBe(200);
      expect(r.attempts.map((a) => a.status)).toEqual([503, 503, 200]);
      expect(new Set(receiver.received.map((x) => x.raw)).size).toBe(1);
      expect(receiver.received.every((x) => x.signatureOk)).toBe(true);
    } finally {
      fake.push.retryDelaysMs = [];
    }
  });

  it("card callback: applies the returned card and issues a 2-use card-update token", async () => {
    const client = sdkClient(fake);
    const sent = await sendCard(client, ROOM, v2Card("0 / 3"));
    const id = sent.data?.message_id ?? "";
    receiver.setReply(() => ({
      status: 200,
      body: JSON.stringify({
        toast: { type: "success", content: "已报到" },
        card: { type: "raw", data: v2Card("1 / 3") },
      }),
    }));
    const r = await fake.push.cardAction(target, {
      operatorOpenId: BOB,
      messageId: id,
      value: { action: "report_in", dept: "ops" },
    });
    expect(r).toMatchObject({
      status: 200,
      cardApplied: true,
      toast: { type: "success", content: "已报到" },
    });
    expect(r.errorCode).toBeUndefined();
    const got = at(receiver.received, 0);
    expect(got.signatureOk).toBe(true);
    const header = got.plain.header as Record<string, string>;
    expect(header.token).toBe(verificationToken);
    expect(header.create_time).toMatch(/^\d{16}$/);
    const event = got.plain.event as { token: string; action: unknown; context: unknown; operator: unknown };
    expect(event.token).toBe(r.token);
    expect(event.token).toMatch(/^c-/);
    expect(event.action).toMatchObject({ value: { action: "report_in", dept: "ops" }, tag: "button" });
    expect(event.context).toEqual({ open_message_id: id, open_chat_id: ROOM });
    expect(fake.message(id)?.history).toHaveLength(2);

    const update = (n: number) =>
      client.request({
        method: "POST",
        url: "/open-apis/interactive/v1/card/update",
        data: { token: r.token, card: v2Card(`${n} / 3`) },
      });
    expect(await update(2)).toMatchObject({ code: 0 });
    expect(await update(3)).toMatchObject({ code: 0 });
    expect(await codeOf(update(4))).toBe(99992402);
    expect(fake.message(id)?.content).toEqual(v2Card("3 / 3"));
    expect(fake.message(id)?.history).toHaveLength(4);
  });

  it("card callback failures map to Lark's client error codes", async () => {
    const client = sdkClient(fake);
    const sent = await sendCard(client, ROOM, v2Card("x"));
    const id = sent.data?.message_id ?? "";
    const click = () => fake.push.cardAction(target, { operatorOpenId: BOB, messageId: id, value: { a: 1 } });

    receiver.setReply(() => ({ status: 500, body: "{}" }));
    expect((await click()).errorCode).toBe(200671);
    receiver.setReply(() => ({ status: 200, body: "<html>oops</html>" }));
    expect((await click()).errorCode).toBe(200672);
    receiver.setReply(() => ({
      status: 200,
      body: JSON.stringify({ card: { type: "raw", data: { elements: [] } } }),
    }));
    expect((await click()).errorCode).toBe(200830);
    fake.push.timeoutMs = 150;
    receiver.setReply(async () => {
      await new Promise((r) => setTimeout(r, 400));
      return { status: 200, body: "{}" };
    });
    const slow = await click();
    expect(slow).toMatchObject({ errorCode: 200341, timedOut: true, cardApplied: false });
    expect(receiver.received).toHaveLength(4);
    expect(fake.message(id)?.history).toHaveLength(1);
  });

  it("card-update tokens only work after the callback was answered", async () => {
    const client = sdkClient(fake);
    const sent = await sendCard(client, ROOM, v2Card("x"));
    const id = sent.data?.message_id ?? "";
    let early: number | undefined;
    receiver.setReply(async (r) => {
      const token = (r.plain.event as { token: string }).token;
      early = await codeOf(
        client.request({
          method: "POST",
          url: "/open-apis/interactive/v1/card/update",
          data: { token, card: v2Card("y") },
        }),
      );
      return { status: 200, body: "{}" };
    });
    const r = await fake.push.cardAction(target, { operatorOpenId: BOB, messageId: id, value: {} });
    expect(early).toBe(99992402);
    expect(r).toMatchObject({ status: 200, cardApplied: false });
    expect(r.errorCode).toBeUndefined();
    const late = await client.request({
      method: "POST",
      url: "/open-apis/interactive/v1/card/update",
      data: { token: r.token, card: v2Card("z") },
    });
    expect(late).toMatchObject({ code: 0 });
    expect(fake.message(id)?.content).toEqual(v2Card("z"));
  });

  it("tells listeners of every stored or changed message, keeps who @_user_N is, and restores saved history", async () => {
    const seen: string[] = [];
    const stop = fake.onMessage((m) => seen.push(`${m.message_id}:${m.history.length}`));
    const r = await fake.push.message(target, {
      chatId: ROOM,
      senderOpenId: ALICE,
      text: "cc @Bob",
      mentions: [{ openId: BOB, name: "Bob" }],
    });
    const stored = fake.message(r.messageId);
    expect(stored?.content).toEqual({ text: "cc @_user_1" });
    expect(stored?.mentions).toEqual([{ key: "@_user_1", openId: BOB, name: "Bob" }]);
    receiver.setReply(() => ({
      status: 200,
      body: JSON.stringify({ card: { type: "raw", data: v2Card("1 / 3") } }),
    }));
    const card = (await sendCard(sdkClient(fake), ROOM, v2Card("0 / 3"))).data?.message_id ?? "";
    await fake.push.cardAction(target, { operatorOpenId: ALICE, messageId: card, value: { a: 1 } });
    expect(seen).toEqual([`${r.messageId}:1`, `${card}:1`, `${card}:2`]);
    stop();
    await fake.push.message(target, { chatId: ROOM, senderOpenId: ALICE, text: "after" });
    expect(seen).toHaveLength(3);
    expect(fake.chats().map((c) => c.chat_id)).toContain(ROOM);
    expect(fake.users()).toContainEqual([BOB, "Bob"]);

    // A new fake (a restart) gets the same chats and messages back, ids and times included.
    const again = await startFakeLark();
    try {
      again.restore({ chats: fake.chats(), messages: fake.messages() });
      expect(again.messages()).toEqual(fake.messages());
      expect(again.chat(ROOM)?.members).toEqual(fake.chat(ROOM)?.members);
      again.restore({ chats: fake.chats(), messages: fake.messages() });
      expect(again.messages()).toHaveLength(fake.messages().length);
    } finally {
      await again.close();
    }
  });

  it("pushes through a custom transport such as a Hono app's app.request", async () => {
    const app = new Hono();
    const bodies: string[] = [];
    app.post("/lark/events", async (c) => {
      const raw = await c.req.text();
      bodies.push(raw);
      const ok =
        signLark(
          c.req.header("x-lark-request-timestamp") ?? "",
          c.req.header("x-lark-request-nonce") ?? "",
          encryptKey,
          raw,
        ) === c.req.header("x-lark-signature");
      return ok ? c.json({}) : c.json({ msg: "bad signature" }, 401);
    });
    const r = await fake.push.event(
      { url: "http://bot.local/lark/events", verificationToken, encryptKey, fetch: app.request },
      "application.bot.menu_v6",
      { event_key: "menu_whistle" },
    );
    expect(r.status).toBe(200);
    expect(bodies).toEqual([r.rawBody]);
    expect(JSON.parse(decrypt(encryptKey, JSON.parse(r.rawBody).encrypt))).toMatchObject({
      header: { event_type: "application.bot.menu_v6" },
      event: { event_key: "menu_whistle" },
    });
  });
});

// ---- long connection ---------------------------------------------------------------------------

describe("fake Lark long connection with the real SDK WSClient", () => {
  let fake: FakeLark;
  let wsClient: lark.WSClient | undefined;
  beforeAll(async () => {
    fake = await startFakeLark({ ws: true });
    seed(fake);
  });
  afterEach(() => {
    wsClient?.close({ force: true });
    wsClient = undefined;
  });
  afterAll(() => fake.close());

  it("encodes and decodes pbbp2 frames", () => {
    const frame = {
      SeqID: 2 ** 40 + 7,
      LogID: 123,
      service: -5,
      method: 1,
      headers: [{ key: "type", value: "event" }],
      payload: new TextEncoder().encode("{}"),
      LogIDNew: "x",
    };
    expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
  });

  it("bootstraps, answers pings, pushes events (fragmented too) and decodes ACKs", async () => {
    const seen: string[] = [];
    const dispatcher = new lark.EventDispatcher({ logger: silent }).register({
      "im.message.receive_v1": async (data) => {
        seen.push(data.message.message_id);
      },
      "card.action.trigger": async (data: { action: { value: { n: number } } }) => {
        if (data.action.value.n < 0) throw new Error("boom");
        return { toast: { type: "success", content: `n=${data.action.value.n}` } };
      },
    });
    const ready = new Promise<void>((resolve, reject) => {
      wsClient = new lark.WSClient({
        appId: fake.appId,
        appSecret: fake.appSecret,
        domain: fake.url,
        logger: silent,
        onReady: () => resolve(),
        onError: (e) => reject(e),
      });
    });
    await wsClient?.start({ eventDispatcher: dispatcher });
    await ready;
    expect(fake.push.wsClients()).toBe(1);
    expect(fake.calls.some((c) => c.path === "/callback/ws/endpoint" && c.status === 200)).toBe(true);
    await expect.poll(() => fake.ws?.pings ?? 0).toBeGreaterThanOrEqual(1);

    const card = await fake.push.wsEvent("card.action.trigger", { action: { value: { n: 7 } } });
    expect(card).toMatchObject({ ackCode: 200, data: { toast: { type: "success", content: "n=7" } } });
    const thrown = await fake.push.wsEvent("card.action.trigger", { action: { value: { n: -1 } } });
    expect(thrown.ackCode).toBe(500);

    const pushed = await fake.push.message("ws", { chatId: ROOM, senderOpenId: ALICE, text: "over ws" });
    expect(pushed.status).toBe(200);
    const big = await fake.push.wsEvent(
      "im.message.receive_v1",
      { message: { message_id: "om_fragmented", content: JSON.stringify({ text: "x".repeat(3000) }) } },
      { fragments: 3 },
    );
    expect(big.ackCode).toBe(200);
    expect(seen).toEqual([pushed.messageId, "om_fragmented"]);

    // Card callbacks over the long connection apply the returned card too.
    const sent = await sendCard(sdkClient(fake), ROOM, v2Card("before"));
    dispatcher.register({
      "card.action.trigger": async () => ({ card: { type: "raw", data: v2Card("after") } }),
    });
    const click = await fake.push.cardAction("ws", {
      operatorOpenId: BOB,
      messageId: sent.data?.message_id ?? "",
      value: { n: 1 },
    });
    expect(click).toMatchObject({ status: 200, cardApplied: true });
    expect(fake.message(sent.data?.message_id ?? "")?.content).toEqual(v2Card("after"));
  });

  it("lets the SDK reconnect after the server drops the connection", async () => {
    const ws = fake.ws;
    if (!ws) throw new Error("ws not enabled");
    ws.clientConfig = { ...ws.clientConfig, ReconnectNonce: 0, ReconnectInterval: 1 };
    let reconnected = 0;
    const dispatcher = new lark.EventDispatcher({ logger: silent }).register({
      "im.message.receive_v1": async () => undefined,
    });
    const ready = new Promise<void>((resolve) => {
      wsClient = new lark.WSClient({
        appId: fake.appId,
        appSecret: fake.appSecret,
        domain: fake.url,
        logger: silent,
        onReady: () => resolve(),
        onReconnected: () => {
          reconnected += 1;
        },
      });
    });
    await wsClient?.start({ eventDispatcher: dispatcher });
    await ready;
    ws.dropAll();
    await expect.poll(() => reconnected, { timeout: 3000 }).toBe(1);
    expect(fake.push.wsClients()).toBe(1);
    const ack = await fake.push.wsEvent("im.message.receive_v1", {
      message: { message_id: "om_after_reconnect" },
    });
    expect(ack.ackCode).toBe(200);
  });
});
