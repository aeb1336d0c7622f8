import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import type { Database, Db } from "./database";
import * as schema from "./schema";

export interface PostgresOptions {
  /** Pool size; Workers use 1 connection per request. */
  max?: number;
}

/** Open real Postgres through postgres.js. Runs on Node and on Workers (through Hyperdrive). */
export function openPostgres(url: string, opts: PostgresOptions = {}): Database {
  const client = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connect_timeout: 10,
    idle_timeout: 60,
  });
  // Statements run unnamed (Drizzle's default): postgres.js then sends a parameterised statement's
  // Parse + Describe first and binds it a round trip later. Named, cached statements were measured
  // (bench/RESULTS.md, third session): a one-insert route 30 % faster, taps no faster (their cost
  // is Node's CPU); not worth breaking behind transaction-pooling proxies (PgBouncer < 1.21).
  const db = drizzle(client, { schema }) as unknown as Db;
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
