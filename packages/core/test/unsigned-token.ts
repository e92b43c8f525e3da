/**
 * Builds compact JWS strings for decoder tests. The signature is a fixed
 * placeholder: the decoder never verifies one, and a test that needs a real
 * signature uses a recorded token instead.
 */
import { base64url } from 'jose'

/** A base64url placeholder standing in for a signature. */
export const PLACEHOLDER_SIGNATURE = base64url.encode('not a signature')

/** `header.payload.signature`, with header and claims JSON-encoded. */
export function encodeUnsignedToken(
  header: unknown,
  claims: unknown,
  signature = PLACEHOLDER_SIGNATURE,
): string {
  return `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(claims))}.${signature}`
}

/** A header like kube-apiserver's. */
export const KUBE_HEADER = { alg: 'RS256', kid: 'txXcEuJa8ziJds1GnbO_QNxCvjYi6J9AoXfWl1_mL5s' } as const
