import pino, { type DestinationStream, type Logger } from 'pino'
import type { LogLevel } from '../config/server-config.ts'

/**
 * Paths pino replaces with `[redacted]` wherever they appear in a log line. Fastify never logs
 * request bodies and neither does this server; the body paths are there for the day someone
 * adds `request.body` to a line, so the token still cannot reach the log.
 */
export const REDACTED_LOG_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'req.body.attestation.payload.token',
  'body.attestation.payload.token',
  'attestation.payload.token',
  'payload.token',
  'token',
  '*.token',
]

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** `server.log_level`. */
  readonly level: LogLevel
  /** Where JSON lines go. Default: standard output (pino's default). Tests pass a capturing stream. */
  readonly destination?: DestinationStream
}

/**
 * The server's pino logger: JSON lines, redaction of tokens and credentials, and fastify's
 * request/response serializers (pino's standard ones), which log method, URL, remote address
 * and status, never bodies.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const settings = {
    level: options.level,
    // The same line shape as the agent's, so one log pipeline reads both.
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: [...REDACTED_LOG_PATHS], censor: '[REDACTED]' },
  }
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination)
}
