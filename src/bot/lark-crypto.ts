/**
 * Lark webhook cryptography with WebCrypto only (runs on Node ≥ 20 and on Workers):
 * AES-256-CBC decryption of `{"encrypt": …}` bodies and the SHA-256 request signature.
 * See lark-protocol.md §1.4–1.5.
 */

const encoder = new TextEncoder();

function toHex(buf: ArrayBuffer): string {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** AES keys derived from Encrypt Keys (sha256), kept so each request does not derive its own. */
const aesKeys = new Map<string, Promise<CryptoKey>>();

function aesKey(encryptKey: string): Promise<CryptoKey> {
  let key = aesKeys.get(encryptKey);
  if (!key) {
    key = crypto.subtle
      .digest("SHA-256", encoder.encode(encryptKey))
      .then((bytes) => crypto.subtle.importKey("raw", bytes, "AES-CBC", false, ["encrypt", "decrypt"]));
    if (aesKeys.size > 8) aesKeys.clear();
    aesKeys.set(encryptKey, key);
  }
  return key;
}

/** Decrypt an `encrypt` field: base64(iv ‖ AES-256-CBC(sha256(key), iv, pkcs7(plaintext))). Throws on bad input. */
export async function decryptLark(encryptKey: string, encrypted: string): Promise<string> {
  const buf = base64ToBytes(encrypted);
  if (buf.length < 32 || buf.length % 16 !== 0) throw new Error("encrypted payload has a bad length");
  const key = await aesKey(encryptKey);
  const plain = await crypto.subtle.decrypt({ name: "AES-CBC", iv: buf.slice(0, 16) }, key, buf.slice(16));
  return new TextDecoder("utf-8", { fatal: true }).decode(plain);
}

/** Encrypt the way Lark does (random IV). Used by tests and the sandbox to speak to the bot. */
export async function encryptLark(encryptKey: string, plaintext: string): Promise<string> {
  const key = await aesKey(encryptKey);
  const iv = crypto.getRandomValues(new Uint8Array(16));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-CBC", iv }, key, encoder.encode(plaintext)),
  );
  const all = new Uint8Array(16 + ct.length);
  all.set(iv);
  all.set(ct, 16);
  let bin = "";
  for (const b of all) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** X-Lark-Signature: hex(sha256(timestamp + nonce + encryptKey + rawBody)), over the raw body bytes. */
export async function larkSignature(
  timestamp: string,
  nonce: string,
  encryptKey: string,
  rawBody: Uint8Array | string,
): Promise<string> {
  const head = encoder.encode(timestamp + nonce + encryptKey);
  const body = typeof rawBody === "string" ? encoder.encode(rawBody) : rawBody;
  const all = new Uint8Array(head.length + body.length);
  all.set(head);
  all.set(body, head.length);
  return toHex(await crypto.subtle.digest("SHA-256", all));
}

/** Compare two strings without an early exit on the first differing character. */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
