/**
 * Per-key rate limits as a sliding window: at most `limit` calls in any `windowMs`. `reserve` books
 * the earliest free slot and says how long to wait for it. In-process only: across processes,
 * Lark's own 230020 / 429 answers are the backstop (and are retried).
 */
export class RateLimiter {
  private readonly booked = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 1000,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Book a slot on `key`; returns how many milliseconds to wait before using it. */
  reserve(key: string): number {
    const now = this.now();
    const times = (this.booked.get(key) ?? []).filter((t) => t > now - this.windowMs);
    // The slot opens when the call `limit` places back leaves the window.
    const blocker = times.length >= this.limit ? times[times.length - this.limit] : undefined;
    const slot = blocker === undefined ? now : Math.max(now, blocker + this.windowMs);
    times.push(slot);
    this.booked.set(key, times);
    if (this.booked.size > 10_000) this.prune(now);
    return slot - now;
  }

  private prune(now: number) {
    for (const [k, times] of this.booked) {
      if ((times[times.length - 1] ?? 0) <= now - this.windowMs) this.booked.delete(k);
    }
  }
}
