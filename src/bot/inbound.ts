import { z } from "zod";
import { type Envelope, envelopeSchema } from "./events";
import { decryptLark, larkSignature, timingSafeEqual } from "./lark-crypto";

/**
 * Open one webhook POST the way lark-protocol.md §1 describes: url_verification answered from the
 * token alone; everything else signature-checked over the raw bytes (when an Encrypt Key is set),
 * timestamp-checked, decrypted, and token-checked. Pure apart from WebCrypto: no I/O, no clock.
 */

export type Opened =
  | { kind: "challenge"; challenge: string }
  | { kind: "envelope"; envelope: Envelope }
  | { kind: "reject"; status: 400 | 401; reason: string };

export interface OpenOptions {
  verificationToken: string;
  encryptKey: string | undefined;
  now: Date;
  /** Accepted clock difference for X-Lark-Request-Timestamp, in seconds (default 300). */
  maxSkewSeconds?: number;
}

const challengeSchema = z.object({
  type: z.literal("url_verification"),
  challenge: z.string(),
  token: z.string().optional(),
});

const reject = (status: 400 | 401, reason: string): Opened => ({ kind: "reject", status, reason });

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Header timestamps are Unix seconds; a 13-digit value is read as milliseconds. */
function timestampSeconds(value: string): number | undefined {
  if (!/^\d{9,13}$/.test(value)) return undefined;
  const n = Number(value);
  return value.length >= 13 ? n / 1000 : n;
}

export async function openInbound(raw: Uint8Array, headers: Headers, opts: OpenOptions): Promise<Opened> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch {
    return reject(400, "body is not UTF-8");
  }
  const outer = parseJson(text);
  if (!isObject(outer)) return reject(400, "body is not a JSON object");

  const signature = headers.get("x-lark-signature");
  const timestamp = headers.get("x-lark-request-timestamp");
  const nonce = headers.get("x-lark-request-nonce");
  const encryptKey = opts.encryptKey;

  // Signed requests: check the signature over the exact bytes and the clock before anything else.
  if (encryptKey && signature !== null) {
    if (timestamp === null || nonce === null) return reject(401, "signature without timestamp or nonce");
    const ts = timestampSeconds(timestamp);
    if (ts === undefined) return reject(401, "bad X-Lark-Request-Timestamp");
    const skew = Math.abs(opts.now.getTime() / 1000 - ts);
    if (skew > (opts.maxSkewSeconds ?? 300))
      return reject(401, `stale timestamp (${Math.round(skew)} s off)`);
    const expected = await larkSignature(timestamp, nonce, encryptKey, raw);
    if (!timingSafeEqual(expected, signature.toLowerCase())) return reject(401, "signature mismatch");
  }

  let plain: unknown = outer;
  if (typeof outer.encrypt === "string") {
    if (!encryptKey) return reject(400, "encrypted body but LARK_ENCRYPT_KEY is not configured");
    let decrypted: string;
    try {
      decrypted = await decryptLark(encryptKey, outer.encrypt);
    } catch {
      return reject(401, "cannot decrypt body (wrong LARK_ENCRYPT_KEY?)");
    }
    plain = parseJson(decrypted);
    if (!isObject(plain)) return reject(400, "decrypted body is not a JSON object");
  } else if (encryptKey) {
    // With an Encrypt Key configured, Lark encrypts every body, the challenge included.
    return reject(401, "plaintext body while LARK_ENCRYPT_KEY is configured");
  }

  // Only a url_verification body is parsed as one (a failed parse of every event costs its issues).
  const challenge =
    (plain as { type?: unknown }).type === "url_verification" ? challengeSchema.safeParse(plain) : undefined;
  if (challenge?.success) {
    if (!timingSafeEqual(challenge.data.token ?? "", opts.verificationToken)) {
      return reject(401, "url_verification token mismatch");
    }
    return { kind: "challenge", challenge: challenge.data.challenge };
  }

  if (encryptKey && signature === null) return reject(401, "missing X-Lark-Signature");

  const env = envelopeSchema.safeParse(plain);
  if (!env.success) return reject(400, "not a schema 2.0 event or callback");
  if (!timingSafeEqual(env.data.header.token ?? "", opts.verificationToken)) {
    return reject(401, "verification token mismatch");
  }
  return { kind: "envelope", envelope: env.data };
}
