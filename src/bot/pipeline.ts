import type { Db } from "../db/database";
import { inboundEvents } from "../db/schema";
import type { Logger } from "../log";
import type { LarkEvent } from "./events";
import { OutboxWriter } from "./outbox";
import type { Bot, CallbackAnswer } from "./router";

/**
 * The one path every event takes once it is verified, whatever the way in:
 * dedupe (unique insert of event_id, and message_id for messages) → router → handler, all in ONE
 * transaction with the state and outbox rows the handler writes. A duplicate changes nothing; a
 * handler error rolls everything back, dedupe row included, so Lark's redelivery can try again.
 */
export interface PipelineDeps {
  db: Db;
  bot: Bot;
  log: Logger;
  now: () => Date;
  botOpenId: () => string | undefined;
  /** Called after a commit that wrote outbox rows (start delivering). */
  onOutbox: () => void;
}

export type PipelineResult =
  | { status: "duplicate" }
  | { status: "processed"; handled: boolean; why?: string; answer?: CallbackAnswer };

export async function processEvent(event: LarkEvent, deps: PipelineDeps): Promise<PipelineResult> {
  const now = deps.now();
  const log = deps.log.child({ event_id: event.eventId, event_type: event.eventType });
  let wrote = 0;
  const result = await deps.db.transaction(async (tx): Promise<PipelineResult> => {
    const recorded = await tx
      .insert(inboundEvents)
      .values({
        eventId: event.eventId,
        messageId: event.kind === "message" ? event.messageId : null,
        eventType: event.eventType,
        payload: event,
        status: "done",
        attempts: 1,
        receivedAt: now,
        processedAt: now,
      })
      .onConflictDoNothing()
      .returning({ id: inboundEvents.id });
    if (recorded.length === 0) return { status: "duplicate" };
    const out = new OutboxWriter(tx);
    const routed = await deps.bot.route(event, { tx, now, log, out, botOpenId: deps.botOpenId() });
    wrote = out.written;
    return routed.handled
      ? { status: "processed", handled: true, answer: routed.answer }
      : { status: "processed", handled: false, why: routed.why };
  });
  log.info("inbound event", {
    status: result.status,
    handled: result.status === "processed" ? result.handled : undefined,
    why: result.status === "processed" ? result.why : undefined,
    outbox: wrote || undefined,
    message_id: event.kind === "message" ? event.messageId : undefined,
  });
  if (wrote > 0) deps.onOutbox();
  return result;
}
