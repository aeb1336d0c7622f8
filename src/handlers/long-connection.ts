/**
 * LARK_MODE=ws: the same router fed by the SDK's WSClient (no public URL needed — what an intranet
 * deployment usually requires). Each frame's flattened event is rebuilt into the webhook envelope
 * and goes through the same pipeline; a card callback's answer goes back in the ACK.
 * Node-only (the SDK's WSClient needs a long-lived process); imported only by src/server.ts.
 */
import * as lark from "@larksuiteoapi/node-sdk";
import { envelopeSchema, normalizeEnvelope } from "../bot/events";
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

/**
 * What the SDK's WSClient calls for each data frame: `invoke(envelope)`, where envelope is the frame's
 * JSON exactly as Lark sent it. We take it whole instead of going through the SDK's EventDispatcher,
 * which flattens header and event into one object — and so loses the card-update `token` of a
 * card callback under the header's `token`.
 */
export function longConnectionHandler(runtime: LarkRuntime, log: Logger) {
  return async (data: unknown): Promise<unknown> => {
    const parsed = envelopeSchema.safeParse(data);
    if (!parsed.success) {
      log.warn("long-connection frame is not a schema 2.0 event; ignored");
      return undefined;
    }
    const event = normalizeEnvelope(parsed.data);
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
  if (!/^cli_[0-9a-fA-F]{16}$/.test(o.appId)) {
    // The SDK's WSClient silently never connects with any other id.
    throw new Error(`LARK_APP_ID "${o.appId}" is not cli_ + 16 hex digits: the long connection cannot start`);
  }
  const handler = longConnectionHandler(o.runtime, o.log);
  const dispatcher = { invoke: (data: unknown) => handler(data) } as unknown as lark.EventDispatcher;
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
