import type { AgentStore } from './agent-store.ts'
import { type DatabaseType, DatastoreError } from './datastore-error.ts'
import { type DatastoreLogger, processWarningLogger } from './datastore-logger.ts'
import { migrate } from './migrations.ts'
import { openPostgresDatabase } from './postgres-database.ts'
import { SqlAgentStore } from './sql-agent-store.ts'
import type { SqlDatabase } from './sql-database.ts'
import { openSqliteDatabase } from './sqlite-database.ts'

/** The database types `openAgentStore` accepts, with SPIRE's names. */
export const DATABASE_TYPES: readonly DatabaseType[] = ['sqlite3', 'postgres']

/**
 * Where the agents are stored, after SPIRE's `DataStore "sql"` plugin
 * (`database_type`, `connection_string`, `max_open_conns`).
 */
export interface AgentStoreConfig {
  /** `sqlite3` (one server; the default in the server config, under `data_dir`) or `postgres` (any number of servers). */
  readonly databaseType: DatabaseType
  /**
   * For `sqlite3`: the database file's path; it and its directory are
   * created if missing. For `postgres`: a URL,
   * `postgres://user:password@host:port/database?sslmode=verify-full`.
   */
  readonly connectionString: string
  /**
   * The clock for attestation times and expiry judgements.
   * @default () => new Date()
   */
  readonly now?: () => Date
  /**
   * PostgreSQL: most connections this process holds at once.
   * @default 10
   */
  readonly maxOpenConnections?: number
  /**
   * PostgreSQL: how long to wait for a new connection.
   * @default 5000
   */
  readonly connectTimeoutMs?: number
  /**
   * PostgreSQL: the longest a statement may run on the server.
   * @default 10000
   */
  readonly statementTimeoutMs?: number
  /**
   * SQLite: how long a statement waits for another process's write lock.
   * @default 5000
   */
  readonly busyTimeoutMs?: number
  /**
   * Receives problems no caller can be told about (a dead idle connection).
   * @default process warnings
   */
  readonly logger?: DatastoreLogger
}

/**
 * Opens the agent store: connects (or creates the SQLite file), brings the
 * schema up to date, and returns the store. Servers starting together on one
 * PostgreSQL database are safe: migrations take turns under an advisory lock.
 *
 * @throws {DatastoreError} `ATT_ERR_DATASTORE_CONFIG_INVALID` (naming `database_type` or
 * `connection_string`), `ATT_ERR_DATASTORE_UNREACHABLE`, `ATT_ERR_DATASTORE_SCHEMA_INCOMPATIBLE`
 * or `ATT_ERR_DATASTORE_MIGRATION_FAILED`. No message contains the connection string's password.
 *
 * @example
 * ```ts
 * const agents = await openAgentStore({ databaseType: 'sqlite3', connectionString: join(dataDir, 'datastore.sqlite3') })
 * const result = await agents.recordAttestation({ spiffeId, attestor: 'k8s_psat', cluster, selectors, svidSerial, svidExpiresAt })
 * if (result.outcome === 'banned') throw new AttestError('ATT_ERR_AGENT_BANNED', `agent "${spiffeId}" is banned`)
 * ```
 */
export async function openAgentStore(config: AgentStoreConfig): Promise<AgentStore> {
  const now = config.now ?? (() => new Date())
  return new SqlAgentStore(await openMigratedDatabase(config), { now })
}

/**
 * The database `config` names, connected and migrated, without the store around it: for
 * tools that write the schema in bulk (`seedAgents`), never for the server's own requests.
 *
 * @throws {DatastoreError} as {@link openAgentStore}.
 */
export async function openMigratedDatabase(config: AgentStoreConfig): Promise<SqlDatabase> {
  const now = config.now ?? (() => new Date())
  const logger = config.logger ?? processWarningLogger
  const database = await openDatabase(config, logger)
  try {
    await migrate(database, now())
  } catch (error) {
    await database.close().catch((closeError: unknown) => {
      logger.warn({ target: database.target, err: closeError }, `closing ${database.target} failed`)
    })
    throw error
  }
  return database
}

async function openDatabase(config: AgentStoreConfig, logger: DatastoreLogger): Promise<SqlDatabase> {
  switch (config.databaseType) {
    case 'sqlite3':
      return openSqliteDatabase(config.connectionString, {
        busyTimeoutMs: checkPositiveInteger(config.busyTimeoutMs, 'busyTimeoutMs', 5000),
        logger,
      })
    case 'postgres':
      return openPostgresDatabase(config.connectionString, {
        maxConnections: checkPositiveInteger(config.maxOpenConnections, 'maxOpenConnections', 10),
        connectTimeoutMs: checkPositiveInteger(config.connectTimeoutMs, 'connectTimeoutMs', 5000),
        statementTimeoutMs: checkPositiveInteger(config.statementTimeoutMs, 'statementTimeoutMs', 10_000),
        logger,
      })
    default:
      throw new DatastoreError(
        'ATT_ERR_DATASTORE_CONFIG_INVALID',
        `database_type ${JSON.stringify(config.databaseType)} is not supported; expected one of ${DATABASE_TYPES.join(', ')}`,
        { check: 'database_type', expected: DATABASE_TYPES.join(' | ') },
      )
  }
}

function checkPositiveInteger(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`"${name}" must be a positive integer, got ${String(value)}`)
  }
  return value
}
