/**
 * The plain values of the agent ↔ server contract: its paths, its error media type and its
 * size limits. No schema library here (see `wire.ts`), so any caller can import them cheaply.
 */

/** HTTP paths of the agent-facing and admin APIs. */
export const WIRE_PATHS = {
  /** `POST`: attest with a service account token, receive an SVID. */
  attest: '/v1/attest',
  /** `POST` over mTLS with the current SVID: renew it (k8s_sat agents). */
  renew: '/v1/renew',
  /** `GET`: the trust bundle, no authentication. */
  bundle: '/v1/bundle',
  /** `GET`: list agents (admin). */
  adminAgents: '/v1/admin/agents',
  /** `POST`: re-read the configuration file and apply its clusters (admin). */
  adminReload: '/v1/admin/reload',
} as const

/** Media type of every error body (RFC 9457 problem details). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** Longest token accepted anywhere: real service account tokens are ~1 KiB. */
export const MAX_TOKEN_BYTES = 16 * 1024

/** Longest CSR accepted (PEM); an RSA-4096 CSR is under 2 KiB. */
export const MAX_CSR_BYTES = 16 * 1024
