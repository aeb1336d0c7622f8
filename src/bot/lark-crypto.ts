/**
 * Lark webhook cryptography: AES-256-CBC decryption of `{"encrypt": …}` bodies and the SHA-256
 * request signature (lark-protocol.md §1.4–1.5). `node:crypto`, which Workers provide under
 * `nodejs_compat` (§7.5): synchronous hashing and deciphering cost microseconds per event, where
 * WebCrypto's promise per call (a thread-pool hop on Node) cost about a tenth of a millisecond.
 */
import { Buffer } from "node:buffer";
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/** AES keys derived from Encrypt Keys (sha256), kept so each request does not derive its own. */
const aesKeys = new Map<string, Buffer>();

function aesKey(encryptKey: string): Buffer {
  let key = aesKeys.get(encryptKey);
  if (!key) {
    key = createHash("sha256").update(encryptKey, "utf8").digest();
    if (aesKeys.size > 8) aesKeys.clear();
    aesKeys.set(encryptKey, key);
  }
  return key;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decrypt an `encrypt` field: base64(iv ‖ AES-256-CBC(sha256(key), iv, pkcs7(plaintext))). Throws on bad input. */
export async function decryptLark(encryptKey: string, encrypted: string): Promise<string> {
  const buf = Buffer.from(encrypted, "base64");
  if (buf.length < 32 || buf.length % 16 !== 0) throw new Error("encrypted payload has a bad length");
  const decipher = createDecipheriv("aes-256-cbc", aesKey(encryptKey), buf.subarray(0, 16));
  const plain = Buffer.concat([decipher.update(buf.subarray(16)), decipher.final()]);
  return utf8.decode(plain);
}

/** Encrypt the way Lark does (random IV). Used by tests and the sandbox to speak to the bot. */
export async function encryptLark(encryptKey: string, plaintext: string): Promise<string> {
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-256-cbc", aesKey(encryptKey), iv);
  return Buffer.concat([iv, cipher.update(plaintext, "utf8"), cipher.final()]).toString("base64");
}

/** X-Lark-Signature: hex(sha256(timestamp + nonce + encryptKey + rawBody)), over the raw body bytes. */
export async function larkSignature(
  timestamp: string,
  nonce: string,
  encryptKey: string,
  rawBody: Uint8Array | string,
): Promise<string> {
  return createHash("sha256")
    .update(timestamp + nonce + encryptKey, "utf8")
    .update(rawBody)
    .digest("hex");
}

/** Compare two strings without an early exit on the first differing character. */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
