/**
 * bench/fanout: a whistle to 20 departments, with every Open API call taking 50 ms (the fake's
 * `latencyMs`). From the `/吹哨 应急 <20 departments> <matter>` push to the moment the fake has
 * accepted all 20 department cards and the street's summary reply: the push is recorded and
 * acknowledged, the command's handler runs right after and commits the whistle with 21 outbox rows,
 * that commit starts the worker (as in the server, `onOutbox` → `worker.kick()`), and the worker
 * delivers them within Lark's rate limits (5/s per chat, 50/s per app).
 *
 * Each whistle starts with the app's rate-limit window clear (a pause of 1.1 s between whistles), so
 * the numbers are one burst, not a queue. Baseline in the same run, through the same SDK client and
 * the same 50 ms: 21 sends one after another, and 21 sends all at once (the parallel ideal).
 * Zero rate-limit answers (230020, 99991400, HTTP 429) are allowed. PGlite always; Postgres when
 * BENCH_DATABASE_URL is set (a throwaway database, pool size and commit concurrency as the server's).
 */
import { count, eq, inArray } from "drizzle-orm";
import { createLarkClient, type LarkApi } from "../src/bot/lark-client";
import { LarkRuntime } from "../src/bot/runtime";
import { loadConfig } from "../src/config";
import type { Database } from "../src/db/database";
import { migrateDatabase } from "../src/db/migrate";
import { openPglite } from "../src/db/pglite";
import { admins, chatBindings, outbox, whistles } from "../src/db/schema";
import { createApp } from "../src/handlers/app";
import { createLogger, type Logger } from "../src/log";
import { type ApiCall, type FakeLark, type PushTarget, startFakeLark } from "../src/sandbox/fake-lark";
import { DEPARTMENT_NAMES, percentile, withBenchPostgres } from "./support";

const LATENCY_MS = 50;
const DEPARTMENTS = 20;
const REPEATS = Number(process.env.BENCH_REPEATS ?? 10);
const BASELINE_REPEATS = 5;
const PAUSE_MS = 1100; // the worker's app window is 50 calls per 1050 ms
const TARGET_MS = 600;
const WAIT_LIMIT_MS = 15_000;

const ADMIN = "ou_benchadmin00000000000000000000001";
const OFFICIAL = "ou_benchofficial000000000000000000002";
const STREET_CHAT = "oc_street00000000000000000000000";
const VERIFICATION_TOKEN = "bench-verification-token";
const ENCRYPT_KEY = "bench-encrypt-key";
const deptChat = (i: number) => `oc_dept${String(i).padStart(25, "0")}`;
const baselineChat = (i: number) => `oc_base${String(i).padStart(25, "0")}`;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const pad = (s: string, n: number) => s + " ".repeat(Math.max(0, n - [...s].length));

/** Lark's rate-limit answers: 230020 (per chat / per message), 99991400 (app frequency), HTTP 429. */
const isRateLimited = (c: ApiCall) => c.code === 230020 || c.code === 99991400 || c.status === 429;

interface Summary {
  min: number;
  median: number;
  max: number;
}

function summarize(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0] ?? Number.NaN, median: percentile(s, 50), max: s[s.length - 1] ?? Number.NaN };
}

const fmtSummary = (s: Summary) =>
  `min ${s.min.toFixed(0)} ms, median ${s.median.toFixed(0)} ms, max ${s.max.toFixed(0)} ms`;

/** Warn/error lines counted by message (info and debug are dropped unformatted). */
function countingLogger(counts: Map<string, number>): Logger {
  return createLogger({
    level: "warn",
    write: (line) => {
      const l = JSON.parse(line) as { msg?: unknown; error?: unknown; code?: unknown };
      const key = `"${String(l.msg)}"${l.code !== undefined ? ` code ${String(l.code)}` : ""}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    },
  });
}

// ---- baseline: the same SDK client, 21 sends ----------------------------------------------------

async function measureBaseline(fake: FakeLark, lark: LarkApi) {
  const n = DEPARTMENTS + 1;
  for (let i = 0; i < n; i++) fake.addChat(baselineChat(i), { name: `基线${i}`, members: [ADMIN] });
  const send = (i: number, round: number) =>
    lark.send({
      receiveIdType: "chat_id",
      receiveId: baselineChat(i),
      msgType: "text",
      content: JSON.stringify({ text: `基线 ${round}-${i}` }),
    });
  const sequential: number[] = [];
  const parallel: number[] = [];
  await send(0, -1); // token and connection warm
  for (let round = 0; round < BASELINE_REPEATS; round++) {
    let t0 = performance.now();
    for (let i = 0; i < n; i++) await send(i, round);
    sequential.push(performance.now() - t0);
    await sleep(PAUSE_MS); // each baseline chat stays under its 5/s
    t0 = performance.now();
    await Promise.all(Array.from({ length: n }, (_, i) => send(i, round + 100)));
    parallel.push(performance.now() - t0);
    await sleep(PAUSE_MS);
  }
  return { sequential: summarize(sequential), parallel: summarize(parallel) };
}

// ---- the real app ---------------------------------------------------------------------------

interface Result {
  label: string;
  accepted: Summary;
  workerDone: Summary;
  ack: Summary;
  /** From the push's answer to the last card accepted: the worker's part. */
  delivery: Summary;
  limited: number;
  calls: number;
  failedWhistles: number;
  warnings: Map<string, number>;
  baseline: { sequential: Summary; parallel: Summary };
}

async function measureFanout(label: string, database: Database): Promise<Result> {
  const fake = await startFakeLark({ latencyMs: LATENCY_MS });
  try {
    const loaded = loadConfig({
      LARK_APP_ID: fake.appId,
      LARK_APP_SECRET: fake.appSecret,
      LARK_VERIFICATION_TOKEN: VERIFICATION_TOKEN,
      LARK_ENCRYPT_KEY: ENCRYPT_KEY,
      LARK_DOMAIN: fake.url,
    });
    if (!loaded.ok) throw new Error(loaded.problems.join("; "));
    const warnings = new Map<string, number>();
    const log = countingLogger(warnings);
    const lark = createLarkClient({ appId: fake.appId, appSecret: fake.appSecret, domain: fake.url, log });
    const runtime = new LarkRuntime({
      db: database.db,
      lark,
      log,
      commitConcurrency: database.kind === "postgres" ? 4 : 1, // as src/server.ts
      transaction: database.sealableTransaction,
      handleBatch: database.kind === "postgres" ? 8 : 2,
    });
    await runtime.identify();
    const app = createApp({ database, config: loaded.config, log, lark: runtime });
    const target: PushTarget = {
      url: "http://bot.local/lark/events",
      verificationToken: VERIFICATION_TOKEN,
      encryptKey: ENCRYPT_KEY,
      fetch: (url, init) => app.request(url, init),
    };

    const baseline = await measureBaseline(fake, lark);

    // Set up by chat: the street and 20 departments, each its own chat; deliver what that sent.
    await database.db.insert(admins).values({ openId: ADMIN, source: "env" });
    const say = async (chatId: string, sender: string, text: string) => {
      const r = await fake.push.message(target, { chatId, senderOpenId: sender, text });
      if (r.status !== 200) throw new Error(`${text}: HTTP ${r.status} ${r.text}`);
      return r;
    };
    fake.addChat(STREET_CHAT, { name: "朝阳门街道工作群", members: [ADMIN, OFFICIAL] });
    await say(STREET_CHAT, ADMIN, "/绑定 街乡 朝阳门街道");
    for (let i = 0; i < DEPARTMENTS; i++) {
      fake.addChat(deptChat(i), { name: DEPARTMENT_NAMES[i] as string, members: [ADMIN] });
      await say(deptChat(i), ADMIN, `/绑定 部门 ${DEPARTMENT_NAMES[i]}`);
    }
    await runtime.inbound.idle(); // commands are handled right after their ack
    const [b] = await database.db.select({ n: count() }).from(chatBindings);
    if (Number(b?.n) !== DEPARTMENTS + 1) throw new Error(`${label}: bindings ${b?.n}`);
    for (let round = 0; ; round++) {
      await runtime.worker.idle();
      await runtime.worker.drain();
      const [p] = await database.db
        .select({ n: count() })
        .from(outbox)
        .where(inArray(outbox.status, ["pending", "sending"]));
      if (Number(p?.n) === 0) break;
      if (round > 100) throw new Error(`${label}: set-up outbox did not drain`);
      await sleep(200);
    }
    await sleep(PAUSE_MS);

    // Whistles: one warm-up, then REPEATS measured, each with the rate-limit window clear.
    const names = DEPARTMENT_NAMES.join(",");
    const accepted: number[] = [];
    const workerDone: number[] = [];
    const acks: number[] = [];
    const deliveries: number[] = [];
    let failedWhistles = 0;
    const firstCall = fake.calls.length;
    let measuredFrom = firstCall;
    for (let k = -1; k < REPEATS; k++) {
      if (k === 0) {
        measuredFrom = fake.calls.length;
        warnings.clear();
      }
      const tag = `【F${String(k + 1).padStart(2, "0")}】`;
      const from = fake.messages().length;
      const t0 = performance.now();
      const r = await say(STREET_CHAT, OFFICIAL, `/吹哨 应急 ${names} 东直门内大街12号燃气泄漏${tag}`);
      const ackMs = performance.now() - t0;
      void runtime.worker.kick(); // as the server's onOutbox does (the commit already kicked it)
      // Poll the fake (cheaply: only what arrived since the push) until all 21 cards are in.
      let acceptedMs = Number.NaN;
      while (performance.now() - t0 < WAIT_LIMIT_MS) {
        const cards = fake
          .messages()
          .slice(from)
          .filter((m) => m.sender === "bot");
        if (cards.length >= DEPARTMENTS + 1) {
          acceptedMs = performance.now() - t0;
          break;
        }
        await sleep(1);
      }
      const cards = fake
        .messages()
        .slice(from)
        .filter((m) => m.sender === "bot" && m.msg_type === "interactive")
        .filter((m) => JSON.stringify(m.content).includes(tag));
      const depts = new Set(cards.filter((m) => m.chat_id !== STREET_CHAT).map((m) => m.chat_id));
      const summary = cards.some((m) => m.chat_id === STREET_CHAT && m.parent_id === r.messageId);
      const done = !Number.isNaN(acceptedMs) && depts.size === DEPARTMENTS && summary;
      await runtime.settle();
      const idleMs = performance.now() - t0;
      if (k >= 0) {
        if (!done) failedWhistles++;
        else {
          accepted.push(acceptedMs);
          deliveries.push(acceptedMs - ackMs);
        }
        workerDone.push(idleMs);
        acks.push(ackMs);
      }
      await sleep(PAUSE_MS);
    }
    const measuredCalls = fake.calls.slice(measuredFrom);
    const limited = fake.calls.slice(firstCall).filter(isRateLimited).length;
    const [w] = await database.db.select({ n: count() }).from(whistles).where(eq(whistles.status, "open"));
    if (Number(w?.n) !== REPEATS + 1) throw new Error(`${label}: ${w?.n} whistles, expected ${REPEATS + 1}`);
    const [left] = await database.db
      .select({ n: count() })
      .from(outbox)
      .where(inArray(outbox.status, ["pending", "sending", "failed"]));
    if (Number(left?.n) !== 0) throw new Error(`${label}: ${left?.n} outbox rows not delivered`);
    return {
      label,
      accepted: summarize(accepted),
      workerDone: summarize(workerDone),
      ack: summarize(acks),
      delivery: summarize(deliveries),
      limited,
      calls: measuredCalls.length,
      failedWhistles,
      warnings,
      baseline,
    };
  } finally {
    await fake.close();
  }
}

// ---- run --------------------------------------------------------------------------------------

console.log(
  `${DEPARTMENTS} departments per whistle, fake Open API latency ${LATENCY_MS} ms, ${REPEATS} whistles per database (after one warm-up), ${PAUSE_MS} ms apart`,
);
const results: Result[] = [];
const pg = await openPglite();
await migrateDatabase(pg);
results.push(await measureFanout("pglite  ", pg));
await pg.close();

await withBenchPostgres("fanout", {}, async (database) => {
  results.push(await measureFanout("postgres", database));
});

const n = DEPARTMENTS + 1;
for (const r of results) {
  const l = r.label;
  console.log(
    `${l} baseline ${n} sends one after another:  ${fmtSummary(r.baseline.sequential)} (${BASELINE_REPEATS} runs)`,
  );
  console.log(`${l} baseline ${n} sends all at once:        ${fmtSummary(r.baseline.parallel)}`);
  console.log(`${l} /吹哨 push acknowledged (recorded):  ${fmtSummary(r.ack)}`);
  console.log(`${l} acknowledged → last card accepted (handled, then delivered): ${fmtSummary(r.delivery)}`);
  console.log(
    `${l} all ${n} cards accepted by Lark:       ${fmtSummary(r.accepted)}  → median ${(r.accepted.median / r.baseline.parallel.median).toFixed(1)}× the all-at-once baseline, ${(r.accepted.median / r.baseline.sequential.median).toFixed(2)}× one-after-another`,
  );
  console.log(
    `${l} worker done (answers recorded):      ${fmtSummary(r.workerDone)}; Open API calls ${r.calls} (${(r.calls / REPEATS).toFixed(1)} per whistle)`,
  );
  console.log(
    `${l} rate-limit answers (230020/99991400/429): ${r.limited}; whistles not fully delivered in ${WAIT_LIMIT_MS / 1000} s: ${r.failedWhistles}; app warnings: ${[...r.warnings].map(([k, v]) => `${v}× ${k}`).join(", ") || "none"}`,
  );
}
if (!process.env.BENCH_DATABASE_URL) {
  console.log(
    "postgres: skipped (set BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to include it)",
  );
}
for (const r of results) {
  const ok = r.failedWhistles === 0 && r.accepted.max <= TARGET_MS && r.limited === 0;
  console.log(
    `target "a whistle to ${DEPARTMENTS} departments at ${LATENCY_MS} ms latency: all cards accepted within ${TARGET_MS / 1000} s, zero rate-limit errors": ${pad(r.label.trim(), 8)} max ${r.accepted.max.toFixed(0)} ms, ${r.limited} rate-limit answers — ${ok ? "MET" : "MISSED"}`,
  );
}
