import { AttestError, type AttestErrorCode, type AttestErrorDetails } from '@k8s-attest/core'
import { CONFIG_ERROR_CODES } from '@k8s-attest/spire-config'

/**
 * Codes of failures the agent finds on its own side, before or after talking to the server:
 * its configuration, the token file, the trust bundle, the connection, the SVID it received and
 * its data directory. They follow the project's `ATT_ERR_<AREA>_<WHAT>` pattern and never
 * overlap the server's codes in `@k8s-attest/core` (a test checks it), so a log line or a
 * metric label names exactly one failure whichever side found it.
 */
export const AGENT_ERROR_CODES = [
  // The configuration file: a ConfigError from @k8s-attest/spire-config, which carries `details`
  // like an AgentError, so isAgentError() holds for it and the CLI reports it as one.
  ...CONFIG_ERROR_CODES,
  // The service account token file, re-read on every attempt.
  'ATT_ERR_TOKEN_FILE_MISSING',
  'ATT_ERR_TOKEN_FILE_EMPTY',
  'ATT_ERR_TOKEN_FILE_TOO_LARGE',
  'ATT_ERR_TOKEN_FILE_UNREADABLE',
  // The trust bundle: from trust_bundle_path, trust_bundle_url, data_dir or the server.
  'ATT_ERR_TRUST_BUNDLE_INVALID',
  'ATT_ERR_TRUST_BUNDLE_UNAVAILABLE',
  // Talking to the server.
  'ATT_ERR_SERVER_UNREACHABLE',
  'ATT_ERR_SERVER_UNTRUSTED',
  'ATT_ERR_SERVER_RESPONSE_INVALID',
  // What the server sent back.
  'ATT_ERR_SVID_VERIFICATION_FAILED',
  // The agent's own storage.
  'ATT_ERR_DATA_DIR_FAILED',
] as const

/** One of {@link AGENT_ERROR_CODES}. */
export type AgentErrorCode = (typeof AGENT_ERROR_CODES)[number]

/**
 * Compile-time guard: an agent code spelled like a server code would make logs ambiguous.
 * `true` only while the two unions are disjoint.
 */
export const AGENT_CODES_DISJOINT_FROM_SERVER_CODES: [Extract<AgentErrorCode, AttestErrorCode>] extends [
  never,
]
  ? true
  : never = true

/**
 * Context of a local failure, so an operator sees which check failed and on what, without
 * parsing the message. Never put a token or a private key here.
 */
export interface AgentErrorDetails {
  /** The check that failed, e.g. `"svid_public_key"`, `"server_spiffe_id"`. */
  readonly check?: string
  /** The offending value, e.g. the URI SAN found, or a file path. */
  readonly value?: string
  /** What the check expected, e.g. `"spiffe://example.org/spire/server"`. */
  readonly expected?: string
  /** The HTTP status of an answer that was not a problem document (a proxy's 502 page, say). */
  readonly httpStatus?: number
  /** How long the server asked us to wait (`Retry-After`), in milliseconds. */
  readonly retryAfterMs?: number
}

/** Options of the {@link AgentError} constructor. */
export interface AgentErrorOptions extends AgentErrorDetails {
  /** The lower-level error this one explains. */
  readonly cause?: unknown
}

const KNOWN_AGENT_CODES: ReadonlySet<string> = new Set(AGENT_ERROR_CODES)

/**
 * A failure found by the agent itself. Failures reported by the server are
 * `AttestError`s from `@k8s-attest/core` (see `ServerProblemError`); callers branch on `code`
 * either way.
 *
 * @example
 * ```ts
 * throw new AgentError('ATT_ERR_TOKEN_FILE_EMPTY', 'token file "/var/run/secrets/tokens/spire-agent" is empty',
 *   { check: 'token_file', value: '/var/run/secrets/tokens/spire-agent' })
 * ```
 */
export class AgentError extends Error {
  override readonly name: string = 'AgentError'
  readonly code: AgentErrorCode
  readonly details: AgentErrorDetails

  constructor(code: AgentErrorCode, message: string, options: AgentErrorOptions = {}) {
    const { cause, ...details } = options
    super(message, cause === undefined ? undefined : { cause })
    this.code = code
    this.details = details
  }
}

/** Whether `value` is an {@link AgentError}, judged by its `code` so it holds across copies of this module. */
export function isAgentError(value: unknown): value is AgentError {
  return value instanceof Error && isAgentErrorCode((value as { code?: unknown }).code)
}

/** Whether `code` is one of {@link AGENT_ERROR_CODES}. */
export function isAgentErrorCode(code: unknown): code is AgentErrorCode {
  return typeof code === 'string' && KNOWN_AGENT_CODES.has(code)
}

/**
 * A refusal the server explained with a problem document (RFC 9457, `application/problem+json`)
 * carrying one of core's codes. It is an `AttestError` with the server's `code` and details,
 * plus what only the HTTP exchange knows: the status and any `Retry-After`.
 */
export class ServerProblemError extends AttestError {
  /** The HTTP status of the answer. */
  readonly httpStatus: number
  /** How long the server asked us to wait, from `Retry-After` or `retry_after_seconds`, in milliseconds. */
  readonly retryAfterMs: number | undefined

  constructor(
    code: AttestErrorCode,
    message: string,
    options: AttestErrorDetails & { readonly httpStatus: number; readonly retryAfterMs?: number | undefined },
  ) {
    const { httpStatus, retryAfterMs, ...details } = options
    super(code, message, details)
    this.name = 'ServerProblemError'
    this.httpStatus = httpStatus
    this.retryAfterMs = retryAfterMs
  }
}
