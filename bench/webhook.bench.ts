/**
 * bench/webhook: how fast POST /lark/events acks a signed, encrypted `im.message.receive_v1`
 * (verify signature → decrypt → token check → route → record the event (dedupe insert, group
 * commit) → 200; the handler runs right after, in the background, in its own transaction), against
 * a bare Hono route in the same run. Everything goes through `app.request()` (in process, no sockets).
 *
 * - chatter: plain text that is not a command: verified and routed, but it has no effect, so it is
 *   acknowledged without any database write (the pipeline only records events a handler acts on);
 * - /帮助: a command: its dedupe row is committed with whatever other events arrived meanwhile
 *   (group commit) before the ack; the handler (chat lookup, admin check, the help card into the
 *   outbox) runs in the background DURING the timed run, competing for the same CPU and database,
 *   as it would in the server. The line after it reports how long the handlers took to catch up.
 *
 * Requests are built (encrypted and signed) before the timed loop. The outbox is NOT drained during
 * the measurement: the runtime's "start delivering" hook is replaced by a counter, so the numbers are
 * the ack alone. Logs are dropped unformatted (silentLogger). PGlite always; Postgres when
 * BENCH_DATABASE_URL is set (a throwaway database, pool size as the server's default).
 */
import { randomBytes } from "node:crypto";
import { count, eq } from "drizzle-orm";
import { Hono } from "hono";
import { createLarkClient } from "../src/bot/lark-client";
import { LarkRuntime } from "../src/bot/runtime";
import { loadConfig } from "../src/config";
import type { Database } from "../src/db/database";
import { migrateDatabase } from "../src/db/migrate";
import { openPglite } from "../src/db/pglite";
import { inboundEvents, outbox } from "../src/db/schema";
import { createApp } from "../src/handlers/app";
import { silentLogger } from "../src/log";
import {
  buildPushRequest,
  eventEnvelope,
  type FakeLark,
  messageEvent,
  type PushTarget,
  startFakeLark,
} from "../src/sandbox/fake-lark";
import { drive, fmt, type RunStats, withBenchPostgres } from "./support";

const N = Number(process.env.BENCH_N ?? 3000);
const CONCURRENCY = 50;
const WARMUP = 200;
const TARGET_P99_MS = 50;

const URL_EVENTS = "http://bot.local/lark/events";
const target: PushTarget = {
  url: URL_EVENTS,
  verificationToken: "bench-verification-token",
  encryptKey: "bench-encrypt-key",
};

type Handler = { request: (url: string, init: RequestInit) => Response | Promise<Response> };

interface Prepared {
  rawBody: string;
  headers: Record<string, string>;
}

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

/** `n` distinct events (own event_id and message_id), sealed the way Lark sends them. */
function prepare(fake: FakeLark, n: number, text: string): Prepared[] {
  const app = {
    appId: fake.appId,
    tenantKey: fake.tenantKey,
    botOpenId: fake.botOpenId,
    botName: fake.botName,
  };
  const out: Prepared[] = [];
  for (let i = 0; i < n; i++) {
    const { event } = messageEvent(app, {
      chatId: `oc_bench${String(i % 20).padStart(27, "0")}`,
      senderOpenId: `ou_bench${String(i % 100).padStart(27, "0")}`,
      text,
      messageId: `om_${hex(16)}`,
      createTime: String(Date.now()),
    });
    const envelope = eventEnvelope(app, target.verificationToken, "im.message.receive_v1", event, {
      eventId: hex(16),
    });
    out.push(buildPushRequest(target, JSON.stringify(envelope), { sign: true }));
  }
  return out;
}

/** POST each prepared request once, `CONCURRENCY` in flight; every answer must be 200. */
async function run(app: Handler, reqs: Prepared[]): Promise<RunStats> {
  let failed = 0;
  let firstFailure = "";
  const stats = await drive(reqs.length, CONCURRENCY, async (i) => {
    const r = reqs[i] as Prepared;
    const res = await app.request(URL_EVENTS, { method: "POST", headers: r.headers, body: r.rawBody });
    const text = await res.text();
    if (res.status !== 200) {
      failed++;
      firstFailure ||= `${res.status} ${text}`;
    }
  });
  if (failed > 0) throw new Error(`${failed} of ${reqs.length} requests failed; first: ${firstFailure}`);
  return stats;
}

function baselineApp(): Hono {
  const app = new Hono();
  app.post("/x", (c) => c.json({ ok: true }));
  return app;
}

async function measureBaseline(): Promise<RunStats> {
  const app = baselineApp();
  const once = async () => {
    const res = await app.request("/x", { method: "POST", body: "{}" });
    await res.text();
  };
  await drive(WARMUP, CONCURRENCY, once);
  return drive(N, CONCURRENCY, once);
}

interface Line {
  label: string;
  stats: RunStats;
}

async function measureWebhook(label: string, database: Database, fake: FakeLark): Promise<Line[]> {
  const loaded = loadConfig({
    LARK_APP_ID: fake.appId,
    LARK_APP_SECRET: fake.appSecret,
    LARK_VERIFICATION_TOKEN: target.verificationToken,
    LARK_ENCRYPT_KEY: target.encryptKey,
    LARK_DOMAIN: fake.url,
  });
  if (!loaded.ok) throw new Error(loaded.problems.join("; "));
  const log = silentLogger;
  const runtime = new LarkRuntime({
    db: database.db,
    lark: createLarkClient({ appId: fake.appId, appSecret: fake.appSecret, domain: fake.url, log }),
    log,
    commitConcurrency: database.kind === "postgres" ? 4 : 1, // as src/server.ts
    transaction: database.sealableTransaction,
    handleBatch: database.kind === "postgres" ? 8 : 2,
  });
  await runtime.identify();
  let kicks = 0;
  runtime.pipeline.onOutbox = () => {
    kicks++; // not draining: the bench measures the ack only
  };
  const app = createApp({ database, config: loaded.config, log, lark: runtime });

  await run(app, prepare(fake, WARMUP, "收到"));
  await run(app, prepare(fake, WARMUP, "/帮助"));
  await runtime.inbound.idle();
  const before = await rowCounts(database);
  kicks = 0;

  const chatterReqs = prepare(fake, N, "收到");
  const chatter = await run(app, chatterReqs);
  const afterChatter = await rowCounts(database);
  const helpReqs = prepare(fake, N, "/帮助");
  const help = await run(app, helpReqs);
  const acked = performance.now();
  await runtime.inbound.idle();
  const caughtUpMs = performance.now() - acked;
  const after = await rowCounts(database);

  // The work really happened: chatter writes nothing; each /帮助 one dedupe row and one outbox row.
  const check = (what: string, got: number, want: number) => {
    if (got !== want) throw new Error(`${label}: ${what} = ${got}, expected ${want}`);
  };
  check("inbound rows (chatter)", afterChatter.inbound - before.inbound, 0);
  check("outbox rows (chatter)", afterChatter.outbox - before.outbox, 0);
  check("inbound rows (/帮助)", after.inbound - afterChatter.inbound, N);
  check("outbox rows (/帮助)", after.outbox - afterChatter.outbox, N);
  check("events still pending", after.pending, 0);
  // One "start delivering" per handling transaction (several events per transaction).
  if (kicks < 1 || kicks > N) throw new Error(`${label}: outbox kicks = ${kicks}, expected 1..${N}`);
  console.log(
    `${label}: /帮助 handled ${(N / kicks).toFixed(1)} per transaction; the handlers caught up ${caughtUpMs.toFixed(0)} ms after the last ack (all ${N} handled ${(help.seconds + caughtUpMs / 1000).toFixed(2)} s after the first request)`,
  );

  return [
    { label: `${label} chatter "收到" (no write)`, stats: chatter },
    { label: `${label} /帮助 (1 outbox row)`, stats: help },
  ];
}

async function rowCounts(database: Database): Promise<{ inbound: number; outbox: number; pending: number }> {
  const [a] = await database.db.select({ n: count() }).from(inboundEvents);
  const [b] = await database.db.select({ n: count() }).from(outbox).where(eq(outbox.status, "pending"));
  const [c] = await database.db
    .select({ n: count() })
    .from(inboundEvents)
    .where(eq(inboundEvents.status, "pending"));
  return { inbound: Number(a?.n ?? 0), outbox: Number(b?.n ?? 0), pending: Number(c?.n ?? 0) };
}

const pad = (s: string, n: number) => s + " ".repeat(Math.max(0, n - [...s].length));

// ---- run --------------------------------------------------------------------------------------

console.log(
  `N=${N} per line, ${CONCURRENCY} concurrent, app.request() in process; requests sealed before timing`,
);
const fake = await startFakeLark();
const lines: Line[] = [];
try {
  const baseline = await measureBaseline();
  lines.push({ label: "baseline bare Hono POST /x", stats: baseline });

  const pg = await openPglite();
  await migrateDatabase(pg);
  lines.push(...(await measureWebhook("pglite  ", pg, fake)));
  await pg.close();

  await withBenchPostgres("webhook", {}, async (database) => {
    lines.push(...(await measureWebhook("postgres", database, fake)));
  });

  const width = Math.max(...lines.map((l) => [...l.label].length)) + 1;
  for (const l of lines) {
    const ratio =
      l.stats === baseline
        ? ""
        : `  → ${(l.stats.perSecond / baseline.perSecond).toFixed(3)}× baseline req/s, p99 ${(l.stats.p99 / baseline.p99).toFixed(1)}× baseline`;
    console.log(`${pad(l.label, width)} ${fmt(l.stats)}${ratio}`);
  }
  if (!process.env.BENCH_DATABASE_URL) {
    console.log(
      "postgres: skipped (set BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to include it)",
    );
  }
  for (const l of lines) {
    if (l.stats === baseline) continue;
    const ok = l.stats.p99 <= TARGET_P99_MS;
    console.log(
      `target "ack p99 ≤ ${TARGET_P99_MS} ms at ${CONCURRENCY} concurrent": ${pad(l.label.trim(), width)} p99 ${l.stats.p99.toFixed(2)} ms — ${ok ? "MET" : "MISSED"}`,
    );
  }
} finally {
  await fake.close();
}
