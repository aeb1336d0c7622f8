import { type Context, Hono } from "hono";
import { EventShapeError, normalizeEnvelope } from "../bot/events";
import { openInbound } from "../bot/inbound";
import { type PipelineDeps, processEvent } from "../bot/pipeline";
import type { Logger } from "../log";

/**
 * POST /lark/events: events and card callbacks on one URL (told apart by header.event_type).
 * Verified → deduped → routed → committed, then answered: events with `{}`, callbacks with their
 * toast and card. Forgeries get 401 and malformed bodies 400, with nothing written.
 */
export interface LarkEventsDeps {
  verificationToken: string;
  encryptKey: string | undefined;
  pipeline: PipelineDeps;
  log: Logger;
  /** Wall-clock time, for the ±5 minute window on X-Lark-Request-Timestamp. */
  now: () => Date;
}

const MAX_BODY_BYTES = 1_000_000;

export function larkEventRoutes(deps: LarkEventsDeps): Hono {
  const app = new Hono();
  app.post("/lark/events", async (c: Context) => {
    const raw = new Uint8Array(await c.req.arrayBuffer());
    if (raw.length > MAX_BODY_BYTES) return c.json({ error: "body too large" }, 413);
    const opened = await openInbound(raw, c.req.raw.headers, {
      verificationToken: deps.verificationToken,
      encryptKey: deps.encryptKey,
      now: deps.now(),
    });
    if (opened.kind === "reject") {
      deps.log.warn("lark request rejected", {
        status: opened.status,
        reason: opened.reason,
        bytes: raw.length,
      });
      return c.json({ error: opened.reason }, opened.status);
    }
    if (opened.kind === "challenge") return c.json({ challenge: opened.challenge });

    let event: ReturnType<typeof normalizeEnvelope>;
    try {
      event = normalizeEnvelope(opened.envelope);
    } catch (err) {
      if (err instanceof EventShapeError) {
        deps.log.warn("lark event malformed", {
          event_id: opened.envelope.header.event_id,
          reason: err.message,
        });
        return c.json({ error: err.message }, 400);
      }
      throw err;
    }

    try {
      const result = await processEvent(event, deps.pipeline);
      if (event.kind === "card_action") {
        return c.json(result.status === "processed" ? (result.answer ?? {}) : {});
      }
      return c.json({});
    } catch (err) {
      deps.log.error("lark event failed", {
        event_id: event.eventId,
        event_type: event.eventType,
        error: err,
      });
      if (event.kind === "card_action") {
        // Callbacks are never redelivered: answer with something the person can act on.
        return c.json({ toast: { type: "error", content: "处理失败，请稍后再点一次。" } });
      }
      // Nothing was committed; a non-200 makes Lark deliver the event again later.
      return c.json({ error: "internal error" }, 500);
    }
  });
  return app;
}
