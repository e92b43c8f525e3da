import type { DatabaseType } from './datastore-error.ts'

/** A value bound to a statement parameter, already in the engine's own representation. */
export type SqlValue = string | number | boolean | Date | null

/**
 * Everything in which SQLite and PostgreSQL differ for this schema, in one
 * place. All SQL is written once against this: the schema, the migrations and
 * every query. The differences are few on purpose:
 *
 * - parameters: `?1` in SQLite, `$1` in PostgreSQL (both number them, so one
 *   statement text serves both);
 * - timestamps: `timestamptz` in PostgreSQL, integer milliseconds since the
 *   epoch in SQLite (which has no date type; integers compare and index right);
 * - booleans: `boolean` in PostgreSQL, 0/1 in SQLite (whose `TRUE`/`FALSE`
 *   literals are 1/0, so `banned = TRUE` reads the same on both);
 * - key collation: PostgreSQL compares text by the database's locale unless
 *   told otherwise; `COLLATE "C"` makes it byte order, SQLite's default, so
 *   both engines page through agents in the same order;
 * - row locks and the migration lock, which SQLite does not need: a SQLite
 *   write transaction (`BEGIN IMMEDIATE`) already excludes every other writer;
 * - JSON aggregation, which reads an agent's selectors into its own row.
 */
export interface SqlDialect {
  readonly databaseType: DatabaseType
  /** The parameter marker for the 1-based `position`. */
  placeholder(position: number): string
  /** Column types of the schema. */
  readonly columnTypes: {
    /** Text that is a key or sorted on. */
    readonly key: string
    readonly text: string
    readonly timestamp: string
    readonly boolean: string
  }
  /** Appended to `CREATE TABLE (…)`. */
  readonly tableOptions: string
  /** Appended to a `SELECT` that must lock the rows it reads until the transaction ends. */
  readonly lockRows: string
  /** A statement, run first in the migration transaction, that serializes migrations across processes. */
  readonly migrationLock: string | undefined
  encodeTimestamp(date: Date): SqlValue
  encodeBoolean(value: boolean): SqlValue
  /** `undefined` when `value` is not a timestamp as this engine returns one. */
  decodeTimestamp(value: unknown): Date | undefined
  decodeBoolean(value: unknown): boolean | undefined
  /** `COUNT(*)` as a number (PostgreSQL returns bigint as a string). */
  decodeCount(value: unknown): number | undefined
  /**
   * An aggregate of the rows' `[first, second]` pairs as JSON text, in no particular order; `[]`
   * over no rows.
   */
  jsonPairsAggregate(first: string, second: string): string
}

/**
 * Key of the PostgreSQL advisory lock held while migrating: the ASCII bytes of
 * "k8s-att" as a bigint, unlikely to meet another application's lock.
 */
const MIGRATION_LOCK_KEY = '30179889841796212'

/** SQLite through node:sqlite. */
export const sqliteDialect: SqlDialect = {
  databaseType: 'sqlite3',
  placeholder: (position) => `?${position}`,
  columnTypes: { key: 'TEXT', text: 'TEXT', timestamp: 'INTEGER', boolean: 'INTEGER' },
  // STRICT makes SQLite refuse a value of the wrong type instead of storing it anyway.
  tableOptions: ' STRICT',
  lockRows: '',
  migrationLock: undefined,
  encodeTimestamp: (date) => date.getTime(),
  encodeBoolean: (value) => (value ? 1 : 0),
  decodeTimestamp: (value) => (Number.isSafeInteger(value) ? new Date(value as number) : undefined),
  decodeBoolean: (value) => (value === 1 ? true : value === 0 ? false : undefined),
  decodeCount: (value) => (Number.isSafeInteger(value) ? (value as number) : undefined),
  jsonPairsAggregate: (first, second) => `json_group_array(json_array(${first}, ${second}))`,
}

/** PostgreSQL through pg. */
export const postgresDialect: SqlDialect = {
  databaseType: 'postgres',
  placeholder: (position) => `$${position}`,
  columnTypes: { key: 'TEXT COLLATE "C"', text: 'TEXT', timestamp: 'TIMESTAMPTZ', boolean: 'BOOLEAN' },
  tableOptions: '',
  lockRows: ' FOR UPDATE',
  migrationLock: `SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`,
  encodeTimestamp: (date) => date,
  encodeBoolean: (value) => value,
  decodeTimestamp: (value) => (value instanceof Date && !Number.isNaN(value.getTime()) ? value : undefined),
  decodeBoolean: (value) => (typeof value === 'boolean' ? value : undefined),
  decodeCount: (value) => {
    const count = typeof value === 'string' ? Number(value) : value
    return Number.isSafeInteger(count) ? (count as number) : undefined
  },
  // Text, not json: pg would parse json itself, and both engines' rows then decode alike.
  // json_agg over no rows is NULL, where SQLite's json_group_array is [].
  jsonPairsAggregate: (first, second) =>
    `COALESCE(json_agg(json_build_array(${first}, ${second}))::text, '[]')`,
}

/** A statement and its parameters. */
export interface SqlStatement {
  readonly text: string
  readonly values: readonly SqlValue[]
}

/**
 * Collects parameters while a statement's text is written around them, so
 * markers and values cannot drift apart:
 *
 * ```ts
 * const p = new StatementParameters(dialect)
 * const statement = p.statement(`SELECT … WHERE spiffe_id = ${p.add(spiffeId)}`)
 * ```
 */
export class StatementParameters {
  readonly #dialect: SqlDialect
  readonly #values: SqlValue[] = []

  constructor(dialect: SqlDialect) {
    this.#dialect = dialect
  }

  /** Binds a string or number; returns its marker. */
  add(value: string | number | null): string {
    this.#values.push(value)
    return this.#dialect.placeholder(this.#values.length)
  }

  /** Binds a timestamp in the engine's representation; returns its marker. */
  addTimestamp(date: Date): string {
    this.#values.push(this.#dialect.encodeTimestamp(date))
    return this.#dialect.placeholder(this.#values.length)
  }

  /** Binds an optional timestamp (`NULL` when absent); returns its marker. */
  addOptionalTimestamp(date: Date | undefined): string {
    return date === undefined ? this.add(null) : this.addTimestamp(date)
  }

  /** Binds a boolean in the engine's representation; returns its marker. */
  addBoolean(value: boolean): string {
    this.#values.push(this.#dialect.encodeBoolean(value))
    return this.#dialect.placeholder(this.#values.length)
  }

  /** The statement `text` with the parameters bound so far. */
  statement(text: string): SqlStatement {
    return { text, values: [...this.#values] }
  }
}
