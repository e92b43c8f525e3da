import type { AttestErrorCode, AttestorType } from '@k8s-attest/core'

/** How the agent obtains its next SVID. */
export type RenewalMethod = 'attest' | 'renew'

/** The validity window of an SVID. */
export interface SvidLifetime {
  readonly notBefore: Date
  readonly notAfter: Date
}

/**
 * When to replace an SVID: at half its lifetime, as SPIRE's agent does. Half leaves as much
 * time for retries (a server outage, a token kubelet has not refreshed yet) as the SVID has
 * already served, whatever TTL the server chose.
 */
export function rotationTime(svid: SvidLifetime): number {
  const notBefore = svid.notBefore.getTime()
  return notBefore + (svid.notAfter.getTime() - notBefore) / 2
}

/**
 * How to obtain the next SVID. k8s_psat attests again: its projected token is short-lived and
 * kubelet keeps a fresh one on disk. k8s_sat renews over mTLS with the current SVID, since the
 * server gives a k8s_sat agent a new identity per attestation; it attests only when it holds
 * no SVID that is still valid (a renewal with an expired certificate cannot authenticate).
 */
export function renewalMethod(
  attestor: AttestorType,
  held: { readonly notAfter: Date } | undefined,
  now: number,
): RenewalMethod {
  if (attestor === 'k8s_psat' || held === undefined) return 'attest'
  return held.notAfter.getTime() > now ? 'renew' : 'attest'
}

/**
 * Answers to a renewal that mean "attest again" rather than "failed": the server no longer
 * knows this SVID (evicted: `ATT_ERR_SVID_NOT_CURRENT`, `ATT_ERR_AGENT_NOT_FOUND`), does not
 * accept it as a client certificate (`ATT_ERR_UNAUTHENTICATED`), or asks for it
 * (`ATT_ERR_REATTESTATION_REQUIRED`). A ban is not among them: a banned agent stops.
 */
export const REATTEST_ON_RENEWAL_CODES: ReadonlySet<AttestErrorCode> = new Set<AttestErrorCode>([
  'ATT_ERR_REATTESTATION_REQUIRED',
  'ATT_ERR_SVID_NOT_CURRENT',
  'ATT_ERR_AGENT_NOT_FOUND',
  'ATT_ERR_UNAUTHENTICATED',
])
