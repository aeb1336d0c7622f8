import type { Sql } from "postgres";

/**
 * The postgres.js client Drizzle is given: the same client, with two changes on the hot paths.
 *
 * **Named statements.** Drizzle's postgres-js driver runs statements with `prepare: false` (unless
 * a query is explicitly named), and postgres.js then sends a parameterised statement's
 * Parse + Describe alone and waits for the parameter types before it can Bind: two round trips per
 * statement, and nothing pipelined behind it. A cached statement is bound at once: one round trip,
 * statements sent together travel together, and the server reuses its parse (and after a few runs
 * its plan). Every distinct text stays prepared on its connection until postgres.js recycles it
 * (`max_lifetime`, 30–60 min); texts that vary with the number of values (`in ($1, $2, …)`) would
 * grow that set, so only the first `MAX_PREPARED` distinct texts are prepared — the hot paths come
 * first — and later ones run unnamed. Off with `prepare: false` (`DATABASE_PREPARE=off`).
 *
 * **Transactions whose BEGIN travels with their first statements.** postgres.js's `begin` sends
 * BEGIN and waits for it before running the callback. Here a transaction reserves a connection,
 * sends BEGIN without waiting, and the callback's statements follow on the same connection (which
 * runs them in the order they are sent); COMMIT when the callback resolves, ROLLBACK when it
 * throws. Measured: taps 35–40 % faster (bench/RESULTS.md).
 */
export const MAX_PREPARED = 500;

export interface ClientOptions {
  prepare: boolean;
  /** Distinct statement texts prepared so far (shared by the pool and its transactions). */
  prepared?: { seen: Set<string>; max: number };
}

export function tunedClient<T extends Sql>(sql: T, opts: ClientOptions): T {
  const prepared = opts.prepared ?? { seen: new Set<string>(), max: MAX_PREPARED };
  const prepare = (query: string) => {
    if (!opts.prepare) return false;
    if (prepared.seen.has(query)) return true;
    if (prepared.seen.size >= prepared.max) return false;
    prepared.seen.add(query);
    return true;
  };
  const inner = (tx: Sql) => tunedClient(tx, { ...opts, prepared });
  return new Proxy(sql, {
    get(target, prop, receiver) {
      if (prop === "unsafe") {
        return (query: string, args?: unknown[], options?: Record<string, unknown>) =>
          target.unsafe(query, args as never, { ...options, prepare: prepare(query) });
      }
      if (prop === "begin") return (...args: unknown[]) => begin(target, inner, args);
      if (prop === "savepoint") {
        const savepoint = Reflect.get(target, prop, receiver) as (...a: unknown[]) => unknown;
        return (...args: unknown[]) => {
          const fn = args.pop() as (tx: Sql) => unknown;
          return savepoint.call(target, ...args, (tx: Sql) => fn(inner(tx)));
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

async function begin(sql: Sql, inner: (tx: Sql) => Sql, args: unknown[]): Promise<unknown> {
  const fn = args.pop() as (tx: Sql) => unknown;
  const options = typeof args[0] === "string" ? args[0].replace(/[^a-z ]/gi, "") : "";
  const conn = await sql.reserve();
  try {
    const begun = conn.unsafe(`begin ${options}`).execute();
    let result: unknown;
    try {
      result = await fn(inner(conn as unknown as Sql));
      await begun;
    } catch (err) {
      await begun.catch(() => {});
      await conn.unsafe("rollback").catch(() => {});
      throw err;
    }
    // A transaction that a statement aborted answers COMMIT with ROLLBACK, not with an error.
    const done = await conn.unsafe("commit");
    if (done.command !== "COMMIT") throw new Error(`transaction ended with ${done.command}, not COMMIT`);
    return result;
  } finally {
    conn.release();
  }
}
