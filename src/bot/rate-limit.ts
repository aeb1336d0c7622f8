/**
 * Per-key rate limits (GCRA): `rate` calls per second with bursts up to `burst`. `reserve` books
 * the next slot and says how long to wait for it. In-process only: across processes, Lark's own
 * 230020 / 429 answers are the backstop (and are retried).
 */
export class RateLimiter {
  private readonly tat = new Map<string, number>();
  private readonly interval: number;
  private readonly tolerance: number;

  constructor(
    rate: number,
    burst = rate,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.interval = 1000 / rate;
    this.tolerance = this.interval * (burst - 1);
  }

  /** Milliseconds until a call on `key` may start, without booking it. */
  peek(key: string): number {
    const now = this.now();
    const tat = Math.max(this.tat.get(key) ?? now, now);
    return Math.max(0, tat - this.tolerance - now);
  }

  /** Book a slot on `key`; returns how many milliseconds to wait before using it. */
  reserve(key: string): number {
    const now = this.now();
    const tat = Math.max(this.tat.get(key) ?? now, now);
    const wait = Math.max(0, tat - this.tolerance - now);
    this.tat.set(key, tat + this.interval);
    if (this.tat.size > 10_000) this.prune(now);
    return wait;
  }

  private prune(now: number) {
    for (const [k, t] of this.tat) if (t < now) this.tat.delete(k);
  }
}
