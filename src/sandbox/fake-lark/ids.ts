/** Identifier generators shaped like real Lark ids. */
import { createHash, randomBytes, randomUUID } from "node:crypto";

/** `n` random lowercase hex characters. */
export function randomHex(n: number): string {
  return randomBytes(Math.ceil(n / 2))
    .toString("hex")
    .slice(0, n);
}

/** Deterministic 32-hex digest of the parts (for derived ids such as p2p chat ids). */
export function stableHex(...parts: string[]): string {
  return createHash("md5").update(parts.join("\u0000")).digest("hex");
}

export const newMessageId = (): string => `om_${randomHex(32)}`;
export const newEventId = (): string => randomHex(32);
export const newTenantToken = (): string => `t-g${randomHex(39)}`;
export const newCardToken = (): string => `c-${randomHex(40)}`;
export const newUuid = (): string => randomUUID();
export const unionIdFor = (openId: string): string => `on_${stableHex("union", openId)}`;
export const userIdFor = (openId: string): string => stableHex("user", openId).slice(0, 8);

/** A log id like `20240913161357977 8D691D6E05516DE2D`: UTC timestamp digits + uppercase hex. */
export function newLogId(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:TZ.]/g, "")
    .slice(0, 17);
  return stamp + randomHex(17).toUpperCase();
}
