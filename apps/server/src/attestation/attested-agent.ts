import type { AttestorType, Selector } from '@k8s-attest/core'

/**
 * What a node attestor established about an agent once every check passed: who it is, and
 * what to say about it. Signing and recording are the caller's steps (`AttestationService`).
 */
export interface AttestedAgent {
  readonly attestor: AttestorType
  /** The cluster name from the server configuration. */
  readonly cluster: string
  /** The SPIFFE ID minted for the agent (never taken from the request). */
  readonly spiffeId: string
  /** Sorted selectors, as SPIRE's attestors produce them. */
  readonly selectors: readonly Selector[]
  /** The agent's service account, `namespace:name`, for the log line. */
  readonly serviceAccount: string
  /**
   * For the log line: the token's credential ID (`JTI=<jti>`) when the API server reported one
   * (bound tokens since Kubernetes 1.29; legacy tokens have none), so an attestation can be
   * traced to the very token that made it.
   */
  readonly credentialId?: string
  /**
   * Whether the agent renews by attesting again (k8s_psat: its ID is stable) rather than over
   * mTLS with its SVID (k8s_sat: every attestation mints a new ID).
   */
  readonly reattestable: boolean
  /**
   * k8s_sat only: the token must be claimed as spent after the last other check passed, in
   * the transaction that records the agent (`recordAttestation`'s `claimSatToken`), so that a
   * refused or failed attempt does not burn it.
   */
  readonly singleUseToken?: SingleUseToken
}

/** A SAT token to be claimed once. */
export interface SingleUseToken {
  /** `tokenFingerprint(token)`: SHA-256 of its signed part, 64 lowercase hex digits. */
  readonly fingerprint: string
  /** When the token has an `exp`: `exp` plus the clock leeway; the claim can be pruned after it. */
  readonly expiresAt?: Date
}
