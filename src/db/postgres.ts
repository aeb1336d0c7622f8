import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import type { Database, Db } from "./database";
import { tunedClient } from "./postgres-client";
import * as schema from "./schema";

export interface PostgresOptions {
  /** Pool size; Workers use 1 connection per request. */
  max?: number;
  /**
   * Named (cached) prepared statements, per connection (default true; see `tunedClient`). Off
   * where connections live for one request (Workers): a statement would be prepared on every
   * connection anyway.
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
  const db = drizzle(tunedClient(client, { prepare: opts.prepare !== false }), { schema }) as unknown as Db;
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
