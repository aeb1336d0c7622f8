/**
 * What to do about a failed Lark call (lark-protocol.md §5): wait for the rate-limit window, back
 * off, retry with jitter, or stop for good. Pure: the random source is passed in for tests.
 */

export class LarkApiError extends Error {
  constructor(
    message: string,
    /** Lark's business code; 0 when the failure never reached Lark (network, timeout). */
    readonly code: number,
    /** HTTP status; 0 for network errors and timeouts. */
    readonly httpStatus: number,
    /** Seconds from `x-ogw-ratelimit-reset`, when Lark sent it. */
    readonly retryAfterSeconds?: number,
    readonly logId?: string,
  ) {
    super(message);
    this.name = "LarkApiError";
  }
}

/** Token problems: drop the cached tenant token and try once more. */
export const TOKEN_CODES = new Set([99991661, 99991663, 99991664, 99991671]);

/** Codes that will not heal by retrying: the chat, the bot's rights or the content must change. */
const PERMANENT: Record<number, string> = {
  10003: "invalid parameter",
  10014: "app unauthorized (check LARK_APP_ID / LARK_APP_SECRET)",
  10015: "wrong app secret (LARK_APP_SECRET)",
  99991543: "app id or secret does not exist",
  99991672: "the app lacks a permission scope",
  230001: "invalid request parameter",
  230002: "the bot is not in this chat",
  230006: "the bot ability is not enabled for the app",
  230011: "the message was recalled",
  230012: "the bot did not send this message",
  230013: "the user is outside the app's availability or has left",
  230018: "the group's settings forbid this",
  230022: "the content was flagged as sensitive",
  230025: "the message is too long",
  230027: "no permission",
  230028: "blocked by data-loss prevention",
  230031: "the message is older than 14 days and can no longer be updated",
  230034: "bad receive_id",
  230035: "the bot is muted or blocked in this chat",
  230052: "the bot may not buzz in this group (make it a group admin)",
  230053: "the user stopped the bot's messages",
  230099: "the card content was rejected",
  230110: "the message was deleted",
  232006: "bad chat_id",
  232009: "the chat was dissolved",
  232011: "the bot is not a member of this chat",
};

/** Per-chat or system-wide message rate limits: back off a little and try again. */
const RATE_CODES = new Set([230020, 11232, 11233, 99991400]);

export type Verdict =
  | { action: "retry"; delayMs: number; reason: string }
  | { action: "fail"; reason: string };

/** Exponential backoff with full jitter: attempt 1 → up to 1 s, 2 → 2 s … capped at `capMs`. */
export function backoffMs(attempt: number, random: () => number, capMs = 60_000): number {
  const ceiling = Math.min(capMs, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function classify(err: unknown, attempt: number, random: () => number = Math.random): Verdict {
  if (!(err instanceof LarkApiError)) {
    return { action: "retry", delayMs: backoffMs(attempt, random), reason: String(err) };
  }
  const permanent = PERMANENT[err.code];
  if (permanent) return { action: "fail", reason: `${err.code}: ${permanent}` };
  if (err.httpStatus === 429 || RATE_CODES.has(err.code)) {
    const wait = err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : 1000;
    return {
      action: "retry",
      delayMs: wait + Math.round(random() * 250),
      reason: `rate limited (${err.code || err.httpStatus})`,
    };
  }
  if (TOKEN_CODES.has(err.code)) {
    return { action: "retry", delayMs: backoffMs(attempt, random), reason: `token rejected (${err.code})` };
  }
  if (err.httpStatus === 0 || err.httpStatus >= 500) {
    return { action: "retry", delayMs: backoffMs(attempt, random), reason: err.message };
  }
  // Any other 4xx business error is treated as permanent: retrying an invalid call repeats it.
  return { action: "fail", reason: `${err.code || err.httpStatus}: ${err.message}` };
}
