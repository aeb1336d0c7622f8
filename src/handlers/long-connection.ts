/**
 * LARK_MODE=ws: the same router fed by the SDK's WSClient (no public URL needed — what an intranet
 * deployment usually requires). Each frame's flattened event is rebuilt into the webhook envelope
 * and goes through the same pipeline; a card callback's answer goes back in the ACK.
 * Node-only (the SDK's WSClient needs a long-lived process); imported only by src/server.ts.
 */
import * as lark from "@larksuiteoapi/node-sdk";
import { envelopeFromFlattened, normalizeEnvelope } from "../bot/events";
import { processEvent } from "../bot/pipeline";
import type { LarkRuntime } from "../bot/runtime";
import type { Logger } from "../log";

export interface LongConnectionOptions {
  appId: string;
  appSecret: string;
  domain: string;
  runtime: LarkRuntime;
  log: Logger;
}

export interface LongConnection {
  close(): void;
}

function sdkDomain(domain: string): lark.Domain | string {
  if (domain === "feishu") return lark.Domain.Feishu;
  if (domain === "lark") return lark.Domain.Lark;
  return domain;
}

/** A handler for the SDK dispatcher: flattened data in, the pipeline's answer out. */
export function longConnectionHandler(runtime: LarkRuntime, log: Logger) {
  return async (data: Record<string, unknown>): Promise<unknown> => {
    const event = normalizeEnvelope(envelopeFromFlattened(data));
    try {
      const result = await processEvent(event, runtime.pipeline);
      if (event.kind === "card_action" && result.status === "processed") return result.answer ?? {};
      return event.kind === "card_action" ? {} : undefined;
    } catch (err) {
      log.error("long-connection event failed", { event_id: event.eventId, error: err });
      if (event.kind === "card_action")
        return { toast: { type: "error", content: "处理失败，请稍后再点一次。" } };
      throw err; // the SDK answers code 500 and Lark redelivers
    }
  };
}

const quiet = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

export function startLongConnection(o: LongConnectionOptions): LongConnection {
  const handler = longConnectionHandler(o.runtime, o.log);
  const handles: Record<string, (data: Record<string, unknown>) => Promise<unknown>> = {};
  for (const type of o.runtime.bot.eventTypes()) handles[type] = handler;
  const dispatcher = new lark.EventDispatcher({
    logger: quiet,
    loggerLevel: lark.LoggerLevel.error,
  }).register(handles as never);
  const ws = new lark.WSClient({
    appId: o.appId,
    appSecret: o.appSecret,
    domain: sdkDomain(o.domain),
    autoReconnect: true,
    logger: quiet,
    loggerLevel: lark.LoggerLevel.error,
    onReady: () => o.log.info("long connection ready", { app_id: o.appId }),
    onReconnecting: () => o.log.warn("long connection lost; reconnecting"),
    onReconnected: () => o.log.info("long connection re-established"),
    onError: (err: Error) => o.log.error("long connection error", { error: err }),
  } as ConstructorParameters<typeof lark.WSClient>[0]);
  void ws.start({ eventDispatcher: dispatcher });
  return { close: () => ws.close({ force: true } as never) };
}
