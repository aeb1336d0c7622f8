/**
 * The Cloudflare Workers entry: the same Hono app as the Node server (`fetch`) and the same sweep
 * (`scheduled`, every minute from wrangler.toml's cron), with the state in Postgres behind a
 * Hyperdrive binding. No PGlite here, no timers, no long connection.
 *
 * Per request: a postgres.js client on `env.HYPERDRIVE.connectionString` (Hyperdrive pools the real
 * connections, so a client per request is cheap and what Cloudflare recommends; a Worker may not
 * reuse one request's sockets in another). The pipeline records each event before the answer (card
 * callbacks are handled before it too, as they answer with the result); handling the recorded
 * events and delivering the outbox is `runtime.settle()`, handed to `ctx.waitUntil` so it finishes
 * after the response, and the client is closed after it. What a killed invocation leaves pending
 * is picked up by the next request or cron sweep.
 *
 * Per isolate (module scope): the parsed configuration, the Lark client with its token cache, Lark's
 * rate-limit windows and the bot's open_id — nothing that holds a socket.
 */
import { createLarkClient, type LarkApi } from "./bot/lark-client";
import { type OutboxLimits, outboxLimits } from "./bot/outbox-worker";
import { LarkRuntime } from "./bot/runtime";
import { type Config, loadConfig } from "./config";
import type { Database } from "./db/database";
import { openPostgres } from "./db/postgres";
import { seedEnvAdmins } from "./db/queries/admins";
import { createApp } from "./handlers/app";
import { createLogger, type Logger } from "./log";

/** The Hyperdrive binding's shape (only what we use). */
export interface HyperdriveBinding {
  connectionString: string;
}

/** Bindings and variables: `[vars]`, secrets (`wrangler secret put`) and the `[[hyperdrive]]` binding. */
export interface Env {
  HYPERDRIVE?: HyperdriveBinding;
  [name: string]: unknown;
}

/** The parts of workerd's ExecutionContext and ScheduledController this entry uses. */
export interface WorkerContext {
  waitUntil(promise: Promise<unknown>): void;
}
export interface ScheduledEvent {
  cron: string;
  scheduledTime: number;
}

/** Postgres connections a request may open (Workers allow 6 open sockets per invocation). */
const MAX_CONNECTIONS = 5;

const log = createLogger({ base: { svc: "whistle", runtime: "workers" } });

interface Isolate {
  /** Fingerprint of the variables the rest was built from (a redeploy or secret change starts a new isolate anyway). */
  key: string;
  config: Config;
  api: LarkApi;
  limits: OutboxLimits;
  botOpenId: string | undefined;
  botName: string | undefined;
  adminsSeeded: boolean;
}
type Setup = { ok: true; isolate: Isolate; connectionString: string } | { ok: false; problems: string[] };

let cached: Isolate | undefined;

/** The string variables of `env` (bindings such as HYPERDRIVE are objects and are left out). */
function variables(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === "string") out[k] = v;
  return out;
}

/** Validate the bindings and variables with the same loader as the Node server, plus what Workers need. */
export function setUp(env: Env): Setup {
  const problems: string[] = [];
  const hyperdrive = env.HYPERDRIVE;
  const connectionString =
    typeof hyperdrive === "object" && hyperdrive !== null && typeof hyperdrive.connectionString === "string"
      ? hyperdrive.connectionString
      : undefined;
  if (!connectionString) {
    problems.push(
      'HYPERDRIVE binding is missing: add [[hyperdrive]] binding = "HYPERDRIVE" to wrangler.toml (Workers have no embedded PGlite; see README → Deploy)',
    );
  }
  const vars = variables(env);
  const loaded = loadConfig(vars);
  if (!loaded.ok) problems.push(...loaded.problems);
  else if (!loaded.config.lark) {
    problems.push("LARK_APP_ID is required on Workers (sandbox mode runs only on the Node server)");
  } else if (loaded.config.mode === "ws") {
    problems.push(
      "LARK_MODE=ws needs a long-running process: use webhook mode on Workers (or the Node server)",
    );
  }
  if (problems.length > 0 || !loaded.ok || !loaded.config.lark || !connectionString) {
    return { ok: false, problems };
  }
  const key = JSON.stringify(Object.entries(vars).sort(([a], [b]) => a.localeCompare(b)));
  if (cached?.key !== key) {
    cached = {
      key,
      config: loaded.config,
      api: createLarkClient({ ...loaded.config.lark, log: log.child({ part: "lark" }) }),
      limits: outboxLimits(),
      botOpenId: undefined,
      botName: undefined,
      adminsSeeded: false,
    };
  }
  return { ok: true, isolate: cached, connectionString };
}

function misconfigured(problems: string[]): void {
  for (const problem of problems) log.error(`config: ${problem}`);
}

/** One request's database and runtime; `finish` waits for its deliveries, then closes the connection. */
function open(isolate: Isolate, connectionString: string, reqLog: Logger) {
  const database: Database = openPostgres(connectionString, {
    max: MAX_CONNECTIONS,
    prepare: false,
    keep: 0,
  });
  const runtime = new LarkRuntime({
    db: database.db,
    lark: isolate.api,
    log: reqLog,
    outboxLimits: isolate.limits,
    commitConcurrency: 1,
    // BEGIN and COMMIT travel with the statements: two fewer round trips to Hyperdrive per event.
    transaction: database.sealableTransaction,
    tz: isolate.config.tzDisplay,
    digestAt: isolate.config.digestAt,
  });
  runtime.botOpenId = isolate.botOpenId;
  runtime.botName = isolate.botName;

  const firstUse = async () => {
    if (!isolate.adminsSeeded && isolate.config.admins.length > 0) {
      await seedEnvAdmins(database.db, isolate.config.admins);
      isolate.adminsSeeded = true;
    }
  };
  // Until the bot's open_id is known any bot mention counts as ours; learn it once per isolate,
  // after the answer (it costs a Lark call).
  const identify = async () => {
    if (isolate.botOpenId) return;
    if (await runtime.identify()) {
      isolate.botOpenId = runtime.botOpenId;
      isolate.botName = runtime.botName;
    }
  };
  const finish = async () => {
    try {
      await Promise.all([runtime.settle(), identify()]);
    } catch (err) {
      reqLog.error("work after the answer failed", { error: err });
    } finally {
      await database.close().catch((err) => reqLog.warn("closing the database failed", { error: err }));
    }
  };
  return { database, runtime, firstUse, finish };
}

export default {
  async fetch(request: Request, env: Env, ctx: WorkerContext): Promise<Response> {
    const setup = setUp(env);
    if (!setup.ok) {
      misconfigured(setup.problems);
      return Response.json(
        { ok: false, error: "configuration", problems: setup.problems },
        { status: 500, headers: { "cache-control": "no-store" } },
      );
    }
    const { isolate, connectionString } = setup;
    const w = open(isolate, connectionString, log);
    try {
      await w.firstUse();
      const app = createApp({ database: w.database, config: isolate.config, log, lark: w.runtime });
      return await app.fetch(request);
    } catch (err) {
      // createApp's onError catches handler errors; this is the database failing before the app ran.
      log.error("request failed", { path: new URL(request.url).pathname, error: err });
      return Response.json({ ok: false, error: "database unavailable" }, { status: 503 });
    } finally {
      // The recorded events are handled and what they queued delivered after the answer, then the
      // connection is closed.
      ctx.waitUntil(w.finish());
    }
  },

  async scheduled(event: ScheduledEvent, env: Env, ctx: WorkerContext): Promise<void> {
    const setup = setUp(env);
    if (!setup.ok) {
      misconfigured(setup.problems);
      return;
    }
    const { isolate, connectionString } = setup;
    const w = open(isolate, connectionString, log.child({ cron: event.cron }));
    const run = (async () => {
      try {
        await w.firstUse();
        const report = await w.runtime.sweep();
        log.info("cron sweep", { ...report });
      } catch (err) {
        log.error("sweep failed", { error: err });
      } finally {
        await w.finish();
      }
    })();
    ctx.waitUntil(run);
    await run;
  },
};
