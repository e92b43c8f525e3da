import { resolve } from 'node:path'
import { DatastoreError } from './datastore-error.ts'

/**
 * What is wrong with `connectionString` as the SQLite store's (`database_type = "sqlite3"`), or
 * `undefined`: it must be a file path. `:memory:` and `file:` URIs are refused: an in-memory
 * database would forget every agent at restart, and URIs bring options this store sets itself.
 * Pure, so the configuration loader refuses the same strings before it resolves the path.
 */
export function sqliteConnectionStringProblem(connectionString: string): string | undefined {
  return typeof connectionString !== 'string' || connectionString.trim() === ''
    ? 'is empty'
    : connectionString === ':memory:'
      ? 'is ":memory:", which would lose every agent at restart'
      : connectionString.startsWith('file:')
        ? 'is a "file:" URI'
        : connectionString.includes('\0')
          ? 'contains a NUL character'
          : undefined
}

/** Where the store wants the path of its file; quoted in every refusal. */
export const SQLITE_CONNECTION_STRING_EXPECTED =
  'the path of the database file, e.g. "/var/lib/k8s-attest/datastore.sqlite3"'

/**
 * The SQLite file that `connectionString` names: a file path, relative to the working
 * directory unless absolute (the server's config resolves it against `data_dir`).
 * @throws {DatastoreError} `ATT_ERR_DATASTORE_CONFIG_INVALID` for what
 *   {@link sqliteConnectionStringProblem} refuses.
 */
export function sqlitePathFromConnectionString(connectionString: string): string {
  const problem = sqliteConnectionStringProblem(connectionString)
  if (problem !== undefined) {
    throw new DatastoreError(
      'ATT_ERR_DATASTORE_CONFIG_INVALID',
      `connection_string for database_type "sqlite3" ${problem}; expected ${SQLITE_CONNECTION_STRING_EXPECTED}`,
      { databaseType: 'sqlite3', check: 'connection_string', expected: 'a file path' },
    )
  }
  return resolve(connectionString)
}
