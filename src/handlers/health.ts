import { Hono } from "hono";
import type { AppDeps } from "./app";

const PING_TIMEOUT_MS = 2000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** GET /healthz: 200 when the database answers, 503 when it does not. */
export function healthRoutes({ database, config, log }: AppDeps): Hono {
  const app = new Hono();
  app.get("/healthz", async (c) => {
    const body = { db: database.kind, mode: config.mode };
    try {
      await withTimeout(database.ping(), PING_TIMEOUT_MS);
      return c.json({ ok: true, ...body });
    } catch (err) {
      log.warn("health check: database did not answer", { error: err });
      return c.json({ ok: false, ...body, error: "database unavailable" }, 503);
    }
  });
  return app;
}
