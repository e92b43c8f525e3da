import { Pool, type PoolClient } from 'pg'
import { DatastoreError } from './datastore-error.ts'
import type { DatastoreLogger } from './datastore-logger.ts'
import { describePostgresConnectionString } from './postgres-connection-string.ts'
import { postgresErrorCode } from './postgres-error-code.ts'
import type { SqlDatabase, SqlResult, SqlSession } from './sql-database.ts'
import { postgresDialect, type SqlStatement } from './sql-dialect.ts'

/** Options of {@link openPostgresDatabase}. */
export interface PostgresDatabaseOptions {
  /** Most connections this process holds; several servers on one database each hold their own. */
  readonly maxConnections: number
  /** How long to wait for a new connection before failing with `ATT_ERR_DATASTORE_UNREACHABLE`. */
  readonly connectTimeoutMs: number
  /** How long the server lets one statement run before failing it with `ATT_ERR_DATASTORE_TIMEOUT`. */
  readonly statementTimeoutMs: number
  readonly logger: DatastoreLogger
}

/** Idle connections above zero are closed after this long, so a quiet server holds none. */
const IDLE_TIMEOUT_MS = 30_000

/**
 * Connects a bounded `pg.Pool` to the database at `connectionString` and
 * checks that it answers. Every statement runs on whichever pooled connection
 * is free; a transaction holds one connection from `BEGIN` to `COMMIT`.
 *
 * @throws {DatastoreError} `ATT_ERR_DATASTORE_CONFIG_INVALID` for a malformed connection string, `ATT_ERR_DATASTORE_UNREACHABLE` when the database cannot be connected to.
 */
export async function openPostgresDatabase(
  connectionString: string,
  options: PostgresDatabaseOptions,
): Promise<SqlDatabase> {
  const target = describePostgresConnectionString(connectionString)
  const pool = new Pool({
    connectionString,
    max: options.maxConnections,
    connectionTimeoutMillis: options.connectTimeoutMs,
    idleTimeoutMillis: IDLE_TIMEOUT_MS,
    statement_timeout: options.statementTimeoutMs,
    application_name: 'k8s-attest-server',
  })
  // An idle pooled connection that dies (server restart, network) is dropped and replaced on demand;
  // without a listener its 'error' event would crash the process.
  pool.on('error', (error) => {
    options.logger.warn(
      { target, err: error },
      `idle PostgreSQL connection to ${target} failed; the pool will open a new one`,
    )
  })
  const database = new PostgresDatabase(pool, target, options.logger)
  try {
    await database.query({ text: 'SELECT 1', values: [] })
  } catch (error) {
    await database.close().catch((closeError: unknown) => {
      options.logger.warn({ target, err: closeError }, `closing the pool of ${target} failed`)
    })
    throw error
  }
  return database
}

class PostgresDatabase implements SqlDatabase {
  readonly dialect = postgresDialect
  readonly target: string
  readonly #pool: Pool
  readonly #logger: DatastoreLogger
  #closed = false

  constructor(pool: Pool, target: string, logger: DatastoreLogger) {
    this.#pool = pool
    this.target = target
    this.#logger = logger
  }

  async query(statement: SqlStatement): Promise<SqlResult> {
    try {
      const result = await this.#pool.query({ text: statement.text, values: [...statement.values] })
      return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length }
    } catch (error) {
      throw this.#translate(error)
    }
  }

  async execScript(script: string): Promise<void> {
    try {
      // Without parameters pg uses the simple query protocol, which accepts several statements.
      await this.#pool.query(script)
    } catch (error) {
      throw this.#translate(error)
    }
  }

  async transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    let client: PoolClient
    try {
      client = await this.#pool.connect()
    } catch (error) {
      throw this.#translate(error)
    }
    // A checked-out connection that dies between two statements (PostgreSQL stopped, the backend
    // terminated) reports it as an 'error' event, which the pool listens to only while the
    // connection is idle: unheard, it would crash the process. The next statement then fails.
    // pg reports one loss twice (the backend's FATAL message, then the socket's end): logged once.
    let connectionLost = false
    const onConnectionError = (error: Error) => {
      if (connectionLost) return
      connectionLost = true
      this.#logger.warn(
        { target: this.target, err: error },
        `PostgreSQL connection to ${this.target} failed inside a transaction; the transaction fails`,
      )
    }
    client.on('error', onConnectionError)
    const session: SqlSession = {
      query: async (statement) => {
        try {
          const result = await client.query({ text: statement.text, values: [...statement.values] })
          return { rows: result.rows, rowCount: result.rowCount ?? result.rows.length }
        } catch (error) {
          throw this.#translate(error)
        }
      },
      execScript: async (script) => {
        try {
          await client.query(script)
        } catch (error) {
          throw this.#translate(error)
        }
      },
    }
    try {
      await session.execScript('BEGIN')
      const result = await work(session)
      await session.execScript('COMMIT')
      client.off('error', onConnectionError)
      client.release()
      return result
    } catch (error) {
      await this.#rollbackAndRelease(client)
      client.off('error', onConnectionError)
      throw error
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#pool.end()
  }

  /**
   * Rolls back and returns the connection to the pool; a connection that
   * cannot even roll back is destroyed instead, since its state is unknown.
   */
  async #rollbackAndRelease(client: PoolClient): Promise<void> {
    try {
      await client.query('ROLLBACK')
      client.release()
    } catch (rollbackError) {
      this.#logger.warn(
        { target: this.target, err: rollbackError },
        `rollback on ${this.target} failed; the connection is discarded`,
      )
      client.release(rollbackError instanceof Error ? rollbackError : true)
    }
  }

  #translate(error: unknown): DatastoreError {
    if (error instanceof DatastoreError) return error
    const code = this.#closed ? 'ATT_ERR_DATASTORE_CLOSED' : postgresErrorCode(error)
    const sqlState = (error as { code?: unknown }).code
    const detail = typeof sqlState === 'string' ? ` (${sqlState})` : ''
    return new DatastoreError(code, `PostgreSQL ${this.target}: ${(error as Error).message}${detail}`, {
      databaseType: 'postgres',
      target: this.target,
      cause: error,
    })
  }
}
