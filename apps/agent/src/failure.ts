import { type AttestErrorCode, isAttestError } from '@k8s-attest/core'
import { type AgentErrorCode, isAgentError, ServerProblemError } from './errors.ts'

/**
 * What a failed attempt means for the agent:
 *
 * - `transient`: the server or the network is down or busy, or the token is not written yet;
 *   the next attempt may work. Logged as a warning; exponential backoff with jitter.
 * - `permanent`: a refusal that waiting will not fix (403 allow-list or audience, a token the
 *   cluster rejects, a server we do not trust, an SVID that does not verify). Logged as an
 *   error naming what must change; retried at the backoff cap, so the agent recovers by itself
 *   once an operator fixes the cause.
 * - `banned`: the server banned this agent. The agent stops.
 */
export type FailureKind = 'transient' | 'permanent' | 'banned'

/** A failed attempt, classified, with what the logs and the next wait need. */
export interface ClassifiedFailure {
  readonly kind: FailureKind
  /** The error's code: the server's (`AttestErrorCode`) or the agent's own. */
  readonly code: AttestErrorCode | AgentErrorCode
  /** Which side found the failure. */
  readonly source: 'server' | 'agent'
  /** The HTTP status, when the server answered. */
  readonly httpStatus: number | undefined
  /** `Retry-After`, in milliseconds, when the server sent one. */
  readonly retryAfterMs: number | undefined
}

/**
 * Every agent code's kind. `satisfies Record<AgentErrorCode, …>` makes the compiler ask for a
 * decision when a code is added. Response-shape problems are decided by HTTP status instead
 * (`status`), because a load balancer's 503 page is transient but a 400 is not.
 */
const KIND_BY_AGENT_CODE = {
  ATT_ERR_CONFIG_UNREADABLE: 'permanent',
  ATT_ERR_CONFIG_SYNTAX: 'permanent',
  ATT_ERR_CONFIG_INVALID: 'permanent',
  // kubelet writes the projected token shortly after the pod starts, and rewrites it atomically.
  ATT_ERR_TOKEN_FILE_MISSING: 'transient',
  ATT_ERR_TOKEN_FILE_EMPTY: 'transient',
  ATT_ERR_TOKEN_FILE_TOO_LARGE: 'permanent',
  ATT_ERR_TOKEN_FILE_UNREADABLE: 'permanent',
  ATT_ERR_TRUST_BUNDLE_INVALID: 'permanent',
  ATT_ERR_TRUST_BUNDLE_UNAVAILABLE: 'transient',
  ATT_ERR_SERVER_UNREACHABLE: 'transient',
  ATT_ERR_SERVER_UNTRUSTED: 'permanent',
  ATT_ERR_SERVER_RESPONSE_INVALID: 'status',
  ATT_ERR_SVID_VERIFICATION_FAILED: 'permanent',
  // A full disk or a remounted volume can recover.
  ATT_ERR_DATA_DIR_FAILED: 'transient',
} as const satisfies Record<AgentErrorCode, FailureKind | 'status'>

/**
 * Classifies a failed attempt, or returns `undefined` for an error that is neither the
 * server's nor the agent's (a bug), which the caller must let through rather than retry.
 *
 * Server refusals are classified by status, the server's own statement of fault: 5xx and 429
 * are transient, other 4xx permanent, and `ATT_ERR_AGENT_BANNED` bans.
 */
export function classifyFailure(error: unknown): ClassifiedFailure | undefined {
  if (error instanceof ServerProblemError) {
    const kind: FailureKind =
      error.code === 'ATT_ERR_AGENT_BANNED'
        ? 'banned'
        : isTransientStatus(error.httpStatus)
          ? 'transient'
          : 'permanent'
    return {
      kind,
      code: error.code,
      source: 'server',
      httpStatus: error.httpStatus,
      retryAfterMs: error.retryAfterMs,
    }
  }
  if (isAgentError(error)) {
    const decision = KIND_BY_AGENT_CODE[error.code]
    const { httpStatus, retryAfterMs } = error.details
    const kind: FailureKind =
      decision === 'status'
        ? httpStatus !== undefined && isTransientStatus(httpStatus)
          ? 'transient'
          : 'permanent'
        : decision
    return { kind, code: error.code, source: 'agent', httpStatus, retryAfterMs }
  }
  if (isAttestError(error)) {
    // A core error raised locally (e.g. parsing an ID): the agent's data, not the server's word.
    return {
      kind: 'permanent',
      code: error.code,
      source: 'agent',
      httpStatus: undefined,
      retryAfterMs: undefined,
    }
  }
  return undefined
}

function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408
}
