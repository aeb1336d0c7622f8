/** Long-connection fake (protocol doc §7.6): bootstrap endpoint, WebSocket upgrade, pbbp2 frames, ping/pong, ACKs. */
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { randomHex } from "./ids";
import type { ApiRequest } from "./open-api";
import { decodeFrame, encodeFrame, type Frame, frameHeader } from "./pbbp2";
import type { Reply } from "./responses";
import type { FakeLarkState } from "./state";
import { acceptWebSocket, rejectUpgrade, type WebSocketConn } from "./websocket";

export const WS_BOOTSTRAP_PATH = "/callback/ws/endpoint";
export const WS_PATH = "/ws/v2";

/** `ClientConfig` sent by bootstrap and in every pong (seconds; ReconnectCount -1 = forever). */
export interface WsClientConfig {
  PingInterval: number;
  ReconnectCount: number;
  ReconnectInterval: number;
  ReconnectNonce: number;
}

interface AckOutcome {
  ackCode: number;
  data?: unknown;
  timedOut: boolean;
  ms: number;
}

interface Session {
  conn: WebSocketConn;
  deviceId: string;
  serviceId: number;
  pending: Map<string, (ack: { code: number; data?: unknown }) => void>;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8");

/** Server side of the SDK's `WSClient`. */
export class LongConnection {
  /** Config handed to clients; lower the reconnect values to speed up reconnect tests. */
  clientConfig: WsClientConfig = {
    PingInterval: 120,
    ReconnectCount: -1,
    ReconnectInterval: 120,
    ReconnectNonce: 30,
  };
  /** Client pings received. */
  pings = 0;
  private readonly sessions: Session[] = [];
  private readonly tickets = new Map<string, number>();
  private seq = 0;

  constructor(
    private readonly state: FakeLarkState,
    private readonly baseUrl: () => string,
  ) {}

  /** `POST /callback/ws/endpoint` with `{AppID, AppSecret}`. */
  bootstrap(req: ApiRequest): Reply {
    const body = req.body as { AppID?: unknown; AppSecret?: unknown } | undefined;
    if (req.bodyInvalid || typeof body?.AppID !== "string" || typeof body.AppSecret !== "string") {
      return { status: 200, body: { code: 1000040344, msg: "no credential" } };
    }
    if (body.AppID !== this.state.opts.appId || body.AppSecret !== this.state.opts.appSecret) {
      return { status: 200, body: { code: 514, msg: "auth failed" } };
    }
    const deviceId = `7${randomHex(18).replace(/\D/g, "5")}`;
    const serviceId = 33554678 + this.tickets.size;
    const ticket = randomUUID();
    this.tickets.set(`${deviceId}/${ticket}`, serviceId);
    // The SDK runs querystring.parse on the whole URL, so device_id must not be the first key.
    const wsBase = this.baseUrl().replace(/^http/, "ws");
    const url = `${wsBase}${WS_PATH}?fpid=493&aid=552564&device_id=${deviceId}&access_key=${randomHex(32)}&service_id=${serviceId}&ticket=${ticket}`;
    return { status: 200, body: { code: 0, msg: "ok", data: { URL: url, ClientConfig: this.clientConfig } } };
  }

  /** Handles an HTTP upgrade on the fake's port. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? "/", "http://fake");
    const deviceId = url.searchParams.get("device_id") ?? "";
    const serviceId = this.tickets.get(`${deviceId}/${url.searchParams.get("ticket") ?? ""}`);
    if (url.pathname !== WS_PATH || serviceId === undefined) {
      rejectUpgrade(socket, 403, "Forbidden", {
        "handshake-status": "403",
        "handshake-msg": "invalid ticket",
      });
      return;
    }
    let session: Session | undefined;
    const conn = acceptWebSocket(req, socket, head, {
      onMessage: (data) => {
        if (session) this.onFrame(session, data);
      },
      onClose: () => {
        const idx = session ? this.sessions.indexOf(session) : -1;
        if (idx >= 0) this.sessions.splice(idx, 1);
      },
    });
    if (!conn) return;
    session = { conn, deviceId, serviceId, pending: new Map() };
    this.sessions.push(session);
  }

  /** Number of connected clients. */
  clients(): number {
    return this.sessions.length;
  }

  /** Drops every connection (no close frame), so clients run their reconnect loop. */
  dropAll(): void {
    for (const s of [...this.sessions]) s.conn.destroy();
  }

  /** Closes every connection with a close frame; drops what is still open after 300 ms. */
  async close(): Promise<void> {
    const open = [...this.sessions];
    for (const s of open) s.conn.close(1001);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(open.map((s) => s.conn.socketClosed)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 300);
      }),
    ]);
    clearTimeout(timer);
    for (const s of open) s.conn.destroy();
  }

  /**
   * Sends `payload` as a data frame (type=event) to one connected client, split into `fragments`
   * frames, and resolves with its decoded ACK.
   */
  async push(payload: string, opts: { timeoutMs?: number; fragments?: number } = {}): Promise<AckOutcome> {
    const session = this.sessions[this.sessions.length - 1];
    if (!session) throw new Error("fake-lark: no long-connection client is connected");
    const started = performance.now();
    const messageId = `fake_${randomHex(20)}`;
    const traceId = randomUUID();
    const bytes = utf8.encode(payload);
    const sum = Math.max(1, Math.min(opts.fragments ?? 1, bytes.length));
    const size = Math.ceil(bytes.length / sum);
    const acked = new Promise<{ code: number; data?: unknown }>((resolve) => {
      session.pending.set(messageId, resolve);
    });
    for (let i = 0; i < sum; i++) {
      const frame: Frame = {
        SeqID: ++this.seq,
        LogID: Date.now() * 1000 + this.seq,
        service: session.serviceId,
        method: 1,
        headers: [
          { key: "type", value: "event" },
          { key: "message_id", value: messageId },
          { key: "sum", value: String(sum) },
          { key: "seq", value: String(i) },
          { key: "trace_id", value: traceId },
        ],
        payload: bytes.slice(i * size, (i + 1) * size),
      };
      session.conn.send(encodeFrame(frame));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), opts.timeoutMs ?? 3000);
    });
    const outcome = await Promise.race([acked, timeout]);
    clearTimeout(timer);
    session.pending.delete(messageId);
    const ms = performance.now() - started;
    if (outcome === "timeout") return { ackCode: 0, timedOut: true, ms };
    return {
      ackCode: outcome.code,
      ...(outcome.data !== undefined ? { data: outcome.data } : {}),
      timedOut: false,
      ms,
    };
  }

  private onFrame(session: Session, data: Buffer): void {
    let frame: Frame;
    try {
      frame = decodeFrame(data);
    } catch {
      return;
    }
    const type = frameHeader(frame, "type");
    if (frame.method === 0) {
      if (type === "ping") {
        this.pings += 1;
        session.conn.send(
          encodeFrame({
            SeqID: 0,
            LogID: 0,
            service: session.serviceId,
            method: 0,
            headers: [{ key: "type", value: "pong" }],
            payload: utf8.encode(JSON.stringify(this.clientConfig)),
          }),
        );
      }
      return;
    }
    const messageId = frameHeader(frame, "message_id");
    const resolve = messageId ? session.pending.get(messageId) : undefined;
    if (!resolve) return;
    let ack: { code: number; data?: unknown } = { code: 0 };
    try {
      const parsed = JSON.parse(fromUtf8.decode(frame.payload ?? new Uint8Array())) as {
        code?: unknown;
        data?: unknown;
      };
      ack = { code: typeof parsed.code === "number" ? parsed.code : 0 };
      if (typeof parsed.data === "string") {
        const decoded = Buffer.from(parsed.data, "base64").toString("utf8");
        try {
          ack.data = JSON.parse(decoded);
        } catch {
          ack.data = decoded;
        }
      }
    } catch {
      // Malformed ACK payload: report code 0.
    }
    resolve(ack);
  }
}
