import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { throwawayDatabase } from "./support/db";
import { freePort, runServer, type ServerProcess, waitForHealth } from "./support/server-process";

/**
 * Sandbox mode as `npm start` runs it with no Lark variables: the page and its API, the demo district,
 * pushes through the product's own /lark/events, the chat history across a restart, and reset.
 * (The page itself is driven in a browser by test/browser/sandbox.browser.test.ts.)
 */
interface Msg {
  message_id: string;
  chat_id: string;
  msg_type: string;
  sender: string;
  parent_id?: string;
  content: Record<string, unknown>;
}
interface SandboxState {
  bot: { openId: string; name: string };
  people: { openId: string; name: string; role: string }[];
  chats: { chatId: string; name: string; kind: string; unit: string; members: string[] }[];
  messages: Msg[];
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** With TEST_DATABASE_URL the server gets a Postgres database of its own; otherwise PGlite in DATA_DIR. */
async function start(dataDir: string, databaseUrl: string | undefined): Promise<ServerProcess> {
  const s = runServer({
    PORT: String(await freePort()),
    DATA_DIR: dataDir,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  expect((await waitForHealth(s)).status).toBe(200);
  return s;
}

const get = async (s: ServerProcess, path: string) => (await fetch(`${s.url}${path}`)).json();
const post = async (s: ServerProcess, path: string, body: unknown) => {
  const res = await fetch(`${s.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const state = (s: ServerProcess) => get(s, "/sandbox/api/state") as Promise<SandboxState>;

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const cardText = (m: Msg | undefined) => JSON.stringify(m?.content ?? {});
const reportValue = (m: Msg) => {
  const found = /"value":(\{"action":"report_in"[^}]*\})/.exec(JSON.stringify(m.content));
  if (!found?.[1]) throw new Error("no 报到 button on the card");
  return JSON.parse(found[1]) as Record<string, unknown>;
};

describe("sandbox mode (npm start with no Lark variables)", () => {
  it("serves the page, seeds the demo district, and every action goes through /lark/events", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "whistle-sandbox-"));
    dirs.push(dataDir);
    const database = await throwawayDatabase("whistle_sandbox");
    let s = await start(dataDir, database.url);
    try {
      expect(await get(s, "/healthz")).toEqual({
        ok: true,
        db: database.url ? "postgres" : "pglite",
        mode: "sandbox",
      });
      const page = await fetch(`${s.url}/`);
      expect(page.headers.get("content-type")).toContain("text/html");
      expect(await page.text()).toContain("沙箱模式 — 未连接飞书");
      expect((await fetch(`${s.url}/sandbox/web/card.js`)).status).toBe(200);
      expect((await fetch(`${s.url}/sandbox/web/..%2Fsandbox.ts`)).status).toBe(404);

      const st = await state(s);
      const kinds = st.chats.map((c) => c.kind);
      expect(kinds.filter((k) => k === "street")).toHaveLength(1);
      expect(kinds.filter((k) => k === "department")).toHaveLength(7);
      expect(kinds.filter((k) => k === "oversight")).toHaveLength(1);
      const street = st.chats.find((c) => c.kind === "street");
      const cg = st.chats.find((c) => c.unit === "城管执法队");
      if (!street || !cg) throw new Error("demo chats missing");
      const name = (id: string) => st.people.find((p) => p.openId === id)?.name;
      expect(name(street.members[0] as string)).toBe("李娜");

      // Someone outside the group cannot speak in it.
      const outsider = await post(s, "/sandbox/api/messages", {
        chatId: street.chatId,
        as: cg.members[0],
        text: "/帮助",
      });
      expect(outsider.status).toBe(400);

      // The page's live stream: it says hello, then carries every message as it is stored or changed.
      const stream = await fetch(`${s.url}/sandbox/api/stream`);
      const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
      let streamed = "";
      const readUntil = async (needle: string) => {
        while (!streamed.includes(needle)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended before ${needle}`);
          streamed += new TextDecoder().decode(value);
        }
      };
      await readUntil("event: hello");

      // @-mentions typed on the page arrive as Lark's @_user_N with mentions[]: the admin names a duty
      // contact, @-mentioning the bot and the person.
      const admin = st.people.find((p) => p.name === "王建国")?.openId as string;
      const zhao = st.people.find((p) => p.name === "赵磊")?.openId as string;
      const duty = await post(s, "/sandbox/api/messages", {
        chatId: street.chatId,
        as: admin,
        text: "@吹哨报到 /值班 城管执法队 @赵磊",
      });
      expect(duty.body).toMatchObject({ ok: true });
      const dutyMsg = (await state(s)).messages.find((m) => m.message_id === duty.body.messageId);
      expect(dutyMsg?.content).toEqual({ text: "@_user_1 /值班 城管执法队 @_user_2" });
      const dutyReply = await until("the 值班 answer", async () =>
        (await state(s)).messages.find((m) => m.parent_id === duty.body.messageId),
      );
      expect(cardText(dutyReply)).toContain(zhao);

      // The street whistles: the bot answers in the street chat and 城管执法队 gets its card.
      const said = await post(s, "/sandbox/api/messages", {
        chatId: street.chatId,
        as: street.members[0],
        text: "/吹哨 执法 城管 东四北大街占道经营",
      });
      expect(said.body).toMatchObject({ ok: true });
      const deptCard = await until("the department card", async () =>
        (await state(s)).messages.find((m) => m.chat_id === cg.chatId && cardText(m).includes("东四北大街")),
      );
      const summary = (await state(s)).messages.find(
        (m) => m.chat_id === street.chatId && m.parent_id === said.body.messageId,
      );
      expect(cardText(summary)).toContain("东四北大街");
      // The fake pushed to the product's own webhook, signed and encrypted, and the product answered 200.
      expect(s.output()).toMatch(/"method":"POST","path":"\/lark\/events","status":200/);
      await readUntil(deptCard.message_id);

      // An open page does not hold up a clean stop.
      const stopping = Date.now();
      expect(await s.stop()).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(5_000);
      expect(existsSync(join(dataDir, "sandbox", "chat-history.json"))).toBe(true);

      // After a restart the conversation is still there, the demo is not imported again (the duty
      // contact set in chat stays), and the restored card still works: 赵磊 reports in on it.
      s = await start(dataDir, database.url);
      const again = await state(s);
      expect(again.messages.map((m) => m.message_id)).toEqual(
        expect.arrayContaining([said.body.messageId, deptCard.message_id]),
      );
      expect(s.output()).toContain('"msg":"sandbox: demo district already set up"');
      const shown = await post(s, "/sandbox/api/messages", {
        chatId: street.chatId,
        as: admin,
        text: "/值班 城管执法队",
      });
      const dutyNow = await until("the 值班 list", async () =>
        (await state(s)).messages.find((m) => m.parent_id === shown.body.messageId),
      );
      expect(cardText(dutyNow)).toContain(zhao);
      expect(cardText(dutyNow)).not.toContain(cg.members[1] as string);
      const tap = await post(s, "/sandbox/api/actions", {
        messageId: deptCard.message_id,
        as: cg.members[0],
        value: reportValue(deptCard),
      });
      expect(tap.body).toMatchObject({ ok: true, toast: { type: "success" } });
      await until("the card to name the reporter", async () => {
        const m = (await state(s)).messages.find((x) => x.message_id === deptCard.message_id);
        return cardText(m).includes(cg.members[0] as string) ? m : undefined;
      });

      // Another site cannot drive the sandbox with a "simple" cross-origin request.
      const simple = await fetch(`${s.url}/sandbox/api/reset`, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "{}",
      });
      expect(simple.status).toBe(415);

      // Reset: chats are empty again and the district is seeded afresh.
      expect((await post(s, "/sandbox/api/reset", {})).body).toEqual({ ok: true });
      const fresh = await state(s);
      expect(fresh.messages).toEqual([]);
      expect(fresh.chats).toHaveLength(9);
      const after = await post(s, "/sandbox/api/messages", {
        chatId: street.chatId,
        as: street.members[0],
        text: "/吹哨 执法 城管 东四北大街占道经营",
      });
      expect(after.body).toMatchObject({ ok: true });
      const card = await until("a summary after the reset", async () =>
        (await state(s)).messages.find((m) => m.parent_id === after.body.messageId),
      );
      // Numbering starts again: the earlier whistle is gone with the reset.
      expect(cardText(card)).toMatch(/W\d{6}-01/);
    } finally {
      expect(await s.stop()).toBe(0);
      await database.drop();
    }
  }, 90_000);
});
