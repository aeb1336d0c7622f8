/**
 * The Node entry: read the environment, open the database (PGlite in DATA_DIR unless
 * DATABASE_URL is set), migrate, serve HTTP, sweep deadlines, shut down cleanly on SIGTERM/SIGINT.
 * With no LARK_APP_ID (sandbox mode) it also runs the fake Lark and the emulator page (src/sandbox/).
 */
import { serve } from "@hono/node-server";
import { createLarkClient } from "./bot/lark-client";
import { LarkRuntime } from "./bot/runtime";
import { loadConfig } from "./config";
import type { Database } from "./db/database";
import { openConfiguredDatabase, openFailure } from "./db/open";
import { seedEnvAdmins } from "./db/queries/admins";
import { createApp } from "./handlers/app";
import { type LongConnection, startLongConnection } from "./handlers/long-connection";
import { createLogger } from "./log";
import type { Sandbox } from "./sandbox/sandbox";

const log = createLogger({ base: { svc: "whistle" } });

const loaded = loadConfig(process.env);
if (!loaded.ok) {
  for (const problem of loaded.problems) console.error(`config: ${problem}`);
  console.error("config: fix the variables above and start again (see README → Configuration)");
  process.exit(1);
}
const loadedConfig = loaded.config;

let database: Database;
try {
  database = await openConfiguredDatabase(loadedConfig);
} catch (err) {
  console.error(openFailure(loadedConfig, err));
  process.exit(1);
}
await seedEnvAdmins(database.db, loadedConfig.admins);

// Sandbox mode: the fake Lark stands in for the tenant. The product gets the config it would get from
// LARK_APP_ID, LARK_APP_SECRET, LARK_VERIFICATION_TOKEN, LARK_ENCRYPT_KEY and LARK_DOMAIN=<the fake>,
// and runs unchanged (the mode stays "sandbox" so /healthz and the logs say so).
// Loaded only in sandbox mode: a server connected to a real tenant never loads the fake.
let sandbox: Sandbox | undefined;
if (loadedConfig.mode === "sandbox") {
  const { startSandbox } = await import("./sandbox/sandbox");
  sandbox = await startSandbox({ dataDir: loadedConfig.dataDir, log: log.child({ part: "sandbox" }) });
  await sandbox.seed(database.db);
}
const config = sandbox ? { ...loadedConfig, lark: sandbox.lark } : loadedConfig;

/** How often acknowledged events and the outbox are picked up again (retries, rows other instances left). */
const DRAIN_EVERY_MS = 5_000;
/** How often deadlines, reminders and escalations are swept (the promise is ≤ 15 s late). */
const SWEEP_EVERY_MS = 15_000;
const timers: NodeJS.Timeout[] = [];
let runtime: LarkRuntime | undefined;
let longConnection: LongConnection | undefined;
if (config.lark) {
  const lark = config.lark;
  runtime = new LarkRuntime({
    db: database.db,
    lark: createLarkClient({ ...lark, log: log.child({ part: "lark" }) }),
    log,
    commitConcurrency: database.kind === "postgres" ? 4 : 1,
    transaction: database.sealableTransaction,
    handleBatch: database.kind === "postgres" ? 8 : 2,
    tz: config.tzDisplay,
    digestAt: config.digestAt,
  });
  const rt = runtime;
  if (!(await rt.identify())) {
    const retry = setInterval(async () => {
      if (await rt.identify()) clearInterval(retry);
    }, 30_000);
    timers.push(retry);
  }
  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      await rt.sweep();
    } catch (err) {
      log.error("sweep failed", { error: err });
    } finally {
      sweeping = false;
    }
  };
  void sweep(); // whatever came due while the server was down, and what a previous run left in the outbox
  timers.push(
    setInterval(() => {
      void rt.inbound.kick();
      void rt.worker.kick();
    }, DRAIN_EVERY_MS),
  );
  timers.push(setInterval(() => void sweep(), SWEEP_EVERY_MS));
  if (config.mode === "ws") {
    longConnection = startLongConnection({ ...lark, runtime: rt, log: log.child({ part: "ws" }) });
  }
}

const app = createApp({ database, config, log, lark: runtime });
if (sandbox && runtime) {
  const { sandboxRoutes } = await import("./sandbox/routes");
  const rt = runtime;
  app.route(
    "/",
    sandboxRoutes({
      sandbox,
      db: database.db,
      settle: () => rt.settle(),
      kick: () => rt.settle(),
      log: log.child({ part: "sandbox" }),
      tz: config.tzDisplay,
    }),
  );
}
const server = serve({ fetch: app.fetch, port: config.port, hostname: "0.0.0.0" }, (info) => {
  sandbox?.listening(info.port);
  log.info("listening", { port: info.port, db: database.kind, mode: config.mode });
  if (config.mode === "sandbox") {
    log.info(
      `sandbox mode: LARK_APP_ID is not set, so no Lark tenant is connected; open http://localhost:${info.port}/`,
    );
  }
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info("shutting down", { signal });
  const force = setTimeout(() => {
    log.error("shutdown took longer than 10 s; exiting");
    process.exit(1);
  }, 10_000);
  force.unref();
  // Stop accepting, let in-flight requests and deliveries finish, then close the database.
  for (const t of timers) clearInterval(t);
  longConnection?.close();
  sandbox?.endStreams(); // an open sandbox page would otherwise keep the server from closing
  await new Promise<void>((done) => server.close(() => done()));
  await runtime?.inbound.idle();
  await runtime?.worker.idle();
  await sandbox?.close();
  await database.close();
  log.info("stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
