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

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/**
 * The same token with its signature spelled differently: the last base64url character of the
 * signature carries bits no byte uses, and lenient decoders (Node's, Go's) ignore them, so the
 * signature bytes — and its validity — stay the same while the token's text changes. What a
 * replaying attacker can do without any key.
 */
export function respelledSignature(token: string): string {
  const [header, payload, signature = ''] = token.split('.')
  const bytes = Buffer.from(signature, 'base64url')
  if (bytes.length % 3 === 0) throw new TypeError('this signature has no unused bits to flip')
  const last = BASE64URL_ALPHABET.indexOf(signature.at(-1) ?? '')
  const respelled = `${signature.slice(0, -1)}${BASE64URL_ALPHABET[last ^ 1]}`
  if (!Buffer.from(respelled, 'base64url').equals(bytes))
    throw new Error('respelling changed the signature bytes')
  return `${header}.${payload}.${respelled}`
}

/** The order of the P-256 group: an ECDSA signature `(r, s)` verifies as `(r, n − s)` too. */
const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551')

/** The same ES256 token with its signature's mirror image `(r, n − s)`, equally valid, made without the key. */
export function withMirroredEcdsaSignature(token: string): string {
  const [header, payload, signature = ''] = token.split('.')
  const bytes = Buffer.from(signature, 'base64url')
  if (bytes.length !== 64) throw new TypeError('not an ES256 signature')
  const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`)
  const mirrored = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex')
  return `${header}.${payload}.${Buffer.concat([bytes.subarray(0, 32), mirrored]).toString('base64url')}`
}
