/**
 * Where the datastore reports problems that have no caller to throw to: an
 * idle PostgreSQL connection that died in the pool, a failed cleanup after an
 * error that is already being thrown. Pino's logger fits it as it is, so the
 * server passes `app.log`.
 */
export interface DatastoreLogger {
  warn(details: Readonly<Record<string, unknown>>, message: string): void
}

/**
 * Used when no logger is given: a process warning, which Node prints to
 * stderr, so nothing is dropped silently.
 */
export const processWarningLogger: DatastoreLogger = {
  warn(details, message) {
    process.emitWarning(message, {
      code: 'ATT_DATASTORE_WARNING',
      detail: JSON.stringify(details, errorsAsObjects),
    })
  },
}

/** A JSON.stringify replacer that keeps what matters of an Error (which would otherwise print as `{}`). */
function errorsAsObjects(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value
  const { code } = value as { code?: unknown }
  return { name: value.name, message: value.message, ...(code !== undefined && { code }) }
}
