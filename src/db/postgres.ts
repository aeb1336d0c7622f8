import { drizzle } from "drizzle-orm/postgres-js";
import { PostgresJsSession, PostgresJsTransaction } from "drizzle-orm/postgres-js/session";
import postgres, { type ReservedSql, type Sql } from "postgres";
import { nextMacrotask } from "../next-macrotask";
import { type Database, type Db, TransactionSealedError, type Tx } from "./database";
import * as schema from "./schema";

export interface PostgresOptions {
  /** Pool size; Workers use 1 connection per request. */
  max?: number;
  /**
   * Named (cached) prepared statements, per connection (default true). Off where connections live
   * for one request (Workers): a statement would be prepared on every connection anyway.
   */
  prepare?: boolean;
  /**
   * How many connections sealable transactions keep reserved between them (see
   * `ConnectionKeeper`); default: up to 4, at most half the pool. 0 where connections live for one
   * request (Workers).
   */
  keep?: number;
  /** How long a kept connection may sit idle before it goes back to the pool (default 1 s). */
  keepIdleMs?: number;
}

/** Open real Postgres through postgres.js. Runs on Node and on Workers (through Hyperdrive). */
export function openPostgres(url: string, opts: PostgresOptions = {}): Database {
  const max = opts.max ?? 10;
  const client = postgres(url, {
    max,
    onnotice: () => {},
    connect_timeout: 10,
    idle_timeout: 60,
  });
  const texts = { seen: new Set<string>(), max: MAX_PREPARED };
  const db = drizzle(opts.prepare === false ? client : preparing(client, texts), { schema }) as unknown as Db;
  const keeper = new ConnectionKeeper(
    opts.keep ?? Math.min(KEEP_MAX, Math.floor(max / 2)),
    opts.keepIdleMs ?? KEEP_IDLE_MS,
  );
  return {
    db,
    kind: "postgres",
    sealableTransaction: (fn) =>
      sealableTransaction(client, keeper, db, opts.prepare === false ? undefined : texts, fn),
    async ping() {
      await client`select 1`;
    },
    async close() {
      keeper.releaseAll();
      await client.end({ timeout: 5 });
    },
  };
}

/**
 * The client Drizzle is given, with every statement prepared and cached on its connection.
 *
 * Drizzle's postgres-js driver runs its statements with `prepare: false` (unless a query is
 * explicitly named), and postgres.js then sends a parameterised statement's Parse + Describe alone
 * and waits for the parameter types before it can Bind: two round trips per statement, and no
 * pipelining behind it. A cached statement is bound at once: one round trip, statements sent
 * together travel together, and the server reuses its parse (and, after a few runs, its plan).
 *
 * Every distinct statement text stays prepared on its connection until postgres.js recycles it
 * (`max_lifetime`, 30–60 min). Texts that vary with the number of values (`in ($1, $2, …)`) would
 * grow that set, so only the first `MAX_PREPARED` distinct texts are prepared — the hot paths come
 * first — and later ones run unnamed, as before. Transactions and savepoints hand out their own
 * clients: wrapped too.
 */
export const MAX_PREPARED = 500;

export function preparing<T extends Sql>(
  sql: T,
  texts: { seen: Set<string>; max: number } = { seen: new Set(), max: MAX_PREPARED },
  /** Called with every statement before it starts; throws to refuse it. */
  guard?: (query: string) => void,
): T {
  const prepare = (query: string) => {
    if (texts.seen.has(query)) return true;
    if (texts.seen.size >= texts.max) return false;
    texts.seen.add(query);
    return true;
  };
  return new Proxy(sql, {
    get(target, prop, receiver) {
      if (prop === "unsafe") {
        return (query: string, args?: unknown[], options?: Record<string, unknown>) => {
          guard?.(query);
          // Object.assign, not `{ ...options, prepare }` (lint/no-spread-then-properties.grit).
          return target.unsafe(query, args as never, Object.assign({}, options, { prepare: prepare(query) }));
        };
      }
      if (prop === "begin" || prop === "savepoint") {
        const original = Reflect.get(target, prop, receiver) as (...a: unknown[]) => unknown;
        return (...a: unknown[]) => {
          const fn = a.pop() as (tx: Sql) => unknown;
          return original.call(target, ...a, (tx: Sql) => fn(preparing(tx, texts)));
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

/**
 * `SealableTransaction` on postgres.js: the transaction runs on a reserved connection whose
 * BEGIN, statements and COMMIT we send ourselves, so none of them waits for the one before.
 * (postgres.js's `begin` waits for BEGIN's answer before the first statement, and drizzle's
 * transaction sends COMMIT only once the callback has returned — two round trips per transaction
 * in which neither side works.)
 *
 * Order on the connection is the order statements reach postgres.js, a few microtasks after they
 * are started (drizzle's and postgres.js's promise hops). So `seal()` waits for a macrotask — every
 * statement started before it has then been handed to the connection — before it refuses further
 * statements and sends COMMIT behind them.
 */
async function sealableTransaction<T>(
  client: Sql,
  keeper: ConnectionKeeper,
  db: Db,
  texts: { seen: Set<string>; max: number } | undefined,
  fn: (tx: Tx, seal: () => void) => Promise<T>,
): Promise<T> {
  const kept = keeper.take();
  const conn = kept?.conn ?? (await client.reserve());
  let sealed = false;
  /**
   * The connection closed under us (a server restart, a dropped network). postgres.js rejects what
   * was in flight, but a reserved connection does not know it closed: a statement sent on it after
   * that, or releasing it into the pool, throws from a timer (`socket` is null) and takes the
   * process down. So nothing more is sent on it and it is not released (the pool has it as closed).
   */
  let lost = false;
  let commit: Promise<{ command: string }> | undefined;
  let sealing: Promise<void> | undefined;
  const guard = (query: string) => {
    if (lost) throw new Error(`connection lost: ${query.slice(0, 80)}`);
    if (sealed) throw new Error(`statement started after its transaction was sealed: ${query.slice(0, 80)}`);
  };
  // Without `texts` (connections that must not prepare), an empty allowance: every statement unnamed.
  const sql = preparing(conn as unknown as Sql, texts ?? { seen: new Set(), max: 0 }, guard);
  // Drizzle's own session and transaction classes on our connection: the handle handlers get is a
  // regular transaction (no nested transactions: a reserved connection has no savepoints).
  const inner = db as unknown as { dialect: never; session: { schema: never; options: never } };
  const session = new PostgresJsSession(
    sql as never,
    inner.dialect,
    inner.session.schema,
    inner.session.options,
  );
  const tx = new PostgresJsTransaction(
    inner.dialect,
    session as never,
    inner.session.schema,
  ) as unknown as Tx;
  const seal = () => {
    sealing ??= new Promise<void>((resolve) => nextMacrotask(resolve)).then(() => {
      sealed = true;
      if (lost) return;
      commit = conn.unsafe("commit").execute() as unknown as Promise<{ command: string }>;
      commit.catch(() => {}); // awaited below; never an unhandled rejection meanwhile
    });
  };
  // BEGIN also hands us the connection, to hear when it closes (as postgres.js's own `begin` does);
  // `true` keeps postgres.js sending the statements behind it without waiting for its answer.
  // Statements still queued behind a statement waiting for its parameter types (unnamed ones) are
  // never answered once the connection is gone: what waits on them races `closed`.
  let close: (e: unknown) => void = () => {};
  const closed = new Promise<never>((_, reject) => {
    close = reject;
  });
  closed.catch(() => {}); // raced below; never an unhandled rejection
  let heard: Hearing | undefined = kept?.heard;
  const onclose = (e: unknown) => {
    lost = true;
    close(e instanceof Error ? e : new Error("connection lost"));
  };
  // A kept connection is heard from now on (it closed while kept: the keeper dropped it).
  if (heard) heard.onclose = onclose;
  const onexecute = (c: Hearing) => {
    heard = c;
    c.onclose = onclose;
    return true;
  };
  const begin = conn.unsafe("begin", [], { onexecute } as never).execute();
  begin.catch(() => {}); // a failed BEGIN fails the statements behind it, and `fn` with them
  let committed = false;
  try {
    let result: T;
    try {
      result = await Promise.race([fn(tx, seal), closed]);
      await begin;
    } catch (err) {
      if (endsSession(err)) lost = true;
      if (!sealing) {
        sealed = true;
        // A lost connection took its transaction with it: nothing to roll back.
        if (!lost) await Promise.race([conn.unsafe("rollback").execute(), closed]).catch(() => {});
        throw err;
      }
      await sealing;
      // COMMIT was sent. The server rolled back if a statement failed; otherwise it committed.
      const done = commit && (await Promise.race([commit, closed]).catch(() => undefined));
      throw done?.command === "COMMIT" ? new TransactionSealedError(err) : err;
    }
    seal();
    await sealing;
    if (!commit) throw new Error("connection lost before COMMIT");
    const done = await Promise.race([commit, closed]);
    // The server answers a COMMIT of a failed transaction with ROLLBACK (and no error).
    if (done.command !== "COMMIT") throw new Error(`transaction not committed (${done.command})`);
    committed = true;
    return result;
  } finally {
    // The pooled connection outlives the transaction: no longer listening, it must not keep the
    // transaction reachable (through `closed`, the batch's results — every answer and its card —
    // stayed alive until the connection's next transaction, long enough to be promoted to V8's
    // old generation).
    if (heard?.onclose === onclose) heard.onclose = null;
    // After a COMMIT's answer nothing is in flight on it: kept for the next transaction. After a
    // failure, back to the pool (a rollback may not have been answered).
    if (!lost) {
      if (committed && heard) keeper.put(conn, heard);
      else conn.release();
    }
  }
}

/** postgres.js's connection object, as handed to a statement's `onexecute`: it calls `onclose`. */
interface Hearing {
  onclose?: ((e: unknown) => void) | null;
}

/** At most this many connections kept reserved between sealable transactions (see below). */
const KEEP_MAX = 4;
/** A kept connection idle this long goes back to the pool. */
const KEEP_IDLE_MS = 1000;

/**
 * The connections sealable transactions ran on, kept reserved for the next ones, the most recently
 * used first. postgres.js's pool hands out the connection idle longest, so one batch after another
 * ran on each of the pool's connections in turn — each a server process whose memory had gone cold
 * (and whose plan cache had made its own choices) since its last turn; a burst of taps now runs its
 * batches on the same one or two (bench/tap: spread taps +10 %). Kept connections return to the
 * pool after `KEEP_IDLE_MS` idle, and never more than `max` are kept (the rest of the pool serves
 * everything else). One that closes while kept is dropped — never sent on, never released into the
 * pool (which has it as closed).
 */
class ConnectionKeeper {
  private readonly idle: { conn: ReservedSql; heard: Hearing; since: number }[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly max: number,
    private readonly ms: number,
  ) {}

  /** The connection kept last, if any (the caller listens to it from now on). */
  take(): { conn: ReservedSql; heard: Hearing } | undefined {
    return this.idle.pop();
  }

  /** Keep a connection whose transaction is over (or release it when enough are kept). */
  put(conn: ReservedSql, heard: Hearing): void {
    if (this.max <= 0) {
      conn.release();
      return;
    }
    const entry = { conn, heard, since: Date.now() };
    heard.onclose = () => {
      const i = this.idle.indexOf(entry);
      if (i >= 0) this.idle.splice(i, 1);
    };
    this.idle.push(entry);
    if (this.idle.length > this.max) this.release(this.idle.shift());
    this.schedule();
  }

  /** Give every kept connection back to the pool (before the pool is ended). */
  releaseAll(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const entry of this.idle.splice(0)) this.release(entry);
  }

  private release(entry: { conn: ReservedSql; heard: Hearing } | undefined): void {
    if (!entry) return;
    entry.heard.onclose = null;
    entry.conn.release();
  }

  private schedule(): void {
    if (this.timer || this.idle.length === 0) return;
    const oldest = this.idle[0]?.since ?? Date.now();
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        const now = Date.now();
        while (this.idle.length > 0 && now - (this.idle[0]?.since ?? now) >= this.ms)
          this.release(this.idle.shift());
        this.schedule();
      },
      Math.max(0, oldest + this.ms - Date.now()),
    );
    // Idle connections do not keep a Node process alive (Workers have no `unref`).
    (this.timer as { unref?: () => void }).unref?.();
  }
}

/**
 * An error after which the connection is gone: postgres.js's own (`CONNECTION_CLOSED`, …) or a
 * FATAL one from the server (a terminated backend, a shutdown), which ends the session — its
 * socket may not have closed yet when the error arrives. Looked for under drizzle's wrapper too.
 */
function endsSession(err: unknown): boolean {
  let e = err as { code?: unknown; severity?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 3; depth++) {
    if (e.severity === "FATAL" || e.severity === "PANIC") return true;
    if (typeof e.code === "string" && e.code.startsWith("CONNECTION_")) return true;
    e = e.cause as typeof e;
  }
  return false;
}
