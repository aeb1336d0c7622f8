import type { DispatchLists } from "../../db/queries/department-cards";

/**
 * What a tap's answer card needs beyond the rows its batch locks anyway, kept between batches by
 * the process that committed them: the departments a whistle summoned, and a dispatch's listed
 * report-ins and notes. With them a batch renders its answers from what it loaded and changed —
 * while its writes and COMMIT are on their way — instead of reading every card back after its
 * writes (bench/tap: that read and the wait for it were a fifth of a spread tap's cost).
 *
 * Never trusted blindly: a whistle's summoned departments never change once it exists (only the
 * names, which the batch reads fresh), and a dispatch's lists are used only when the counts read
 * under its row lock equal the counts they were stored with — report-ins and notes are only ever
 * added, each by a holder of that lock, so equal counts mean the same rows. Entries are stored only
 * after their transaction committed, and name the row they belong to (a database emptied under a
 * running process reuses ids). Anything not known for sure is read again, as before.
 */
export interface Summoned {
  id: number;
  departmentId: number;
}

/** A dispatch's lists as of a commit, and which row they belong to. */
export interface KnownLists extends Required<DispatchLists> {
  whistleId: number;
  createdAt: number;
}

export interface KnownSummoned {
  createdAt: number;
  summoned: Summoned[];
}

export class CardCache {
  private readonly summoned: Lru<number, KnownSummoned>;
  private readonly lists: Lru<number, KnownLists>;

  constructor(size: { whistles: number; dispatches: number } = { whistles: 1_000, dispatches: 4_000 }) {
    this.summoned = new Lru(size.whistles);
    this.lists = new Lru(size.dispatches);
  }

  summonedOf(whistleId: number, createdAt: Date): Summoned[] | undefined {
    const k = this.summoned.get(whistleId);
    return k && k.createdAt === createdAt.getTime() ? k.summoned : undefined;
  }

  listsOf(dispatchId: number, row: { whistleId: number; createdAt: Date }): KnownLists | undefined {
    const k = this.lists.get(dispatchId);
    return k && k.whistleId === row.whistleId && k.createdAt === row.createdAt.getTime() ? k : undefined;
  }

  /** The summoned departments stored for this whistle id, not yet checked against its row. */
  peekSummoned(whistleId: number): Summoned[] | undefined {
    return this.summoned.peek(whistleId)?.summoned;
  }

  /** Has lists for this dispatch id (not checked against a row: for deciding what to load). */
  hasLists(dispatchId: number): boolean {
    return this.lists.has(dispatchId);
  }

  forgetLists(dispatchId: number): void {
    this.lists.delete(dispatchId);
  }

  forgetSummoned(whistleId: number): void {
    this.summoned.delete(whistleId);
  }

  storeSummoned(whistleId: number, value: KnownSummoned): void {
    this.summoned.set(whistleId, value);
  }

  storeLists(dispatchId: number, value: KnownLists): void {
    this.lists.set(dispatchId, value);
  }
}

/** A map that forgets its least recently used entries beyond `max`. */
class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  /** The value without marking it used. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }
}
