import { count } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decryptLark, encryptLark, larkSignature } from "../src/bot/lark-crypto";
import { inboundEvents, outbox } from "../src/db/schema";
import { buildPushRequest, eventEnvelope, messageEvent } from "../src/sandbox/fake-lark";
import { resetDatabase } from "./support/db";
import { ENCRYPT_KEY, type Harness, larkHarness, VERIFICATION_TOKEN } from "./support/harness";

let h: Harness;
beforeEach(async () => {
  h = await larkHarness();
  await resetDatabase(h.t);
});
afterEach(async () => {
  await h.close();
});

async function rowsWritten() {
  const [ev] = await h.t.db.select({ n: count() }).from(inboundEvents);
  const [ob] = await h.t.db.select({ n: count() }).from(outbox);
  return { inbound: ev?.n ?? -1, outbox: ob?.n ?? -1 };
}

function helpEnvelope(opts: { eventId?: string; messageId?: string; chatId?: string } = {}) {
  const app = {
    appId: h.fake.appId,
    tenantKey: h.fake.tenantKey,
    botOpenId: h.fake.botOpenId,
    botName: h.fake.botName,
  };
  const { event } = messageEvent(app, {
    chatId: opts.chatId ?? "oc_street",
    senderOpenId: "ou_alice",
    text: "/帮助",
    messageId: opts.messageId ?? `om_${Math.random().toString(16).slice(2)}`,
    createTime: String(Date.now()),
  });
  return JSON.stringify(
    eventEnvelope(app, VERIFICATION_TOKEN, "im.message.receive_v1", event, { eventId: opts.eventId }),
  );
}

/** POST a raw body; resolves once the acknowledged event has been handled too. */
async function post(rawBody: string, headers: Record<string, string>) {
  const res = await h.app.request("/lark/events", { method: "POST", body: rawBody, headers });
  await h.runtime.inbound.idle();
  return res;
}

describe("Lark webhook crypto", () => {
  it("decrypts the official test vector", async () => {
    expect(await decryptLark("test key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=")).toBe("hello world");
  });

  it("round-trips its own encryption", async () => {
    const sealed = await encryptLark(ENCRYPT_KEY, '{"a":"吹哨"}');
    expect(await decryptLark(ENCRYPT_KEY, sealed)).toBe('{"a":"吹哨"}');
  });

  it("signs the raw bytes: sha256(timestamp + nonce + key + body)", async () => {
    // Same inputs as the fake's independent node:crypto implementation.
    const { headers, rawBody } = buildPushRequest({ encryptKey: ENCRYPT_KEY }, "{}", { sign: true });
    const ours = await larkSignature(
      headers["x-lark-request-timestamp"] as string,
      headers["x-lark-request-nonce"] as string,
      ENCRYPT_KEY,
      rawBody,
    );
    expect(ours).toBe(headers["x-lark-signature"]);
  });
});

describe("POST /lark/events", () => {
  it("answers url_verification, encrypted, without signature headers", async () => {
    const r = await h.fake.push.challenge(h.target);
    expect(r.status).toBe(200);
    expect(r.ok).toBe(true);
  });

  it("refuses url_verification with a wrong token", async () => {
    const plain = JSON.stringify({ challenge: "c-1", token: "wrong", type: "url_verification" });
    const { rawBody, headers } = buildPushRequest({ encryptKey: ENCRYPT_KEY }, plain, { sign: false });
    expect((await post(rawBody, headers)).status).toBe(401);
  });

  it("accepts a pretty-printed body whose signature covers those exact bytes", async () => {
    const sealed = await encryptLark(ENCRYPT_KEY, helpEnvelope());
    const pretty = JSON.stringify({ encrypt: sealed }, null, 2);
    const { headers } = buildPushRequest({ encryptKey: ENCRYPT_KEY }, "", { sign: true, rawBody: pretty });
    const res = await post(pretty, headers);
    expect(res.status).toBe(200);
    expect(await rowsWritten()).toEqual({ inbound: 1, outbox: 1 });
  });

  it("rejects the same body with one byte changed after signing", async () => {
    const sealed = await encryptLark(ENCRYPT_KEY, helpEnvelope());
    const pretty = JSON.stringify({ encrypt: sealed }, null, 2);
    const { headers } = buildPushRequest({ encryptKey: ENCRYPT_KEY }, "", { sign: true, rawBody: pretty });
    const res = await post(pretty.replace("\n  ", "\n   "), headers);
    expect(res.status).toBe(401);
    expect(await rowsWritten()).toEqual({ inbound: 0, outbox: 0 });
  });

  it.each([
    [
      "a forged signature",
      async () => {
        const r = buildPushRequest({ encryptKey: ENCRYPT_KEY }, helpEnvelope(), { sign: true });
        r.headers["x-lark-signature"] = (r.headers["x-lark-signature"] as string).replace(/^./, (c) =>
          c === "0" ? "1" : "0",
        );
        return r;
      },
      401,
    ],
    [
      "a signature made with another key",
      async () => buildPushRequest({ encryptKey: "another-key" }, helpEnvelope(), { sign: true }),
      401,
    ],
    [
      "no signature headers at all",
      async () => buildPushRequest({ encryptKey: ENCRYPT_KEY }, helpEnvelope(), { sign: false }),
      401,
    ],
    [
      "a wrong verification token",
      async () =>
        buildPushRequest(
          { encryptKey: ENCRYPT_KEY },
          helpEnvelope().replace(VERIFICATION_TOKEN, "forged-token"),
          {
            sign: true,
          },
        ),
      401,
    ],
    [
      "a stale timestamp (10 minutes old)",
      async () => {
        const sealed = JSON.stringify({ encrypt: await encryptLark(ENCRYPT_KEY, helpEnvelope()) });
        const ts = String(Math.floor(Date.now() / 1000) - 600);
        const nonce = "123456789";
        return {
          rawBody: sealed,
          headers: {
            "content-type": "application/json",
            "x-lark-request-timestamp": ts,
            "x-lark-request-nonce": nonce,
            "x-lark-signature": await larkSignature(ts, nonce, ENCRYPT_KEY, sealed),
          },
        };
      },
      401,
    ],
    [
      "a plaintext event while an Encrypt Key is configured",
      async () => ({ rawBody: helpEnvelope(), headers: { "content-type": "application/json" } }),
      401,
    ],
    ["malformed JSON", async () => ({ rawBody: '{"encrypt": ', headers: {} }), 400],
    ["a JSON array", async () => ({ rawBody: "[1,2]", headers: {} }), 400],
    [
      "an encrypted body that is not an event",
      async () =>
        buildPushRequest({ encryptKey: ENCRYPT_KEY }, JSON.stringify({ hello: "world" }), { sign: true }),
      400,
    ],
    [
      "a message event missing its message",
      async () =>
        buildPushRequest(
          { encryptKey: ENCRYPT_KEY },
          JSON.stringify({
            schema: "2.0",
            header: { event_id: "e1", event_type: "im.message.receive_v1", token: VERIFICATION_TOKEN },
            event: { sender: {} },
          }),
          { sign: true },
        ),
      400,
    ],
  ])("answers %s with $2 and writes nothing", async (_name, build, status) => {
    const { rawBody, headers } = await build();
    const res = await post(rawBody, headers);
    expect(res.status).toBe(status);
    expect(await rowsWritten()).toEqual({ inbound: 0, outbox: 0 });
    const rejected = h.logs.filter(
      (l) => l.msg === "lark request rejected" || l.msg === "lark event malformed",
    );
    expect(rejected).toHaveLength(1);
    expect(JSON.stringify(rejected)).not.toContain(ENCRYPT_KEY);
  });

  it("has exactly one effect when the same event arrives 5 times at once", async () => {
    const envelope = helpEnvelope({ eventId: "ev-dup", messageId: "om_dup_1" });
    const { rawBody, headers } = buildPushRequest({ encryptKey: ENCRYPT_KEY }, envelope, { sign: true });
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(rawBody, headers)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    await h.runtime.settle();
    expect(await rowsWritten()).toEqual({ inbound: 1, outbox: 1 });
    // One reply attempted to that message, whatever became of it at the fake (it never saw om_dup_1).
    expect(h.fake.calls.filter((c) => c.path === "/open-apis/im/v1/messages/om_dup_1/reply")).toHaveLength(1);
  });

  it("has exactly one effect when the same message comes again under a new event id", async () => {
    const first = await h.fake.push.message(h.target, {
      chatId: "oc_street",
      senderOpenId: "ou_alice",
      text: "/帮助",
    });
    expect(first.status).toBe(200);
    const again = await Promise.all(
      Array.from({ length: 4 }, () =>
        h.fake.push.message(h.target, {
          chatId: "oc_street",
          senderOpenId: "ou_alice",
          text: "/帮助",
          messageId: first.messageId,
        }),
      ),
    );
    expect(again.every((a) => a.status === 200)).toBe(true);
    await h.runtime.settle();
    expect(await rowsWritten()).toEqual({ inbound: 1, outbox: 1 });
    const replies = h.fake.messages("oc_street").filter((m) => m.sender === "bot");
    expect(replies).toHaveLength(1);
    expect(replies[0]?.parent_id).toBe(first.messageId);
  });

  it("acknowledges a redelivery after success without doing it twice", async () => {
    const first = await h.fake.push.message(h.target, {
      chatId: "oc_street",
      senderOpenId: "ou_alice",
      text: "/help",
    });
    const again = await h.fake.push.redeliver(first);
    expect(again.status).toBe(200);
    await h.runtime.settle();
    expect(h.fake.messages("oc_street").filter((m) => m.sender === "bot")).toHaveLength(1);
  });

  it("answers a card callback within the request with the router's toast", async () => {
    const sent = await h.fake.push.message(h.target, {
      chatId: "oc_street",
      senderOpenId: "ou_alice",
      text: "/帮助",
    });
    await h.runtime.settle();
    const reply = h.fake.messages("oc_street").find((m) => m.parent_id === sent.messageId);
    expect(reply).toBeDefined();
    const r = await h.fake.push.cardAction(h.target, {
      operatorOpenId: "ou_alice",
      messageId: reply?.message_id as string,
      value: { action: "no_such_action" },
    });
    expect(r.status).toBe(200);
    expect(r.errorCode).toBeUndefined();
    expect(r.toast).toMatchObject({ type: "warning" });
  });

  it("works without an Encrypt Key: plaintext bodies checked by token only", async () => {
    await h.close();
    h = await larkHarness({ encryptKey: null });
    const ok = await h.fake.push.message(h.target, { chatId: "oc_p", senderOpenId: "ou_a", text: "/帮助" });
    expect(ok.status).toBe(200);
    const bad = await post(helpEnvelope().replace(VERIFICATION_TOKEN, "nope"), {
      "content-type": "application/json",
    });
    expect(bad.status).toBe(401);
    expect(await rowsWritten()).toEqual({ inbound: 1, outbox: 1 });
  });

  it("acknowledges chatter without replying or writing anything", async () => {
    const r = await h.fake.push.message(h.target, {
      chatId: "oc_street",
      senderOpenId: "ou_alice",
      text: "收到，马上到",
    });
    expect(r.status).toBe(200);
    await h.runtime.settle();
    expect(await rowsWritten()).toEqual({ inbound: 0, outbox: 0 });
    expect(h.fake.messages("oc_street").filter((m) => m.sender === "bot")).toHaveLength(0);
  });

  it("replies to an unknown command only when addressed", async () => {
    await h.fake.push.message(h.target, { chatId: "oc_s", senderOpenId: "ou_a", text: "/天气" });
    await h.fake.push.message(h.target, {
      chatId: "oc_s",
      senderOpenId: "ou_a",
      text: "/天气",
      mentionBot: "before",
    });
    await h.runtime.settle();
    const replies = h.fake.messages("oc_s").filter((m) => m.sender === "bot");
    expect(replies).toHaveLength(1);
    expect(JSON.stringify(replies[0]?.content)).toContain("/帮助");
  });
});
