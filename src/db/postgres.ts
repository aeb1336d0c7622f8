import { drizzle } from "drizzle-orm/postgres-js";
import postgres, { type Sql } from "postgres";
import type { Database, Db } from "./database";
import * as schema from "./schema";

export interface PostgresOptions {
  /** Pool size; Workers use 1 connection per request. */
  max?: number;
  /**
   * Named (cached) prepared statements, per connection (default true). Off where connections live
   * for one request (Workers): a statement would be prepared on every connection anyway.
   */
  prepare?: boolean;
}

/** Open real Postgres through postgres.js. Runs on Node and on Workers (through Hyperdrive). */
export function openPostgres(url: string, opts: PostgresOptions = {}): Database {
  const client = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connect_timeout: 10,
    idle_timeout: 60,
  });
  const db = drizzle(opts.prepare === false ? client : preparing(client), { schema }) as unknown as Db;
  return {
    db,
    kind: "postgres",
    async ping() {
      await client`select 1`;
    },
    async close() {
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
        return (query: string, args?: unknown[], options?: Record<string, unknown>) =>
          // Object.assign, not `{ ...options, prepare }` (lint/no-spread-then-properties.grit).
          target.unsafe(query, args as never, Object.assign({}, options, { prepare: prepare(query) }));
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
