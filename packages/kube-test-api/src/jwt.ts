import { sign, verify } from 'node:crypto'
import { isJsonObject, type JsonObject, type JsonValue, sortKeysDeep } from './json.ts'
import type { SigningKey } from './signing-key.ts'

/**
 * Compact JWS as kube-apiserver (go-jose v2) writes and reads it: header
 * `{"alg","kid"}` and claims with sorted keys, base64url without padding,
 * strict base64url on the way in.
 */

/** A JWT split into its parts, not verified. */
export interface UnverifiedJwt {
  readonly header: JsonObject
  readonly claims: JsonObject
  /** `<header>.<payload>`, the bytes the signature covers. */
  readonly signingInput: string
  readonly signature: Buffer
}

const BASE64URL = /^[A-Za-z0-9_-]*$/

/** Go's `base64.RawURLEncoding.DecodeString`: no padding, no foreign characters. */
export function decodeBase64UrlStrict(part: string): Buffer | undefined {
  if (!BASE64URL.test(part) || part.length % 4 === 1) return undefined
  return Buffer.from(part, 'base64url')
}

function encodeJson(value: JsonValue): string {
  return Buffer.from(JSON.stringify(sortKeysDeep(value)), 'utf8').toString('base64url')
}

function parseJsonPart(part: string): JsonObject | undefined {
  const bytes = decodeBase64UrlStrict(part)
  if (bytes === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'))
    return isJsonObject(parsed) ? parsed : undefined
  } catch {
    // Not JSON: the token is malformed, which callers report as such.
    return undefined
  }
}

/** Splits a compact JWS; `undefined` when it is not three well-formed parts with JSON header and claims. */
export function decodeJwtUnverified(token: string): UnverifiedJwt | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string]
  const header = parseJsonPart(headerPart)
  const claims = parseJsonPart(payloadPart)
  const signature = decodeBase64UrlStrict(signaturePart)
  if (header === undefined || claims === undefined || signature === undefined) return undefined
  return { header, claims, signingInput: `${headerPart}.${payloadPart}`, signature }
}

/** Listeners told of every token this process signs (see {@link observeSignedTokens}). */
const signedTokenListeners = new Set<(token: string) => void>()

/**
 * Calls `listener` with every token any test API in this process signs from now on (TokenRequest,
 * legacy Secrets, `signToken`), so that a test suite can check that none of them ever reaches a
 * log. Returns a function that stops the calls.
 */
export function observeSignedTokens(listener: (token: string) => void): () => void {
  signedTokenListeners.add(listener)
  return () => signedTokenListeners.delete(listener)
}

/** Signs `claims` with `key`: header `{"alg","kid"}`, sorted claim keys. */
export function signJwt(claims: JsonObject, key: SigningKey, header: JsonObject = {}): string {
  const token = signUnobserved(claims, key, header)
  for (const listener of signedTokenListeners) listener(token)
  return token
}

function signUnobserved(claims: JsonObject, key: SigningKey, header: JsonObject): string {
  const signingInput = `${encodeJson({ alg: key.algorithm, kid: key.keyId, ...header })}.${encodeJson(claims)}`
  const signature =
    key.algorithm === 'RS256'
      ? sign('sha256', Buffer.from(signingInput), key.privateKey)
      : sign('sha256', Buffer.from(signingInput), { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
  return `${signingInput}.${signature.toString('base64url')}`
}

/**
 * Whether the signature of `jwt` verifies with `key` under the header's
 * `alg`. A different `alg`, a wrong length or a bad signature all fail, as
 * they all fail in go-jose with one error.
 */
export function verifyJwtSignature(jwt: UnverifiedJwt, key: SigningKey): boolean {
  if (jwt.header.alg !== key.algorithm) return false
  const data = Buffer.from(jwt.signingInput)
  if (key.algorithm === 'RS256') return verify('sha256', data, key.publicKey, jwt.signature)
  if (jwt.signature.length !== 64) return false
  return verify('sha256', data, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, jwt.signature)
}
