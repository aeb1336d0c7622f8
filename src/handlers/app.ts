import { Hono } from "hono";
import type { LarkRuntime } from "../bot/runtime";
import type { Config } from "../config";
import type { Database } from "../db/database";
import type { Logger } from "../log";
import { healthRoutes } from "./health";
import { larkEventRoutes } from "./lark-events";
import { taskRoutes } from "./tasks";

/** What the HTTP app needs; the Node and Workers entries build these, tests build them with fakes. */
export interface AppDeps {
  database: Database;
  config: Config;
  log: Logger;
  /** Present when a Lark app is configured (or the sandbox provides one). */
  lark?: LarkRuntime;
}

/** The one Hono app, the same on Node and Workers. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    deps.log.info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    });
  });

  app.route("/", healthRoutes(deps));
  const larkConfig = deps.config.lark;
  if (deps.lark && larkConfig?.verificationToken) {
    app.route(
      "/",
      larkEventRoutes({
        verificationToken: larkConfig.verificationToken,
        encryptKey: larkConfig.encryptKey,
        pipeline: deps.lark.pipeline,
        log: deps.log,
        // Wall-clock time for the signature's timestamp window (transport security), not the domain clock.
        now: () => new Date(),
      }),
    );
  }

  app.route("/", taskRoutes({ cronSecret: deps.config.cronSecret, lark: deps.lark, log: deps.log }));

  app.notFound((c) => c.json({ ok: false, error: "not found" }, 404));
  app.onError((err, c) => {
    deps.log.error("unhandled error", { path: c.req.path, error: err });
    return c.json({ ok: false, error: "internal error" }, 500);
  });
  return app;
}
