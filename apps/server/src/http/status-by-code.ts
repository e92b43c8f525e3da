import type { AttestErrorCode } from '@k8s-attest/core'

/**
 * The one map from error code to HTTP status. `satisfies Record<…>` makes it
 * exhaustive: a code added in core does not compile until it has a status here.
 *
 * The rule behind it: 400 for a request that can never succeed as sent, 401
 * for a credential the server cannot accept, 403 for a valid credential that
 * is not allowed, 5xx (with Retry-After where waiting helps) for failures that
 * are not the caller's — a Kubernetes API problem is never a 500.
 */
export const STATUS_BY_CODE = {
  ATT_ERR_BAD_REQUEST: 400,
  ATT_ERR_ROUTE_NOT_FOUND: 404,
  ATT_ERR_PAYLOAD_TOO_LARGE: 413,
  ATT_ERR_HEADERS_TOO_LARGE: 431,
  ATT_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ATT_ERR_REQUEST_TIMEOUT: 408,
  ATT_ERR_UNSUPPORTED_ATTESTOR: 400,
  ATT_ERR_UNKNOWN_CLUSTER: 400,
  ATT_ERR_CSR_INVALID: 400,
  ATT_ERR_SPIFFE_ID_INVALID: 400,
  ATT_ERR_TOKEN_MALFORMED: 400,
  ATT_ERR_TOKEN_NOT_AUTHENTICATED: 401,
  ATT_ERR_TOKEN_INVALID: 401,
  ATT_ERR_AUDIENCE_MISMATCH: 403,
  ATT_ERR_TOKEN_REVIEW_INVALID: 502,
  ATT_ERR_USERNAME_INVALID: 403,
  ATT_ERR_SA_UID_MISMATCH: 403,
  ATT_ERR_SA_NOT_ALLOWED: 403,
  ATT_ERR_TOKEN_REPLAYED: 403,
  ATT_ERR_POD_NOT_FOUND: 403,
  ATT_ERR_POD_UID_MISMATCH: 403,
  ATT_ERR_NODE_NOT_FOUND: 403,
  ATT_ERR_NODE_UID_MISSING: 403,
  ATT_ERR_AGENT_BANNED: 403,
  ATT_ERR_AGENT_NOT_FOUND: 404,
  ATT_ERR_REATTESTATION_REQUIRED: 403,
  ATT_ERR_SVID_NOT_CURRENT: 401,
  ATT_ERR_UNAUTHENTICATED: 401,
  ATT_ERR_PERMISSION_DENIED: 403,
  ATT_ERR_RATE_LIMITED: 429,
  ATT_ERR_KUBE_API_FAILED: 502,
  ATT_ERR_KUBE_API_UNAVAILABLE: 503,
  ATT_ERR_NOT_READY: 503,
  ATT_ERR_INTERNAL: 500,
} as const satisfies Record<AttestErrorCode, number>

/** The HTTP status of `code`. */
export function statusOf(code: AttestErrorCode): number {
  return STATUS_BY_CODE[code]
}
