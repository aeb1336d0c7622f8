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
    return this.book(key).wait;
  }

  /** Book a slot on `key`: when it is (for `settle`) and how long to wait for it. */
  book(key: string): { slot: number; wait: number } {
    const now = this.now();
    const times = (this.booked.get(key) ?? []).filter((t) => t > now - this.windowMs);
    // The slot opens when the call `limit` places back leaves the window.
    const blocker = times.length >= this.limit ? times[times.length - this.limit] : undefined;
    const slot = blocker === undefined ? now : Math.max(now, blocker + this.windowMs);
    times.push(slot);
    this.booked.set(key, times);
    if (this.booked.size > 10_000) this.prune(now);
    return { slot, wait: slot - now };
  }

  /**
   * The call booked at `slot` is due (its wait is over): how much longer it must wait because the
   * other calls in the window — at the times they really ended (see `finished`) — leave no room.
   * A call counts from its booking until it ends, then from when it ended: Lark saw it no later
   * than that, however long the token fetch, the network or a busy event loop delayed it.
   */
  stillToWait(key: string, slot: number): number {
    const now = this.now();
    const times = this.booked.get(key);
    const own = times?.indexOf(slot) ?? -1;
    if (!times || own < 0) return 0;
    const others = times.filter((t, i) => i !== own && t > now - this.windowMs && t <= now);
    const blocker = others.length >= this.limit ? others[others.length - this.limit] : undefined;
    return blocker === undefined ? 0 : blocker + this.windowMs - now;
  }

  /** The call booked at `slot` has ended (answered or not): it now counts from this moment. */
  finished(key: string, slot: number): void {
    const times = this.booked.get(key);
    const own = times?.indexOf(slot) ?? -1;
    if (!times || own < 0) return;
    times[own] = Math.max(slot, this.now());
    times.sort((a, b) => a - b);
  }

  private prune(now: number) {
    for (const [k, times] of this.booked) {
      if ((times[times.length - 1] ?? 0) <= now - this.windowMs) this.booked.delete(k);
    }
  }
}
