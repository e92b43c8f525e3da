import { type DestinationStream, type Logger, pino } from 'pino'
import type { LogLevel } from './config.ts'

/**
 * Log field names, in one place (SPIRE's `telemetry/names.go`): the same fact always has the
 * same key, so log queries do not depend on which line wrote it.
 */
export const LOG_FIELDS = {
  attestor: 'node_attestor_type',
  attempt: 'attempt',
  /** The message of an error's `cause`, when its own message does not carry it. */
  cause: 'cause',
  cluster: 'cluster',
  check: 'check',
  code: 'code',
  dataDir: 'data_dir',
  expected: 'expected',
  expiresAt: 'expires_at',
  failureKind: 'failure',
  failureSource: 'source',
  httpStatus: 'status',
  method: 'method',
  path: 'path',
  retryInMs: 'retry_in_ms',
  rotateAt: 'rotate_at',
  server: 'server',
  serial: 'serial_number',
  spiffeId: 'spiffe_id',
  tokenPath: 'token_path',
  trustBootstrap: 'trust_bootstrap',
  value: 'value',
} as const

/**
 * Paths pino replaces with `[REDACTED]` whatever is logged: the token and the private key under
 * every name they could travel by. The code never logs them (tokens are core `Secret`s, which
 * print as `[REDACTED]` anyway); this is the second lock.
 */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'attestation.payload.token',
  '*.attestation.payload.token',
  'privateKey',
  '*.privateKey',
  'key',
  '*.key',
  'headers.authorization',
  '*.headers.authorization',
] as const

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  readonly level: LogLevel
  /** Where the JSON lines go. Default: standard output, written synchronously so nothing is lost at exit. */
  readonly destination?: DestinationStream
}

/**
 * The agent's logger: JSON lines (pino) with the level as a name (`"level":"warn"`), ISO
 * timestamps, and redaction of {@link REDACTED_PATHS}.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: 'k8s-attest-agent',
      level: options.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACTED_PATHS], censor: '[REDACTED]' },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  )
}
