/** Lark webhook crypto (protocol doc §1.4–1.5): AES-256-CBC body encryption and SHA-256 request signatures. */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/** AES key = SHA-256 of the Encrypt Key (32 raw bytes). */
function larkKey(encryptKey: string): Buffer {
  return createHash("sha256").update(encryptKey, "utf8").digest();
}

/** Encrypts like Lark: base64(random 16-byte IV || AES-256-CBC(sha256(key), PKCS#7(plaintext))). */
export function encryptLark(encryptKey: string, plaintext: string): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-256-cbc", larkKey(encryptKey), iv);
  return Buffer.concat([iv, cipher.update(plaintext, "utf8"), cipher.final()]).toString("base64");
}

/** Inverse of {@link encryptLark}; throws on a wrong key or corrupt input. */
export function decryptLark(encryptKey: string, encrypted: string): string {
  const buf = Buffer.from(encrypted, "base64");
  if (buf.length < 32) throw new Error("encrypted payload too short");
  const decipher = createDecipheriv("aes-256-cbc", larkKey(encryptKey), buf.subarray(0, 16));
  return Buffer.concat([decipher.update(buf.subarray(16)), decipher.final()]).toString("utf8");
}

/** `X-Lark-Signature`: lowercase hex SHA-256 of timestamp + nonce + encryptKey + the exact raw body. */
export function signLark(timestamp: string, nonce: string, encryptKey: string, rawBody: string): string {
  return createHash("sha256")
    .update(timestamp + nonce + encryptKey, "utf8")
    .update(rawBody, "utf8")
    .digest("hex");
}
