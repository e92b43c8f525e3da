import { type KeyObject, randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'

/**
 * A JWT-shaped token whose signature is not a signature: enough for code that decodes without
 * verifying (the TokenReview, faked, is what vouches for it in unit tests).
 */
export function unsignedToken(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = { alg: 'RS256', kid: 'test' },
): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${encode(header)}.${encode(claims)}.${Buffer.from('not-a-signature').toString('base64url')}`
}

/** Claims of a legacy (Secret-based) service account token. */
export function legacyClaims(serviceAccountUid: string = randomUUID()): Record<string, unknown> {
  return {
    iss: 'kubernetes/serviceaccount',
    'kubernetes.io/serviceaccount/namespace': 'spire',
    'kubernetes.io/serviceaccount/secret.name': 'spire-agent-token',
    'kubernetes.io/serviceaccount/service-account.name': 'spire-agent',
    'kubernetes.io/serviceaccount/service-account.uid': serviceAccountUid,
    sub: 'system:serviceaccount:spire:spire-agent',
  }
}

/** Claims of a projected token of `spire:spire-agent` bound to no object. */
export function projectedClaims(
  options: { issuer?: string; exp?: number; nowSeconds?: number } = {},
): Record<string, unknown> {
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000)
  return {
    aud: ['https://kubernetes.default.svc.cluster.local'],
    exp: options.exp ?? now + 3600,
    iat: now,
    nbf: now,
    iss: options.issuer ?? 'https://kubernetes.default.svc.cluster.local',
    jti: randomUUID(),
    'kubernetes.io': { namespace: 'spire', serviceaccount: { name: 'spire-agent', uid: randomUUID() } },
    sub: 'system:serviceaccount:spire:spire-agent',
  }
}

/** Signs `claims` with `key` and `alg`, as an API server would. */
export async function signedToken(
  claims: Record<string, unknown>,
  key: KeyObject,
  alg: string,
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, kid: 'test' }).sign(key)
}
