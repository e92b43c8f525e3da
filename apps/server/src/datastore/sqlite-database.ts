import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite'
import { DatastoreError, type DatastoreErrorCode } from './datastore-error.ts'
import type { DatastoreLogger } from './datastore-logger.ts'
import type { SqlDatabase, SqlResult, SqlSession } from './sql-database.ts'
import { type SqlStatement, sqliteDialect } from './sql-dialect.ts'
import { sqlitePathFromConnectionString } from './sqlite-connection-string.ts'

/** Options of {@link openSqliteDatabase}. */
export interface SqliteDatabaseOptions {
  /** How long a statement waits for another process's write lock before failing with `ATT_ERR_DATASTORE_TIMEOUT`. */
  readonly busyTimeoutMs: number
  readonly logger: DatastoreLogger
}

/** Prepared statements kept per connection; the query shapes are few, this only bounds a misuse. */
const STATEMENT_CACHE_SIZE = 128

/** A cached prepared statement, and whether it returns rows. */
interface PreparedStatement {
  readonly prepared: StatementSync
  readonly returnsRows: boolean
}

/**
 * Opens (creating it, and its directory, if missing) the SQLite database at
 * `connectionString`, set up for a server: WAL, so readers never wait for the
 * writer; `synchronous=NORMAL`, which in WAL mode stays consistent on power
 * loss and writes about 3.4× faster than FULL on these machines (it may lose
 * the last transactions, which agents recover from by attesting again);
 * foreign keys on, so evicting an agent deletes its selectors; and a busy
 * timeout, so two processes on one file wait for each other instead of failing.
 *
 * node:sqlite is synchronous: each statement blocks the event loop while it
 * runs, which is fine for statements that touch a handful of rows by index.
 * For the same reason, open one handle per process: a second handle in the
 * same process waiting for the first one's write lock would block the very
 * thread that has to release it. Separate processes on one file are fine.
 *
 * @throws {DatastoreError} `ATT_ERR_DATASTORE_CONFIG_INVALID` for an unusable path, `ATT_ERR_DATASTORE_UNREACHABLE` when the file cannot be opened.
 */
export function openSqliteDatabase(connectionString: string, options: SqliteDatabaseOptions): SqlDatabase {
  const path = sqlitePathFromConnectionString(connectionString)
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  } catch (error) {
    throw new DatastoreError(
      'ATT_ERR_DATASTORE_UNREACHABLE',
      `cannot create the directory of SQLite database ${path}: ${(error as Error).message}`,
      { databaseType: 'sqlite3', target: path, check: 'directory', cause: error },
    )
  }
  let database: DatabaseSync | undefined
  try {
    database = new DatabaseSync(path, { timeout: options.busyTimeoutMs, enableForeignKeyConstraints: true })
    const { journal_mode: journalMode } = database.prepare('PRAGMA journal_mode = WAL').get() ?? {}
    if (journalMode !== 'wal') {
      options.logger.warn(
        { target: path, journal_mode: journalMode },
        `SQLite database ${path} refused WAL mode; readers will wait for writers`,
      )
    }
    database.exec('PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON')
  } catch (error) {
    database?.close()
    throw new DatastoreError(
      'ATT_ERR_DATASTORE_UNREACHABLE',
      `cannot open SQLite database ${path}: ${(error as Error).message}`,
      { databaseType: 'sqlite3', target: path, cause: error },
    )
  }
  return new SqliteDatabase(database, path)
}

/**
 * One node:sqlite connection behind the async {@link SqlDatabase} interface.
 *
 * A transaction's work is async, so without care another caller's statement
 * could run on this connection in the middle of it (and become part of it).
 * Every top-level operation therefore waits its turn in a queue; statements
 * inside a transaction go straight through its session. Across processes,
 * `BEGIN IMMEDIATE` takes SQLite's write lock up front, so two writers
 * serialize instead of deadlocking on a lock upgrade.
 */
class SqliteDatabase implements SqlDatabase {
  readonly dialect = sqliteDialect
  readonly target: string
  readonly #database: DatabaseSync
  readonly #statements = new Map<string, PreparedStatement>()
  #queueTail: Promise<unknown> = Promise.resolve()

  constructor(database: DatabaseSync, path: string) {
    this.#database = database
    this.target = path
  }

  query(statement: SqlStatement): Promise<SqlResult> {
    return this.#inTurn(async () => this.#run(statement))
  }

  execScript(script: string): Promise<void> {
    return this.#inTurn(async () => this.#exec(script))
  }

  transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.#inTurn(async () => {
      this.#exec('BEGIN IMMEDIATE')
      const session: SqlSession = {
        query: async (statement) => this.#run(statement),
        execScript: async (script) => this.#exec(script),
      }
      try {
        const result = await work(session)
        this.#exec('COMMIT')
        return result
      } catch (error) {
        // Also after a failed COMMIT, which leaves the transaction open.
        this.#rollback(error)
        throw error
      }
    })
  }

  async close(): Promise<void> {
    // Wait for queued work, then close; `finally` because a failed operation must not keep the file open.
    await this.#queueTail.finally(() => {
      if (this.#database.isOpen) this.#database.close()
    })
  }

  /** Runs `operation` after every operation queued before it. */
  #inTurn<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#queueTail.then(operation)
    // The queue only needs to know when `result` settles; its error reaches the caller through `result`.
    this.#queueTail = result.then(
      () => undefined,
      () => undefined,
    )
    return result
  }

  #run(statement: SqlStatement): SqlResult {
    try {
      const { prepared, returnsRows } = this.#prepare(statement.text)
      const values = statement.values.map(toSqliteValue)
      if (returnsRows) {
        const rows = prepared.all(...values)
        return { rows, rowCount: rows.length }
      }
      const { changes } = prepared.run(...values)
      return { rows: [], rowCount: Number(changes) }
    } catch (error) {
      throw this.#translate(error, 'statement')
    }
  }

  #exec(script: string): void {
    try {
      this.#database.exec(script)
    } catch (error) {
      throw this.#translate(error, 'script')
    }
  }

  #prepare(text: string): PreparedStatement {
    let prepared = this.#statements.get(text)
    if (prepared === undefined) {
      const statement = this.#database.prepare(text)
      // A statement with result columns (SELECT, or RETURNING) is read; any other is run for its
      // changes. Asked once: `columns()` builds a description of every column on each call.
      prepared = { prepared: statement, returnsRows: statement.columns().length > 0 }
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.#statements.keys().next()
        if (!oldest.done) this.#statements.delete(oldest.value)
      }
      this.#statements.set(text, prepared)
    }
    return prepared
  }

  /** Rolls back after `cause`; SQLite has already rolled back by itself after some errors (e.g. a full disk). */
  #rollback(cause: unknown): void {
    if (!this.#database.isTransaction) return
    try {
      this.#database.exec('ROLLBACK')
    } catch (rollbackError) {
      throw new DatastoreError(
        'ATT_ERR_DATASTORE_QUERY_FAILED',
        `SQLite database ${this.target}: rollback failed after an error: ${(rollbackError as Error).message}`,
        { databaseType: 'sqlite3', target: this.target, cause: new AggregateError([cause, rollbackError]) },
      )
    }
  }

  #translate(error: unknown, what: string): DatastoreError {
    if (!this.#database.isOpen) {
      return new DatastoreError('ATT_ERR_DATASTORE_CLOSED', `SQLite database ${this.target} is closed`, {
        databaseType: 'sqlite3',
        target: this.target,
        cause: error,
      })
    }
    const code = sqliteErrorCode(error)
    return new DatastoreError(
      code,
      `SQLite database ${this.target}: ${what} failed: ${(error as Error).message}`,
      {
        databaseType: 'sqlite3',
        target: this.target,
        cause: error,
      },
    )
  }
}

/** Primary SQLite result codes (https://sqlite.org/rescode.html) that say something other than "this statement failed". */
const SQLITE_PERM = 3
const SQLITE_BUSY = 5
const SQLITE_LOCKED = 6
const SQLITE_IOERR = 10
const SQLITE_CORRUPT = 11
const SQLITE_CANTOPEN = 14
const SQLITE_NOTADB = 26

function sqliteErrorCode(error: unknown): DatastoreErrorCode {
  const extended = (error as { errcode?: unknown }).errcode
  if (typeof extended !== 'number') return 'ATT_ERR_DATASTORE_QUERY_FAILED'
  // The low byte of an extended result code is its primary code.
  switch (extended & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return 'ATT_ERR_DATASTORE_TIMEOUT'
    case SQLITE_PERM:
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB:
      return 'ATT_ERR_DATASTORE_UNREACHABLE'
    default:
      return 'ATT_ERR_DATASTORE_QUERY_FAILED'
  }
}

function toSqliteValue(value: unknown, index: number): SQLInputValue {
  if (value === null || typeof value === 'string' || typeof value === 'number') return value
  // The SQLite dialect encodes dates and booleans as numbers before they get here.
  throw new TypeError(
    `parameter ${index + 1} is a ${typeof value}; the SQLite dialect binds only strings, numbers and null`,
  )
}
