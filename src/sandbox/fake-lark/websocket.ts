/** Minimal RFC 6455 server side on top of a Node `upgrade` socket (binary messages, ping/pong, close). */
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** One accepted WebSocket connection. */
export interface WebSocketConn {
  /** Sends one binary message. */
  send(data: Uint8Array): void;
  /** Sends a close frame and ends the socket. */
  close(code?: number): void;
  /** Drops the TCP connection without a close frame. */
  destroy(): void;
  readonly open: boolean;
  /** Resolves once the TCP socket has closed. */
  readonly socketClosed: Promise<void>;
}

export interface WebSocketHandlers {
  onMessage(data: Buffer): void;
  onClose(): void;
}

/** Rejects an upgrade with an HTTP status and extra headers (e.g. `handshake-status`). */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  reason: string,
  headers: Record<string, string>,
): void {
  const lines = [`HTTP/1.1 ${status} ${reason}`, "Connection: close", "Content-Length: 0"];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  socket.end(`${lines.join("\r\n")}\r\n\r\n`);
}

function encodeFrame(opcode: number, payload: Uint8Array): Buffer {
  const len = payload.length;
  let header: Buffer;
  if (len < 126) {
    header = Buffer.from([0x80 | opcode, len]);
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([header, payload]);
}

/** Completes the handshake (no extensions) and parses the client's frames. */
export function acceptWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  handlers: WebSocketHandlers,
): WebSocketConn | undefined {
  const key = req.headers["sec-websocket-key"];
  if (typeof key !== "string" || req.headers.upgrade?.toLowerCase() !== "websocket") {
    rejectUpgrade(socket, 400, "Bad Request", {});
    return undefined;
  }
  const accept = createHash("sha1")
    .update(key + GUID)
    .digest("base64");
  socket.write(
    [
      "HTTP/1.1 101 Switching Protocols",
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Accept: ${accept}`,
      "",
      "",
    ].join("\r\n"),
  );

  let open = true;
  const socketClosed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  let buffered: Buffer = head.length > 0 ? Buffer.from(head) : Buffer.alloc(0);
  let fragments: Buffer[] = [];
  let fragmentOpcode = 0;

  const finish = (): void => {
    if (!open) return;
    open = false;
    handlers.onClose();
  };
  const writeFrame = (opcode: number, payload: Uint8Array): void => {
    if (!socket.destroyed && socket.writable) socket.write(encodeFrame(opcode, payload));
  };

  const parse = (): void => {
    for (;;) {
      if (buffered.length < 2) return;
      const b0 = buffered[0] ?? 0;
      const b1 = buffered[1] ?? 0;
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      const masked = (b1 & 0x80) !== 0;
      let len = b1 & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (buffered.length < 4) return;
        len = buffered.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (buffered.length < 10) return;
        len = Number(buffered.readBigUInt64BE(2));
        offset = 10;
      }
      const maskOffset = offset;
      if (masked) offset += 4;
      if (buffered.length < offset + len) return;
      const payload = Buffer.from(buffered.subarray(offset, offset + len));
      if (masked) {
        for (let i = 0; i < payload.length; i++) {
          payload[i] = (payload[i] ?? 0) ^ (buffered[maskOffset + (i % 4)] ?? 0);
        }
      }
      buffered = buffered.subarray(offset + len);
      handleFrame(fin, opcode, payload);
    }
  };

  const handleFrame = (fin: boolean, opcode: number, payload: Buffer): void => {
    if (opcode === OP_CLOSE) {
      writeFrame(OP_CLOSE, payload.subarray(0, 2));
      socket.end();
      finish();
      return;
    }
    if (opcode === OP_PING) {
      writeFrame(OP_PONG, payload);
      return;
    }
    if (opcode === OP_PONG) return;
    if (opcode === OP_TEXT || opcode === OP_BINARY) {
      fragmentOpcode = opcode;
      fragments = [payload];
    } else if (opcode === OP_CONTINUATION && fragmentOpcode !== 0) {
      fragments.push(payload);
    } else {
      return;
    }
    if (fin) {
      const message = Buffer.concat(fragments);
      fragments = [];
      fragmentOpcode = 0;
      handlers.onMessage(message);
    }
  };

  socket.on("data", (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    parse();
  });
  socket.on("close", finish);
  socket.on("error", finish);
  // The client closed its side: Node keeps the socket half-open unless we end ours too.
  socket.on("end", () => {
    socket.end();
    finish();
  });
  if (buffered.length > 0) queueMicrotask(parse);

  return {
    send(data) {
      if (open) writeFrame(OP_BINARY, data);
    },
    close(code = 1000) {
      if (!open) return;
      const payload = Buffer.alloc(2);
      payload.writeUInt16BE(code, 0);
      writeFrame(OP_CLOSE, payload);
      socket.end();
      finish();
    },
    destroy() {
      socket.destroy();
      finish();
    },
    get open() {
      return open;
    },
    socketClosed,
  };
}
