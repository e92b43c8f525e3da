import type { AttestErrorCode } from '@k8s-attest/core'

/**
 * The RFC 9457 `title` of each code: a short, human summary of the kind of problem, the same
 * for every occurrence (the `detail` says what happened this time). Written by hand, so a
 * reader gets "Service account not allowed" rather than a name derived from the code;
 * `satisfies Record<…>` makes a new code fail to compile until it has a title.
 */
export const TITLE_BY_CODE = {
  ATT_ERR_BAD_REQUEST: 'Invalid request',
  ATT_ERR_ROUTE_NOT_FOUND: 'No such route',
  ATT_ERR_PAYLOAD_TOO_LARGE: 'Request body too large',
  ATT_ERR_HEADERS_TOO_LARGE: 'Request headers too large',
  ATT_ERR_UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  ATT_ERR_REQUEST_TIMEOUT: 'Request not received in time',
  ATT_ERR_UNSUPPORTED_ATTESTOR: 'Unsupported node attestor',
  ATT_ERR_UNKNOWN_CLUSTER: 'Unknown cluster',
  ATT_ERR_CSR_INVALID: 'Invalid certificate signing request',
  ATT_ERR_SPIFFE_ID_INVALID: 'Invalid SPIFFE ID',
  ATT_ERR_TOKEN_MALFORMED: 'Malformed service account token',
  ATT_ERR_TOKEN_NOT_AUTHENTICATED: 'Token not authenticated by Kubernetes',
  ATT_ERR_TOKEN_INVALID: 'Invalid service account token',
  ATT_ERR_AUDIENCE_MISMATCH: 'Token audience not accepted',
  ATT_ERR_TOKEN_REVIEW_INVALID: 'Malformed TokenReview answer',
  ATT_ERR_USERNAME_INVALID: 'Not a service account username',
  ATT_ERR_SA_UID_MISMATCH: 'Service account UID mismatch',
  ATT_ERR_SA_NOT_ALLOWED: 'Service account not allowed',
  ATT_ERR_TOKEN_REPLAYED: 'Token already used',
  ATT_ERR_POD_NOT_FOUND: 'Pod not found',
  ATT_ERR_POD_UID_MISMATCH: 'Pod UID mismatch',
  ATT_ERR_NODE_NOT_FOUND: 'Node not found',
  ATT_ERR_NODE_UID_MISSING: 'Node has no UID',
  ATT_ERR_AGENT_BANNED: 'Agent banned',
  ATT_ERR_AGENT_NOT_FOUND: 'Agent not found',
  ATT_ERR_REATTESTATION_REQUIRED: 'Renew by attesting again',
  ATT_ERR_SVID_NOT_CURRENT: 'SVID not current',
  ATT_ERR_UNAUTHENTICATED: 'Not authenticated',
  ATT_ERR_PERMISSION_DENIED: 'Permission denied',
  ATT_ERR_RATE_LIMITED: 'Too many requests',
  ATT_ERR_KUBE_API_FAILED: 'Kubernetes API refused the server',
  ATT_ERR_KUBE_API_UNAVAILABLE: 'Kubernetes API unavailable',
  ATT_ERR_NOT_READY: 'Server not ready',
  ATT_ERR_INTERNAL: 'Internal server error',
} as const satisfies Record<AttestErrorCode, string>

/** The written title of `code`. */
export function titleOf(code: AttestErrorCode): string {
  return TITLE_BY_CODE[code]
}
