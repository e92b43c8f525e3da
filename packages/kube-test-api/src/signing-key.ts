import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto'
import type { JsonObject } from './json.ts'

/**
 * The cluster's service account signing key: one per cluster, RSA 2048 with
 * RS256 by default (kube-apiserver's usual `--service-account-key-file`),
 * ECDSA P-256 with ES256 on request. Its key ID is computed as kube-apiserver
 * computes it, so a JWKS consumer sees the same shape as from a real cluster.
 */

/** The JWS algorithms a cluster can sign with. */
export type SigningAlgorithm = 'RS256' | 'ES256'

/** A signing key with what is derived from it. */
export interface SigningKey {
  readonly algorithm: SigningAlgorithm
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
  /** `kid`: base64url(SHA-256(DER SubjectPublicKeyInfo)), as kube-apiserver's `keyIDFromPublicKey`. */
  readonly keyId: string
}

/** kube-apiserver's key ID for a public key. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' })
  return createHash('sha256').update(der).digest('base64url')
}

function algorithmOf(key: KeyObject): SigningAlgorithm {
  if (key.asymmetricKeyType === 'rsa') return 'RS256'
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256'
  throw new TypeError('a signing key must be RSA (RS256) or ECDSA P-256 (ES256)')
}

/** A fresh signing key for `algorithm`. */
export function generateSigningKey(algorithm: SigningAlgorithm = 'RS256'): SigningKey {
  const { privateKey } =
    algorithm === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return signingKeyFrom(privateKey)
}

/** A signing key from an existing private key (a `KeyObject` or PEM); the algorithm follows the key type. */
export function signingKeyFrom(privateKey: KeyObject | string): SigningKey {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey
  if (key.type !== 'private') throw new TypeError('"signingKey" must be a private key')
  const publicKey = createPublicKey(key)
  return { algorithm: algorithmOf(key), privateKey: key, publicKey, keyId: keyIdOf(publicKey) }
}

/**
 * The key as `/openid/v1/jwks` lists it, in go-jose's field order:
 * `use, kty, kid, alg, n, e` (RSA) or `use, kty, kid, crv, alg, x, y` (EC).
 */
export function publicJwk(key: SigningKey): JsonObject {
  const jwk = key.publicKey.export({ format: 'jwk' })
  if (key.algorithm === 'RS256') {
    return { use: 'sig', kty: 'RSA', kid: key.keyId, alg: 'RS256', n: String(jwk.n), e: String(jwk.e) }
  }
  return {
    use: 'sig',
    kty: 'EC',
    kid: key.keyId,
    crv: 'P-256',
    alg: 'ES256',
    x: String(jwk.x),
    y: String(jwk.y),
  }
}
