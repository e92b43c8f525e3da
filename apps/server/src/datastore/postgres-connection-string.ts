import { DatastoreError } from './datastore-error.ts'

const DEFAULT_PORT = '5432'

/**
 * Checks that `connectionString` is a PostgreSQL URL
 * (`postgres://user:password@host:port/database?sslmode=…`, see
 * https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS)
 * and returns where it points, without credentials, for messages and logs:
 * `host:port/database`.
 *
 * The password never appears in what this throws: the message describes the
 * problem, not the string, and the URL parser's own error (which quotes its
 * input) is not kept as the cause.
 *
 * @throws {DatastoreError} `ATT_ERR_DATASTORE_CONFIG_INVALID`
 */
export function describePostgresConnectionString(connectionString: string): string {
  const url = typeof connectionString === 'string' ? URL.parse(connectionString) : null
  if (url === null || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')) {
    throw invalid(
      'is not a postgres:// URL (libpq keyword/value strings such as "host=… dbname=…" are not accepted)',
    )
  }
  // A Unix socket is given as ?host=/path with an empty authority, as libpq allows.
  const socketHost = url.searchParams.get('host')
  const host = url.hostname !== '' ? url.hostname : socketHost
  if (host === null || host === '') {
    throw invalid('names no host; expected postgres://user:password@host:port/database')
  }
  const database = decodePathSegment(url.pathname.slice(1))
  if (database === undefined || database === '' || database.includes('/')) {
    throw invalid('names no database, or more than one path segment; expected postgres://…/database')
  }
  return `${host}:${url.port === '' ? DEFAULT_PORT : url.port}/${database}`
}

/** `undefined` for malformed percent-encoding (whose URIError would say nothing useful). */
function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment)
  } catch (error) {
    if (error instanceof URIError) return undefined
    throw error
  }
}

function invalid(problem: string): DatastoreError {
  return new DatastoreError(
    'ATT_ERR_DATASTORE_CONFIG_INVALID',
    `connection_string for database_type "postgres" ${problem}`,
    {
      databaseType: 'postgres',
      check: 'connection_string',
      expected: 'postgres://user:password@host:port/database',
    },
  )
}
