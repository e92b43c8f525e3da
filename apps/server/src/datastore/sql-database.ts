import type { SqlDialect, SqlStatement } from './sql-dialect.ts'

/** One row as the driver returns it, keyed by column name. */
export type SqlRow = Readonly<Record<string, unknown>>

/** What a statement produced. */
export interface SqlResult {
  /** Rows of a `SELECT` or `RETURNING`; empty otherwise. */
  readonly rows: readonly SqlRow[]
  /** Rows inserted, updated or deleted (for a `SELECT`: rows returned). */
  readonly rowCount: number
}

/** Runs statements on one connection. */
export interface SqlSession {
  query(statement: SqlStatement): Promise<SqlResult>
  /** Runs a script of several statements without parameters (a migration). */
  execScript(script: string): Promise<void>
}

/**
 * A database the agent store runs on: one engine adapter per database type
 * (`sqlite-database.ts`, `postgres-database.ts`). Adapters turn driver errors
 * into `DatastoreError`s, so the store above them never sees a driver error.
 */
export interface SqlDatabase extends SqlSession {
  readonly dialect: SqlDialect
  /** Where the database is, for messages: a file path or `host:port/database`, never credentials. */
  readonly target: string
  /**
   * Runs `work` in a write transaction on one connection: committed when it
   * resolves, rolled back when it rejects (with its error). Only `session` may
   * be used inside `work`.
   */
  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T>
  close(): Promise<void>
}
