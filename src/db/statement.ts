import { getTableColumns, type Query, type SQL, sql } from "drizzle-orm";
import { type PgColumn, PgDialect, type PgTable } from "drizzle-orm/pg-core";
import type { DbOrTx } from "./database";

/**
 * A statement of a hot path — a card tap's batch runs a dozen — whose SQL is built once.
 *
 * Drizzle builds a statement's text anew every time it runs, walking the template's chunks and
 * checking each one's kind, and maps a select builder's rows field by field the same way. For a
 * batch of 50 taps that was a third of the Node side of its database work: replaying one batch's
 * statements, 2.8–3.0 ms of Node CPU through drizzle's builders, 2.1–2.3 ms through these, 1.4–1.8 ms
 * as bare text to postgres.js (bench/RESULTS.md, tenth session).
 *
 * Here `build` writes the statement with drizzle's `sql` as anywhere else (tables and columns from
 * the schema), with `p(name)` where a value goes; the text is built from it on first use, and a
 * run only fills in the values and hands text and values to the driver through the session's own
 * `prepareQuery` — the path `db.execute` takes — so it runs in the transaction it is given,
 * prepared on its connection like every other statement. Rows come back as the driver gives them
 * for a raw statement (timestamps as text, as `db.execute` returns them).
 */
export class Statement<V extends Record<string, unknown>> {
  private query: Query | undefined;

  constructor(private readonly build: (p: (name: keyof V & string) => SQL) => SQL) {}

  /** The statement's text and its parameters' placeholders (built on first use). */
  get text(): Query {
    this.query ??= dialect.sqlToQuery(this.build((name) => sql`${sql.placeholder(name)}`));
    return this.query;
  }

  async rows<T>(db: DbOrTx, values: V): Promise<T[]> {
    const result = (await db._.session
      .prepareQuery(this.text, undefined, undefined, false)
      .execute(values)) as unknown as { rows: T[] } | T[];
    return Array.isArray(result) ? result : result.rows;
  }

  async run(db: DbOrTx, values: V): Promise<void> {
    await db._.session.prepareQuery(this.text, undefined, undefined, false).execute(values);
  }
}

/** The default dialect, as `drizzle()` configures it (no casing). */
const dialect = new PgDialect();

/**
 * A table's rows as `select` returns them, from a raw statement: `columns` is the select list
 * (every column, by its database name) and `map` turns a raw row into the typed row — each value
 * decoded by its column, as drizzle decodes a builder's (timestamps to `Date`) — in one loop over
 * the columns worked out once.
 */
export interface TableRows<R> {
  columns: SQL;
  /** The select list with every column prefixed by `alias` (for statements that join). */
  of(alias: string): SQL;
  map(raw: Record<string, unknown>): R;
}

export function tableRows<T extends PgTable>(table: T): TableRows<T["$inferSelect"]> {
  const fields = Object.entries(getTableColumns(table) as Record<string, PgColumn>);
  const names: string[] = [];
  const keys: string[] = [];
  const decoders: PgColumn[] = [];
  for (const [key, column] of fields) {
    names.push(column.name);
    keys.push(key);
    decoders.push(column);
  }
  return {
    columns: sql.raw(names.map((n) => `"${n}"`).join(", ")),
    of: (alias) => sql.raw(names.map((n) => `${alias}."${n}"`).join(", ")),
    map(raw) {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < keys.length; i++) {
        const value = raw[names[i] as string];
        out[keys[i] as string] =
          value === null || value === undefined ? null : (decoders[i] as PgColumn).mapFromDriverValue(value);
      }
      return out as T["$inferSelect"];
    },
  };
}
