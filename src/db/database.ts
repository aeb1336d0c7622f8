import { type ExtractTablesWithRelations, type SQL, sql } from "drizzle-orm";
import type { PgColumn, PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import type * as schema from "./schema";

export type Schema = typeof schema;

/** The Drizzle handle every query takes: the same type for PGlite and postgres.js. */
export type Db = PgDatabase<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

/** A transaction handle; queries accept `Db | Tx` so they compose inside a transaction. */
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

export type DbOrTx = Db | Tx;

export type DbKind = "pglite" | "postgres";

/**
 * Run `fn` in one transaction, like `db.transaction`, with one difference: `fn` may call `seal()`
 * once it has STARTED every statement it will ever run (it may still be waiting for their
 * results). The commit is then sent right behind them instead of after `fn` returns, saving the
 * round trip of a COMMIT sent on its own. Statements started after `seal()` are refused with an
 * error; if any statement fails, the server turns the COMMIT into a ROLLBACK and this rejects.
 * BEGIN travels with the first statements too. `fn` throwing before `seal()` rolls back; once sealed,
 * the outcome is the COMMIT's (`TransactionSealedError` when `fn` throws after a successful commit).
 */
export type SealableTransaction = <T>(fn: (tx: Tx, seal: () => void) => Promise<T>) => Promise<T>;

/** `fn` failed after `seal()`, but its transaction had committed: its writes stand. */
export class TransactionSealedError extends Error {
  constructor(override readonly cause: unknown) {
    super(
      `failed after its transaction committed: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = "TransactionSealedError";
  }
}

/** An open database: the Drizzle handle plus what the entries need to watch and close it. */
export interface Database {
  db: Db;
  kind: DbKind;
  /** Postgres through postgres.js only (see `SealableTransaction`); elsewhere `db.transaction`. */
  sealableTransaction?: SealableTransaction;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The rows of a raw statement, whichever driver ran it (PGlite answers `{ rows }`, postgres.js an array). */
export async function executeRows<T>(db: DbOrTx, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] } | T[];
  return Array.isArray(result) ? result : result.rows;
}

/**
 * `column = any($1::type[])`: a list of values as ONE array parameter. Unlike `inArray`'s
 * `in ($1, $2, …)`, the statement's text is the same however many values there are, so Postgres
 * parses (and on a prepared connection plans) it once — for statements on hot paths.
 */
export function anyOf(column: PgColumn, values: readonly (number | string)[]): SQL {
  return sql`${column} = any(${sql.param(values)}::${sql.raw(column.getSQLType())}[])`;
}

/** A column's bare name (no table prefix), for the column list of an `insert … select` written as SQL. */
export function columnName(column: { name: string }): SQL {
  return sql`${sql.identifier(column.name)}`;
}
