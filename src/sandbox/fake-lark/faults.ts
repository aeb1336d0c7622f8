/** Fault injection for the fake's business APIs: scripted (`failNext`) and seeded-random faults. */
import type { FaultKind } from "./types";

export type { FaultKind };

/** Small seeded PRNG (mulberry32) so random fault runs are reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Scripted {
  remaining: number;
  kind: FaultKind;
  paths: RegExp | undefined;
}

interface RandomFaults {
  rate: number;
  kinds: FaultKind[];
  paths: RegExp | undefined;
  next: () => number;
}

/** Path filter test that ignores a RegExp's `lastIndex` state (g/y flags). */
function matches(re: RegExp | undefined, path: string): boolean {
  if (!re) return true;
  re.lastIndex = 0;
  return re.test(path);
}

/** Controls the faults the fake injects. */
export class Faults {
  /** Added to every Open API response. */
  latencyMs: number;
  /** How long a "timeout" fault holds the request before dropping the connection. */
  timeoutMs = 10_000;
  private scripted: Scripted[] = [];
  private random: RandomFaults | undefined;
  private readonly baseLatencyMs: number;
  private readonly expireHook: () => void;

  constructor(latencyMs: number, expireHook: () => void) {
    this.latencyMs = latencyMs;
    this.baseLatencyMs = latencyMs;
    this.expireHook = expireHook;
  }

  /** Fault a share `rate` (0..1) of business calls whose path matches `paths`, picking a kind at random. */
  setRandom(opts: { rate: number; kinds: FaultKind[]; seed?: number; paths?: RegExp }): void {
    if (opts.kinds.length === 0) throw new Error("setRandom needs at least one fault kind");
    this.random = {
      rate: opts.rate,
      kinds: [...opts.kinds],
      paths: opts.paths,
      next: mulberry32(opts.seed ?? 1),
    };
  }

  /** Fault the next `n` business calls whose path matches `paths` (all business paths by default). */
  failNext(n: number, kind: FaultKind, paths?: RegExp): void {
    if (n > 0) this.scripted.push({ remaining: n, kind, paths });
  }

  /** Invalidate every issued tenant token: business calls get 99991663 until a new token is fetched. */
  expireAllTokens(): void {
    this.expireHook();
  }

  /** Drop scripted and random faults; latency and timeout go back to their start values. */
  clear(): void {
    this.scripted = [];
    this.random = undefined;
    this.latencyMs = this.baseLatencyMs;
    this.timeoutMs = 10_000;
  }

  /** Decide the fault for one business request (consumes scripted faults first). */
  pick(path: string): FaultKind | undefined {
    const idx = this.scripted.findIndex((s) => matches(s.paths, path));
    const hit = this.scripted[idx];
    if (hit) {
      hit.remaining -= 1;
      if (hit.remaining <= 0) this.scripted.splice(idx, 1);
      return hit.kind;
    }
    const r = this.random;
    if (r && matches(r.paths, path)) {
      const roll = r.next();
      const which = r.next();
      if (roll < r.rate) return r.kinds[Math.floor(which * r.kinds.length)];
    }
    return undefined;
  }
}
