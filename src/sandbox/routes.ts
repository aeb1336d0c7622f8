/**
 * The emulator page and its API (sandbox mode only): `/` serves the page, `/sandbox/web/*` its files,
 * `/sandbox/api/*` what it reads and does. Every action the page takes is a push by the fake Lark to
 * the server's own `/lark/events` (a user's message, a card callback), signed and encrypted.
 */
import { readFile } from "node:fs/promises";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import type { Db } from "../db/database";
import type { Logger } from "../log";
import type { PushTarget, StoredMessage } from "./fake-lark";
import type { Sandbox } from "./sandbox";

export interface SandboxRouteDeps {
  sandbox: Sandbox;
  db: Db;
  /** Resolves when handling and deliveries in flight are done (before a reset empties the tables). */
  settle: () => Promise<void>;
  /** Handles what was just acknowledged and drains the outbox now, so the bot's answer shows at once. */
  kick: () => Promise<void>;
  log: Logger;
  /** TZ_DISPLAY: the page shows message times in the zone the cards use. */
  tz: string;
}

const WEB_DIR = new URL("./web/", import.meta.url);
const WEB_FILE = /^[a-z][a-z0-9-]*\.(html|js|css|png|svg)$/;
const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  png: "image/png",
  svg: "image/svg+xml",
};

const sayBody = z.object({
  chatId: z.string().min(1),
  as: z.string().min(1),
  text: z.string().trim().min(1).max(4000),
  parentId: z.string().optional(),
});

const actionBody = z.object({
  messageId: z.string().min(1),
  as: z.string().min(1),
  value: z.unknown(),
  formValue: z.record(z.string(), z.unknown()).optional(),
  name: z.string().optional(),
  tag: z.string().optional(),
});

export function sandboxRoutes(d: SandboxRouteDeps): Hono {
  const { sandbox, log } = d;
  const { fake, district } = sandbox;
  const app = new Hono();
  const names = () => new Map(fake.users());

  /** What the page sees of a message: the fake's record without its version history, plus a file's name. */
  const view = (m: StoredMessage) => {
    const { history: _history, ...rest } = m;
    const fileKey = m.msg_type === "file" ? (m.content as { file_key?: unknown }).file_key : undefined;
    const fileName = typeof fileKey === "string" ? fake.file(fileKey)?.name : undefined;
    return { ...rest, versions: m.history.length, ...(fileName ? { fileName } : {}) };
  };

  const target = (): PushTarget => {
    const t = sandbox.target();
    if (!t) throw new Error("sandbox: the server is not listening yet");
    return t;
  };

  const webFile = async (name: string): Promise<Response> => {
    if (!WEB_FILE.test(name)) return new Response("not found", { status: 404 });
    try {
      const bytes = await readFile(new URL(name, WEB_DIR));
      const ext = name.slice(name.lastIndexOf(".") + 1);
      return new Response(bytes, {
        headers: {
          "content-type": CONTENT_TYPES[ext] ?? "application/octet-stream",
          "cache-control": "no-cache",
        },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  };

  // Only the page's own JSON requests may act: a cross-site form or "simple" fetch cannot send
  // application/json without a CORS preflight, which this server never grants.
  app.use("/sandbox/api/*", async (c, next) => {
    if (c.req.method === "POST" && !(c.req.header("content-type") ?? "").startsWith("application/json")) {
      return c.json({ ok: false, error: "content-type must be application/json" }, 415);
    }
    await next();
  });

  app.get("/", () => webFile("index.html"));
  app.get("/sandbox/web/:file", (c) => webFile(c.req.param("file")));

  /** Everything the page shows: the bot, people, chats (demo chats, plus any other chat with messages), messages. */
  app.get("/sandbox/api/state", (c) => {
    const messages = fake.messages();
    const withMessages = new Set(messages.map((m) => m.chat_id));
    const demo = new Map(district.chats.map((ch) => [ch.chatId, ch]));
    const people = new Map(district.people.map((p) => [p.openId, p]));
    const userNames = names();
    const chats = fake
      .chats()
      .filter((ch) => demo.has(ch.chat_id) || withMessages.has(ch.chat_id))
      .map((ch) => {
        const dc = demo.get(ch.chat_id);
        const members = ch.members.filter((m) => m !== fake.botOpenId);
        const p2pName = userNames.get(members[0] ?? "") ?? "";
        return {
          chatId: ch.chat_id,
          name: ch.chat_type === "p2p" ? `${fake.botName} · ${p2pName}` : ch.name,
          kind: dc?.kind ?? (ch.chat_type === "p2p" ? "p2p" : "group"),
          unit: dc?.unit ?? "",
          members,
        };
      });
    return c.json({
      tz: d.tz,
      bot: { openId: fake.botOpenId, name: fake.botName },
      people: fake.users().map(([openId, name]) => ({
        openId,
        name,
        role: people.get(openId)?.role ?? "",
      })),
      chats,
      messages: messages.map(view),
    });
  });

  /** Live updates: `message` (new or changed, e.g. a patched card) and `reset`. */
  app.get("/sandbox/api/stream", (c) =>
    streamSSE(c, async (stream) => {
      const queue: string[] = [];
      let wake: (() => void) | undefined;
      let open = true;
      const unsubscribe = sandbox.subscribe((e) => {
        if (e.kind === "closing") open = false;
        else
          queue.push(
            JSON.stringify(e.kind === "message" ? { kind: "message", message: view(e.message) } : e),
          );
        wake?.();
      });
      stream.onAbort(() => {
        open = false;
        unsubscribe();
        wake?.();
      });
      await stream.writeSSE({ event: "hello", data: "{}" });
      while (open) {
        const next = queue.shift();
        if (next !== undefined) {
          await stream.writeSSE({ event: "update", data: next });
          continue;
        }
        // Wait for the next event, with a keep-alive comment every 15 s.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 15_000);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        if (open && queue.length === 0) await stream.write(": ping\n\n");
      }
      unsubscribe();
    }),
  );

  /** A person types in a chat: pushed as `im.message.receive_v1`, with @-mentions turned into Lark's form. */
  app.post("/sandbox/api/messages", async (c) => {
    const parsed = sayBody.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return c.json({ ok: false, error: "bad request" }, 400);
    const { chatId, as, text, parentId } = parsed.data;
    const chat = fake.chat(chatId);
    if (!chat) return c.json({ ok: false, error: "没有这个群" }, 404);
    if (!chat.members.includes(as)) return c.json({ ok: false, error: "这个人不在群里" }, 400);
    const botTag = `@${fake.botName}`;
    const mentionBot = text.includes(botTag) ? "before" : false;
    const body = text.split(botTag).join(" ").replace(/\s+/g, " ").trim();
    const mentions = fake
      .users()
      .filter(([openId, name]) => openId !== fake.botOpenId && body.includes(`@${name}`))
      .map(([openId, name]) => ({ openId, name }));
    const r = await fake.push.message(target(), {
      chatId,
      senderOpenId: as,
      text: body,
      mentionBot,
      mentions,
      ...(parentId ? { parentId } : {}),
    });
    await d.kick();
    if (r.status !== 200) {
      log.warn("sandbox: the bot did not accept a message", { status: r.status, error: r.error });
      return c.json({ ok: false, error: `机器人未接收（HTTP ${r.status || "无应答"}）` }, 502);
    }
    return c.json({ ok: true, messageId: r.messageId });
  });

  /** A person clicks a button or submits a form: pushed as `card.action.trigger`; the answer's toast comes back. */
  app.post("/sandbox/api/actions", async (c) => {
    const parsed = actionBody.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return c.json({ ok: false, error: "bad request" }, 400);
    const { messageId, as, value, formValue, name, tag } = parsed.data;
    const msg = fake.message(messageId);
    if (!msg) return c.json({ ok: false, error: "没有这条消息" }, 404);
    if (!fake.chat(msg.chat_id)?.members.includes(as)) {
      return c.json({ ok: false, error: "这个人不在群里" }, 400);
    }
    const r = await fake.push.cardAction(target(), {
      operatorOpenId: as,
      messageId,
      value,
      ...(formValue ? { formValue } : {}),
      ...(name ? { name } : {}),
      ...(tag ? { tag } : {}),
    });
    await d.kick();
    return c.json({
      ok: r.errorCode === undefined,
      toast: r.toast ?? null,
      cardApplied: r.cardApplied,
      errorCode: r.errorCode ?? null,
    });
  });

  /** A file the bot sent (e.g. the /导出 workbook). */
  app.get("/sandbox/api/files/:key", (c) => {
    const f = fake.file(c.req.param("key"));
    if (!f) return c.json({ ok: false, error: "文件已不在沙箱内存中（重启后不保留）" }, 404);
    return new Response(new Uint8Array(f.bytes), {
      headers: {
        "content-type": "application/octet-stream",
        "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(f.name)}`,
      },
    });
  });

  /** 重置演示: empty chats and data, seed the demo district again. */
  app.post("/sandbox/api/reset", async (c) => {
    await sandbox.reset(d.db, d.settle);
    return c.json({ ok: true });
  });

  return app;
}
