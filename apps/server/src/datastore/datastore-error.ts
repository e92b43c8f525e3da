/**
 * Every way the datastore can fail at run time, each with a stable code. The
 * server maps them to responses: `UNREACHABLE`, `TIMEOUT` and `CLOSED` are
 * "try again later" (503), `PAGE_TOKEN_INVALID` is the caller's fault (400),
 * the rest are internal (500) or, at startup, a reason not to start.
 *
 * Bad *use* of the API (a malformed SPIFFE ID or serial handed in by server
 * code) is a plain `TypeError` instead, as in jose.
 */
export const DATASTORE_ERROR_CODES = [
  /** `database_type` or `connection_string` cannot be used; `details.check` names which. */
  'ATT_ERR_DATASTORE_CONFIG_INVALID',
  /** The database could not be opened or connected to (refused, unknown host, bad password, no such database). */
  'ATT_ERR_DATASTORE_UNREACHABLE',
  /** The database was reached but did not answer in time (PostgreSQL statement timeout, SQLite busy). */
  'ATT_ERR_DATASTORE_TIMEOUT',
  /** The database holds a schema this build does not know (a newer server migrated it, or history was edited). */
  'ATT_ERR_DATASTORE_SCHEMA_INCOMPATIBLE',
  /** A migration failed to apply; nothing of it was kept. */
  'ATT_ERR_DATASTORE_MIGRATION_FAILED',
  /** A statement failed for a reason other than reachability or time. */
  'ATT_ERR_DATASTORE_QUERY_FAILED',
  /** A stored row does not have the shape the schema promises. */
  'ATT_ERR_DATASTORE_ROW_INVALID',
  /** A `pageToken` was not issued by `listAgents`, or was issued for different filters. */
  'ATT_ERR_DATASTORE_PAGE_TOKEN_INVALID',
  /** The store was used after `close()`. */
  'ATT_ERR_DATASTORE_CLOSED',
] as const

/** One of {@link DATASTORE_ERROR_CODES}. */
export type DatastoreErrorCode = (typeof DATASTORE_ERROR_CODES)[number]

/** The database engines the datastore runs on, named as in SPIRE's `database_type`. */
export type DatabaseType = 'sqlite3' | 'postgres'

/**
 * Structured context of a datastore failure. Never holds a password: `target`
 * is always the redacted form of the connection string.
 */
export interface DatastoreErrorDetails {
  /** The engine in use, when known. */
  readonly databaseType?: DatabaseType
  /** Where the database is, without credentials: a file path or `host:port/database`. */
  readonly target?: string
  /** The check that failed, e.g. `"connection_string"`, `"schema_migrations"`. */
  readonly check?: string
  /** What the check expected, where that is short and not secret. */
  readonly expected?: string
}

/** Options of the {@link DatastoreError} constructor. */
export interface DatastoreErrorOptions extends DatastoreErrorDetails {
  /** The driver's error this one explains. */
  readonly cause?: unknown
}

/**
 * A datastore failure. Branch on `code`; the message is for people and names
 * the database (without credentials) and what went wrong.
 *
 * @example
 * ```ts
 * try {
 *   await openAgentStore({ databaseType: 'postgres', connectionString })
 * } catch (error) {
 *   if (isDatastoreError(error) && error.code === 'ATT_ERR_DATASTORE_UNREACHABLE') process.exitCode = 1
 *   throw error
 * }
 * ```
 */
export class DatastoreError extends Error {
  readonly code: DatastoreErrorCode
  readonly details: DatastoreErrorDetails

  constructor(code: DatastoreErrorCode, message: string, options: DatastoreErrorOptions = {}) {
    const { cause, ...details } = options
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'DatastoreError'
    this.code = code
    this.details = details
  }
}

const KNOWN_CODES: ReadonlySet<string> = new Set(DATASTORE_ERROR_CODES)

/**
 * Whether `value` is a {@link DatastoreError}, judged by its code rather than
 * by `instanceof`, so that it holds across duplicate copies of the module.
 */
export function isDatastoreError(value: unknown): value is DatastoreError {
  const code = (value as { code?: unknown } | null)?.code
  return value instanceof Error && typeof code === 'string' && KNOWN_CODES.has(code)
}
