import { Hono } from "hono";
import { timingSafeEqual } from "../bot/lark-crypto";
import type { LarkRuntime } from "../bot/runtime";
import type { Logger } from "../log";

/**
 * POST /tasks/sweep: run one sweep (deadlines, reminders, escalations, then the outbox) for an
 * external scheduler. `Authorization: Bearer $CRON_SECRET`; anything else gets 401.
 */
export function taskRoutes(deps: {
  cronSecret: string | undefined;
  lark: LarkRuntime | undefined;
  log: Logger;
}): Hono {
  const app = new Hono();
  app.post("/tasks/sweep", async (c) => {
    const auth = c.req.header("authorization") ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice("Bearer ".length).trim() : "";
    if (!deps.cronSecret || !token || !timingSafeEqual(token, deps.cronSecret)) {
      deps.log.warn("sweep refused: bad or missing bearer token");
      return c.json({ ok: false, error: deps.cronSecret ? "unauthorized" : "CRON_SECRET is not set" }, 401);
    }
    if (!deps.lark) return c.json({ ok: false, error: "no Lark app configured" }, 503);
    const report = await deps.lark.sweep();
    return c.json({ ok: true, ...report });
  });
  return app;
}
