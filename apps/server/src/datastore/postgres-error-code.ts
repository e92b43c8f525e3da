import type { DatastoreErrorCode } from './datastore-error.ts'

/** Network errors of Node's socket and DNS layers: the server is not there. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
])

/** pg reports a lost or never-made connection by message only. */
const CONNECTION_LOST_MESSAGE = /connection terminated|timeout exceeded when trying to connect|not queryable/i

/**
 * Which datastore failure a pg error is, by SQLSTATE
 * (https://www.postgresql.org/docs/current/errcodes-appendix.html).
 */
export function postgresErrorCode(error: unknown): DatastoreErrorCode {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string') {
    if (NETWORK_ERROR_CODES.has(code)) return 'ATT_ERR_DATASTORE_UNREACHABLE'
    // 08: connection exception; 28: bad user or password; 3D000: no such database;
    // 57P01–57P03: the server is shutting down, crashed, or not yet accepting connections.
    if (code.startsWith('08') || code.startsWith('28') || code === '3D000' || /^57P0[1-3]$/.test(code)) {
      return 'ATT_ERR_DATASTORE_UNREACHABLE'
    }
    // 53300: too many connections (the server's max_connections, or the role's limit) — it
    // refuses the connection, and one may be free in a moment.
    if (code === '53300') return 'ATT_ERR_DATASTORE_UNREACHABLE'
    // 57014: statement timeout (query_canceled); 55P03: lock not available.
    if (code === '57014' || code === '55P03') return 'ATT_ERR_DATASTORE_TIMEOUT'
  }
  if (error instanceof Error && CONNECTION_LOST_MESSAGE.test(error.message))
    return 'ATT_ERR_DATASTORE_UNREACHABLE'
  return 'ATT_ERR_DATASTORE_QUERY_FAILED'
}
