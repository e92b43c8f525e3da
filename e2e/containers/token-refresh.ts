/** kubelet refreshes a projected token at 80 % of its lifetime, or after 24 hours, whichever is first. */
const REFRESH_FRACTION = 0.8
const REFRESH_AT_MOST_MS = 24 * 60 * 60 * 1000

/**
 * How long after `issuedAtMs` kubelet refreshes a token expiring at `expiresAtMs`: 80 % of its
 * lifetime, at most 24 h (Kubernetes' documentation of projected service account tokens).
 */
export function refreshDelayMs(issuedAtMs: number, expiresAtMs: number): number {
  if (!(expiresAtMs > issuedAtMs))
    throw new RangeError(`token expires (${expiresAtMs}) before it is issued (${issuedAtMs})`)
  return Math.min((expiresAtMs - issuedAtMs) * REFRESH_FRACTION, REFRESH_AT_MOST_MS)
}
