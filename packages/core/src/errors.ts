/**
 * Every failure the system reports across a process boundary has a stable
 * `code`. Callers (the agent, the CLI, tests) branch on `code`, never on the
 * message text or on `instanceof` across packages.
 *
 * The list is the contract: the server maps each code to exactly one HTTP
 * status (an exhaustive `Record<AttestErrorCode, number>`), so adding a code
 * here makes the compiler ask for its status there.
 */
export const ATTEST_ERROR_CODES = [
  // The request itself.
  'ATT_ERR_BAD_REQUEST',
  'ATT_ERR_ROUTE_NOT_FOUND',
  'ATT_ERR_PAYLOAD_TOO_LARGE',
  'ATT_ERR_HEADERS_TOO_LARGE',
  'ATT_ERR_UNSUPPORTED_MEDIA_TYPE',
  'ATT_ERR_REQUEST_TIMEOUT',
  'ATT_ERR_UNSUPPORTED_ATTESTOR',
  'ATT_ERR_UNKNOWN_CLUSTER',
  'ATT_ERR_CSR_INVALID',
  'ATT_ERR_SPIFFE_ID_INVALID',
  // The token, before and after Kubernetes has looked at it.
  'ATT_ERR_TOKEN_MALFORMED',
  'ATT_ERR_TOKEN_NOT_AUTHENTICATED',
  'ATT_ERR_TOKEN_INVALID',
  'ATT_ERR_AUDIENCE_MISMATCH',
  'ATT_ERR_TOKEN_REVIEW_INVALID',
  'ATT_ERR_USERNAME_INVALID',
  'ATT_ERR_SA_UID_MISMATCH',
  'ATT_ERR_SA_NOT_ALLOWED',
  'ATT_ERR_TOKEN_REPLAYED',
  // The agent's pod and node, looked up in the cluster.
  'ATT_ERR_POD_NOT_FOUND',
  'ATT_ERR_POD_UID_MISMATCH',
  'ATT_ERR_NODE_NOT_FOUND',
  'ATT_ERR_NODE_UID_MISSING',
  // The agent's record.
  'ATT_ERR_AGENT_BANNED',
  'ATT_ERR_AGENT_NOT_FOUND',
  'ATT_ERR_REATTESTATION_REQUIRED',
  'ATT_ERR_SVID_NOT_CURRENT',
  'ATT_ERR_UNAUTHENTICATED',
  'ATT_ERR_PERMISSION_DENIED',
  // The server and its dependencies.
  'ATT_ERR_RATE_LIMITED',
  'ATT_ERR_KUBE_API_FAILED',
  'ATT_ERR_KUBE_API_UNAVAILABLE',
  'ATT_ERR_NOT_READY',
  'ATT_ERR_INTERNAL',
] as const

/** One of {@link ATTEST_ERROR_CODES}. */
export type AttestErrorCode = (typeof ATTEST_ERROR_CODES)[number]

/**
 * Structured context of a failure, so that an operator reading a refusal
 * sees which check failed, for which cluster, and on which value — without
 * parsing the message. Never put a token or a key here.
 */
export interface AttestErrorDetails {
  /** The check that failed, e.g. `"service_account_allow_list"`, `"pod_uid"`. */
  readonly check?: string
  /** The cluster the request named, when known. */
  readonly cluster?: string
  /** The offending value, e.g. `"spire:default"` for a service account not allowed. */
  readonly value?: string
  /** What the check expected, where that is short and not secret. */
  readonly expected?: string
  /**
   * For a failure that waiting may cure (an overloaded or unreachable
   * Kubernetes API), how many seconds the caller should wait before trying
   * again, e.g. from the API server's own `Retry-After`. The server sends it
   * as `Retry-After`; absent means the server picks its default.
   */
  readonly retryAfterSeconds?: number
}

/** Options of the {@link AttestError} constructor. */
export interface AttestErrorOptions extends AttestErrorDetails {
  /** The lower-level error this one explains. */
  readonly cause?: unknown
}

const KNOWN_CODES: ReadonlySet<string> = new Set(ATTEST_ERROR_CODES)

/**
 * The one error class of k8s-attest for bad input from outside: a token, a
 * CSR, a request, a Kubernetes answer. Programmer mistakes (bad options to a
 * function) are plain `TypeError`s instead, as in jose.
 *
 * @example
 * ```ts
 * throw new AttestError('ATT_ERR_SA_NOT_ALLOWED',
 *   'service account "spire:default" is not allowed for cluster "demo"',
 *   { check: 'service_account_allow_list', cluster: 'demo', value: 'spire:default' })
 * ```
 */
export class AttestError extends Error {
  /** The stable code callers branch on. */
  readonly code: AttestErrorCode
  /** Which check failed, on what; empty when the message says all there is. */
  readonly details: AttestErrorDetails

  constructor(code: AttestErrorCode, message: string, options: AttestErrorOptions = {}) {
    const { cause, ...details } = options
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'AttestError'
    this.code = code
    this.details = details
  }
}

/**
 * Whether `value` is an {@link AttestError}, judged by shape rather than by
 * `instanceof`, so that it holds across duplicate copies of this package.
 */
export function isAttestError(value: unknown): value is AttestError {
  return value instanceof Error && isAttestErrorCode((value as { code?: unknown }).code)
}

/** Whether `code` is one of {@link ATTEST_ERROR_CODES}. */
export function isAttestErrorCode(code: unknown): code is AttestErrorCode {
  return typeof code === 'string' && KNOWN_CODES.has(code)
}
