/** Hand-written proto2 codec for the long-connection frame `pbbp2.Frame` (protocol doc §7.6). */

export interface FrameHeader {
  key: string;
  value: string;
}

/** `pbbp2.Frame`; 64-bit ids are kept as JS numbers (the SDK does the same: Long is disabled). */
export interface Frame {
  SeqID: number;
  LogID: number;
  service: number;
  /** 0 = control, 1 = data. */
  method: number;
  headers: FrameHeader[];
  payloadEncoding?: string;
  payloadType?: string;
  payload?: Uint8Array;
  LogIDNew?: string;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8");

// ---- encoding --------------------------------------------------------------------------------

class Writer {
  private chunks: number[] = [];

  varint(value: number): this {
    let v = value;
    if (v < 0) {
      // int32 negatives are encoded as 10-byte two's complement.
      let lo = v >>> 0;
      let hi = 0xffffffff;
      for (let i = 0; i < 9; i++) {
        this.chunks.push((lo & 0x7f) | 0x80);
        lo = ((lo >>> 7) | (hi << 25)) >>> 0;
        hi >>>= 7;
      }
      this.chunks.push(1);
      return this;
    }
    while (v >= 0x80) {
      this.chunks.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.chunks.push(v);
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    for (const b of data) this.chunks.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

function encodeHeader(h: FrameHeader): Uint8Array {
  return new Writer().string(1, h.key).string(2, h.value).finish();
}

/** Serialises a frame with the field numbers of `pbbp2.Frame`. */
export function encodeFrame(f: Frame): Uint8Array {
  const w = new Writer()
    .tag(1, 0)
    .varint(f.SeqID)
    .tag(2, 0)
    .varint(f.LogID)
    .tag(3, 0)
    .varint(f.service)
    .tag(4, 0)
    .varint(f.method);
  for (const h of f.headers) w.bytes(5, encodeHeader(h));
  if (f.payloadEncoding !== undefined) w.string(6, f.payloadEncoding);
  if (f.payloadType !== undefined) w.string(7, f.payloadType);
  if (f.payload !== undefined) w.bytes(8, f.payload);
  if (f.LogIDNew !== undefined) w.string(9, f.LogIDNew);
  return w.finish();
}

// ---- decoding --------------------------------------------------------------------------------

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  byte(): number {
    const b = this.buf[this.pos++];
    if (b === undefined) throw new Error("pbbp2: truncated frame");
    return b;
  }

  /** Varint as a JS number (exact up to 2^53); a 10-byte varint is a negative int32. */
  varint(): number {
    let result = 0;
    let scale = 1;
    let low32 = 0;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if (i < 5) low32 = (low32 | ((b & 0x7f) << (7 * i))) >>> 0;
      if ((b & 0x80) === 0) return i === 9 ? low32 | 0 : result;
      scale *= 128;
    }
    throw new Error("pbbp2: varint too long");
  }

  bytes(): Uint8Array {
    const len = this.varint();
    if (this.pos + len > this.buf.length) throw new Error("pbbp2: truncated bytes field");
    const out = this.buf.slice(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`pbbp2: unsupported wire type ${wireType}`);
  }
}

function decodeHeader(buf: Uint8Array): FrameHeader {
  const r = new Reader(buf);
  const h: FrameHeader = { key: "", value: "" };
  while (!r.done) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    if (field === 1) h.key = fromUtf8.decode(r.bytes());
    else if (field === 2) h.value = fromUtf8.decode(r.bytes());
    else r.skip(tag & 7);
  }
  return h;
}

/** Parses a `pbbp2.Frame`; throws when a required field is missing. */
export function decodeFrame(buf: Uint8Array): Frame {
  const r = new Reader(buf);
  const seen = new Set<number>();
  const f: Frame = { SeqID: 0, LogID: 0, service: 0, method: 0, headers: [] };
  while (!r.done) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    seen.add(field);
    switch (field) {
      case 1:
        f.SeqID = r.varint();
        break;
      case 2:
        f.LogID = r.varint();
        break;
      case 3:
        f.service = r.varint() | 0;
        break;
      case 4:
        f.method = r.varint() | 0;
        break;
      case 5:
        f.headers.push(decodeHeader(r.bytes()));
        break;
      case 6:
        f.payloadEncoding = fromUtf8.decode(r.bytes());
        break;
      case 7:
        f.payloadType = fromUtf8.decode(r.bytes());
        break;
      case 8:
        f.payload = r.bytes();
        break;
      case 9:
        f.LogIDNew = fromUtf8.decode(r.bytes());
        break;
      default:
        r.skip(tag & 7);
    }
  }
  for (const [num, name] of [
    [1, "SeqID"],
    [2, "LogID"],
    [3, "service"],
    [4, "method"],
  ] as const) {
    if (!seen.has(num)) throw new Error(`pbbp2: missing required '${name}'`);
  }
  return f;
}

/** Value of a frame header, if present. */
export function frameHeader(f: Frame, key: string): string | undefined {
  return f.headers.find((h) => h.key === key)?.value;
}
