/**
 * Reading a Kubernetes service account token WITHOUT verifying it.
 *
 * Nothing here checks a signature, an expiry or an audience: that is the
 * TokenReview's job (see `token-review.ts`), done by the API server that
 * issued the token. What the decoder offers is a strict reading of the shape —
 * so that garbage is refused before a TokenReview is spent on it, and so that
 * the server can cross-check what the token *claims* (its service account UID)
 * against what Kubernetes *confirmed*. Never make an authorization decision on
 * these claims alone.
 *
 * Two shapes exist:
 * - **projected** (PSAT, from the TokenRequest API, audience-bound and
 *   expiring): registered claims plus a `kubernetes.io` object naming the
 *   namespace, service account, and the pod, node or secret it is bound to;
 * - **legacy** (SAT, from a `kubernetes.io/service-account-token` Secret, no
 *   audience, no expiry): issuer `kubernetes/serviceaccount` and flat
 *   `kubernetes.io/serviceaccount/*` claims.
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc7519 | RFC 7519 (JWT)}
 * @see {@link https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#bound-service-account-tokens | Kubernetes: bound service account tokens}
 */
// jose's own base64url entry: the package root would load all of jose (+10 MiB in the agent, which verifies nothing).
import * as base64url from 'jose/base64url'
import { AttestError } from './errors.ts'
import { describeType, isJsonObject, quote } from './internal/quote.ts'
import { utf8ByteLength } from './internal/utf8.ts'
import {
  formatServiceAccountName,
  parseServiceAccountUsername,
  type ServiceAccountName,
} from './service-account-username.ts'
import { MAX_TOKEN_BYTES } from './wire-constants.ts'

/** The `iss` of every legacy (Secret-based) service account token. */
export const LEGACY_SERVICE_ACCOUNT_ISSUER = 'kubernetes/serviceaccount'

/** The flat claims of a legacy service account token, by what they hold. */
export const LEGACY_SERVICE_ACCOUNT_CLAIMS = {
  namespace: 'kubernetes.io/serviceaccount/namespace',
  secretName: 'kubernetes.io/serviceaccount/secret.name',
  serviceAccountName: 'kubernetes.io/serviceaccount/service-account.name',
  serviceAccountUid: 'kubernetes.io/serviceaccount/service-account.uid',
} as const

/** The claim holding the projected token's Kubernetes details. */
export const PROJECTED_KUBERNETES_CLAIM = 'kubernetes.io'

/** The JOSE header of a service account token, e.g. `{ alg: "RS256", kid: "txXc…" }`. */
export interface ServiceAccountTokenHeader {
  /** Signature algorithm (RFC 7515 §4.1.1); Kubernetes signs with RS256 or ES256. */
  readonly alg: string
  /** ID of the issuer's signing key in its JWKS, when present. */
  readonly kid?: string
  /** Any other header parameter, untouched. */
  readonly [parameter: string]: unknown
}

/** A Kubernetes object a projected token names or is bound to. */
export interface KubernetesObjectRef {
  /** The object's name, e.g. `"spire-agent-pod"`. */
  readonly name: string
  /** The object's UID, e.g. `"761196fa-56d8-4823-8d5d-af92b2955257"`. */
  readonly uid: string
}

/**
 * The `kubernetes.io` claim of a projected token. The bound object is at most
 * one of `pod`, `secret` or `node`; a pod-bound token also names the pod's
 * `node` (Kubernetes ≥ 1.30).
 */
export interface ProjectedKubernetesClaim {
  /** The service account's namespace. */
  readonly namespace?: string
  /** The service account. */
  readonly serviceaccount?: KubernetesObjectRef
  /** The pod the token is bound to (it dies with the pod). */
  readonly pod?: KubernetesObjectRef
  /** The node the token or its pod is bound to. */
  readonly node?: KubernetesObjectRef
  /** The Secret the token is bound to. */
  readonly secret?: KubernetesObjectRef
  /** NumericDate after which kube-apiserver warns about use of an extended-expiry token. */
  readonly warnafter?: number
  /** Any other field, untouched. */
  readonly [field: string]: unknown
}

/**
 * The claims of a projected token, e.g. (recorded from kube-apiserver v1.32):
 *
 * ```json
 * { "aud": ["spire-server"], "exp": 1795489158, "iat": 1795488558, "nbf": 1795488558,
 *   "iss": "https://kubernetes.default.svc.cluster.local",
 *   "jti": "977e4854-1f4e-4232-af0a-875870ef2d46",
 *   "kubernetes.io": { "namespace": "spire",
 *     "node": { "name": "node-a", "uid": "733588a8-e575-4852-8c05-5e4c7b17313e" },
 *     "pod": { "name": "spire-agent-pod", "uid": "761196fa-56d8-4823-8d5d-af92b2955257" },
 *     "serviceaccount": { "name": "spire-agent", "uid": "b1cc04a4-4636-43af-a329-e6ce3041447f" } },
 *   "sub": "system:serviceaccount:spire:spire-agent" }
 * ```
 */
export interface ProjectedServiceAccountClaims {
  /** Issuer: the cluster's `--service-account-issuer`. */
  readonly iss: string
  /** `system:serviceaccount:<namespace>:<name>`. */
  readonly sub: string
  /** Audiences, always an array here (a JWT may carry a single string; it is normalised). */
  readonly aud: readonly string[]
  /** Expiry, NumericDate (seconds since the epoch). */
  readonly exp: number
  /** Issued at, NumericDate. */
  readonly iat: number
  /** Not before, NumericDate. */
  readonly nbf?: number
  /** Token ID (Kubernetes ≥ 1.29); TokenReview reports it as credential ID `JTI=<jti>`. */
  readonly jti?: string
  /** The Kubernetes details. */
  readonly 'kubernetes.io': ProjectedKubernetesClaim
  /** Any other claim, untouched. */
  readonly [claim: string]: unknown
}

/**
 * The claims of a legacy token, e.g.:
 *
 * ```json
 * { "iss": "kubernetes/serviceaccount",
 *   "kubernetes.io/serviceaccount/namespace": "spire",
 *   "kubernetes.io/serviceaccount/secret.name": "spire-agent-legacy",
 *   "kubernetes.io/serviceaccount/service-account.name": "spire-agent",
 *   "kubernetes.io/serviceaccount/service-account.uid": "b1cc04a4-4636-43af-a329-e6ce3041447f",
 *   "sub": "system:serviceaccount:spire:spire-agent" }
 * ```
 */
export interface LegacyServiceAccountClaims {
  /** Always `kubernetes/serviceaccount`. */
  readonly iss: typeof LEGACY_SERVICE_ACCOUNT_ISSUER
  /** `system:serviceaccount:<namespace>:<name>`. */
  readonly sub: string
  /** The service account's namespace. */
  readonly 'kubernetes.io/serviceaccount/namespace'?: string
  /** The Secret holding the token. */
  readonly 'kubernetes.io/serviceaccount/secret.name'?: string
  /** The service account's name. */
  readonly 'kubernetes.io/serviceaccount/service-account.name'?: string
  /** The service account's UID. */
  readonly 'kubernetes.io/serviceaccount/service-account.uid'?: string
  /** Any other claim, untouched (an `aud`, if present, is normalised to an array). */
  readonly [claim: string]: unknown
}

/** The service account a token names: namespace, name, and UID when the token carries one. */
export interface ClaimedServiceAccount extends ServiceAccountName {
  /** The UID the token claims for its service account. */
  readonly uid?: string
}

/** What both token shapes decode to. */
interface DecodedServiceAccountTokenBase {
  /** The JOSE header. */
  readonly header: ServiceAccountTokenHeader
  /** The service account, consistent across every claim that names it. */
  readonly serviceAccount: ClaimedServiceAccount
  /** The `aud` claim as an array; empty when the token has none (legacy tokens). */
  readonly audiences: readonly string[]
}

/** A decoded projected (PSAT) token. Its claims are NOT verified. */
export interface DecodedProjectedServiceAccountToken extends DecodedServiceAccountTokenBase {
  /** Discriminant. */
  readonly kind: 'projected'
  /** All claims, as the token carries them (with `aud` as an array). */
  readonly claims: ProjectedServiceAccountClaims
  /** The pod the token is bound to, if any. */
  readonly pod?: KubernetesObjectRef
  /** The node the token (or its pod) is bound to, if the token names one. */
  readonly node?: KubernetesObjectRef
}

/** A decoded legacy (SAT) token. Its claims are NOT verified. */
export interface DecodedLegacyServiceAccountToken extends DecodedServiceAccountTokenBase {
  /** Discriminant. */
  readonly kind: 'legacy'
  /** All claims, as the token carries them. */
  readonly claims: LegacyServiceAccountClaims
  /** The Secret holding the token, when the token names it. */
  readonly secretName?: string
}

/** A decoded service account token of either shape; switch on `kind`. */
export type DecodedServiceAccountToken =
  | DecodedProjectedServiceAccountToken
  | DecodedLegacyServiceAccountToken

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const BASE64URL = /^[A-Za-z0-9_-]*$/
/** `fatal` makes invalid UTF-8 an error instead of silently becoming U+FFFD. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Decodes a Kubernetes service account token's header and claims, checks
 * their shape strictly, and classifies the token as projected or legacy —
 * **without verifying its signature, expiry or audience**.
 *
 * Checks, each with its `details.check`: a string (`token_type`) of at most
 * 16 KiB (`token_size`); three `.`-separated parts (`token_parts`); each part
 * non-empty base64url (`header_base64url`, `payload_base64url`,
 * `signature_base64url`), header and payload spelled canonically (no bits set
 * that encode no byte, so a signed part has one spelling only); header and payload UTF-8 JSON objects
 * (`header_json`, `payload_json`); a string `alg` (`header_alg`) and, if
 * present, a string `kid` (`header_kid`); required claims present
 * (`claim_missing`, the claim in `details.value`) and every known claim of the
 * right type (`claim_type`); a projected `kubernetes.io` object or legacy
 * claims (`kind`), legacy ones with issuer `kubernetes/serviceaccount`
 * (`legacy_issuer`); namespace and service account name present
 * (`namespace_missing`, `service_account_name_missing`) and the same wherever
 * they appear (`namespace_conflict`, `service_account_name_conflict`,
 * `service_account_uid_conflict`); `sub` of the form
 * `system:serviceaccount:<ns>:<name>` (`subject_format`) naming that same
 * service account (`subject_mismatch`).
 *
 * @param token The compact JWS, as read from the token file or request.
 * @throws {AttestError} `ATT_ERR_TOKEN_MALFORMED` — and nothing else, whatever
 *   the input — with `details.check` naming the rule. Messages never quote the
 *   token.
 * @see {@link https://www.rfc-editor.org/rfc/rfc7519#section-7.2 | RFC 7519 §7.2 (validating a JWT)}
 * @example
 * ```ts
 * const decoded = decodeServiceAccountTokenUnverified(tokenFromFile)
 * if (decoded.kind === 'projected') {
 *   decoded.serviceAccount // { namespace: "spire", name: "spire-agent", uid: "b1cc04a4-…" }
 *   decoded.pod?.uid       // "761196fa-…" — claimed, not yet confirmed by a TokenReview
 * }
 * ```
 */
export function decodeServiceAccountTokenUnverified(token: string): DecodedServiceAccountToken {
  const { header, payload } = decodeCompactJws(token)
  return classifyClaims(readHeader(header), payload)
}

interface CompactJwsParts {
  readonly header: Readonly<Record<string, unknown>>
  readonly payload: Readonly<Record<string, unknown>>
}

function malformed(
  check: string,
  rule: string,
  details: { readonly value?: string; readonly expected?: string } = {},
  cause?: unknown,
): AttestError {
  return new AttestError('ATT_ERR_TOKEN_MALFORMED', `malformed service account token: ${rule}`, {
    check,
    ...details,
    ...(cause === undefined ? {} : { cause }),
  })
}

function decodeCompactJws(token: string): CompactJwsParts {
  if (typeof token !== 'string') {
    throw malformed('token_type', `a token must be a string (found ${describeType(token)})`)
  }
  // The cheap length test first: a string longer than the limit in UTF-16
  // units is longer in UTF-8 bytes too, and is refused without being walked.
  if (token.length > MAX_TOKEN_BYTES || utf8ByteLength(token) > MAX_TOKEN_BYTES) {
    throw malformed('token_size', `a token may be at most ${MAX_TOKEN_BYTES} bytes long`, {
      expected: `at most ${MAX_TOKEN_BYTES} bytes`,
    })
  }
  const parts = token.split('.')
  if (parts.length !== 3) {
    const hint =
      parts.length === 5 ? '; an encrypted JWT (JWE, five parts) is not a service account token' : ''
    throw malformed(
      'token_parts',
      `expected a compact JWS of three "."-separated parts (found ${parts.length})${hint}`,
      { expected: '3 parts' },
    )
  }
  const [encodedHeader = '', encodedPayload = '', encodedSignature = ''] = parts
  const header = decodeJsonObject(encodedHeader, 'header')
  const payload = decodeJsonObject(encodedPayload, 'payload')
  // Never verified here, but an unsigned token is not a service account token.
  checkBase64url(encodedSignature, 'signature')
  return { header, payload }
}

type PartName = 'header' | 'payload' | 'signature'

function checkBase64url(encoded: string, part: PartName): void {
  const check = `${part}_base64url`
  if (encoded === '') throw malformed(check, `the ${part} part is empty`)
  if (!BASE64URL.test(encoded)) {
    throw malformed(check, `the ${part} part is not base64url (only A-Z, a-z, 0-9, "-" and "_", no padding)`)
  }
  // Four characters carry three bytes; a lone trailing character carries none.
  if (encoded.length % 4 === 1) throw malformed(check, `the ${part} part has an impossible base64url length`)
  // The signature's spelling is left alone: it is not part of what is signed, and the server
  // keys single use on the signed part, `header.payload`, for that reason.
  if (part !== 'signature' && !hasCanonicalEnding(encoded)) {
    throw malformed(
      check,
      `the ${part} part is not canonical base64url (its last character sets bits that encode no byte)`,
    )
  }
}

/**
 * Whether the bits of the last character that encode no byte are zero, as every encoder writes
 * them (RFC 4648 §3.5). Lenient decoders — Node's, Go's, and so kube-apiserver's JOSE library,
 * which re-encodes what it decoded to check the signature — ignore those bits, so without this
 * one signed header or payload has up to 16 spellings that all verify.
 */
function hasCanonicalEnding(encoded: string): boolean {
  // 2 trailing characters carry 12 bits for 1 byte, 3 carry 18 bits for 2 bytes.
  const unusedBits = [0, 0, 4, 2][encoded.length % 4] ?? 0
  const last = BASE64URL_ALPHABET.indexOf(encoded.charAt(encoded.length - 1))
  return (last & ((1 << unusedBits) - 1)) === 0
}

function decodeJsonObject(encoded: string, part: 'header' | 'payload'): Readonly<Record<string, unknown>> {
  checkBase64url(encoded, part)
  let bytes: Uint8Array
  try {
    bytes = base64url.decode(encoded)
  } catch (cause) {
    // Not expected after checkBase64url; kept so that a decoder difference
    // between runtimes still surfaces as a malformed token, not a TypeError.
    throw malformed(`${part}_base64url`, `the ${part} part is not base64url`, {}, cause)
  }
  let text: string
  try {
    text = STRICT_UTF8.decode(bytes)
  } catch (cause) {
    throw malformed(`${part}_json`, `the ${part} is not valid UTF-8`, {}, cause)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    throw malformed(`${part}_json`, `the ${part} is not JSON`, {}, cause)
  }
  if (!isJsonObject(value)) {
    throw malformed(`${part}_json`, `the ${part} must be a JSON object (found ${describeType(value)})`)
  }
  return value
}

function readHeader(header: Readonly<Record<string, unknown>>): ServiceAccountTokenHeader {
  const { alg, kid } = header
  if (typeof alg !== 'string' || alg === '') {
    throw malformed(
      'header_alg',
      `the header must have a non-empty string "alg" (found ${describeType(alg)})`,
      {
        expected: 'non-empty string',
      },
    )
  }
  if (kid !== undefined && typeof kid !== 'string') {
    throw malformed('header_kid', `the header's "kid" must be a string (found ${describeType(kid)})`, {
      expected: 'string',
    })
  }
  return { ...header, alg }
}

/** Typed access to claims, each failure naming the claim by its path. */
class ClaimReader {
  readonly #claims: Readonly<Record<string, unknown>>
  readonly #prefix: string

  constructor(claims: Readonly<Record<string, unknown>>, prefix = '') {
    this.#claims = claims
    this.#prefix = prefix
  }

  has(name: string): boolean {
    return this.#claims[name] !== undefined
  }

  assertPresent(name: string): void {
    if (!this.has(name)) throw this.#missing(name)
  }

  /** A non-empty string, or `undefined` when absent. */
  optionalString(name: string): string | undefined {
    const value = this.#claims[name]
    if (value === undefined) return undefined
    if (typeof value !== 'string' || value === '') throw this.#wrongType(name, value, 'non-empty string')
    return value
  }

  requiredString(name: string): string {
    const value = this.optionalString(name)
    if (value === undefined) throw this.#missing(name)
    return value
  }

  /** Any string, empty included (`jti` is opaque), or `undefined` when absent. */
  optionalOpaqueString(name: string): string | undefined {
    const value = this.#claims[name]
    if (value === undefined) return undefined
    if (typeof value !== 'string') throw this.#wrongType(name, value, 'string')
    return value
  }

  /** A NumericDate (RFC 7519 §2): a finite number of seconds, or `undefined` when absent. */
  optionalNumericDate(name: string): number | undefined {
    const value = this.#claims[name]
    if (value === undefined) return undefined
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw this.#wrongType(name, value, 'NumericDate (number of seconds)')
    }
    return value
  }

  /** RFC 7519 §4.1.3: one string or an array of them; normalised to a non-empty array. */
  optionalAudiences(name: string): string[] | undefined {
    const value = this.#claims[name]
    if (value === undefined) return undefined
    const expected = 'string or non-empty array of strings'
    if (typeof value === 'string') return [value]
    if (!Array.isArray(value) || value.length === 0) throw this.#wrongType(name, value, expected)
    const audiences: string[] = []
    for (const audience of value) {
      if (typeof audience !== 'string') throw this.#wrongType(name, value, expected)
      audiences.push(audience)
    }
    return audiences
  }

  /** A nested object, read with its own reader, or `undefined` when absent. */
  optionalObject(name: string): ClaimReader | undefined {
    const value = this.#claims[name]
    if (value === undefined) return undefined
    if (!isJsonObject(value)) throw this.#wrongType(name, value, 'object')
    return new ClaimReader(value, `${this.#prefix}${name}.`)
  }

  /** A nested `{ name, uid }`, both non-empty strings, or `undefined` when absent. */
  optionalObjectRef(name: string): KubernetesObjectRef | undefined {
    const object = this.optionalObject(name)
    if (object === undefined) return undefined
    return { name: object.requiredString('name'), uid: object.requiredString('uid') }
  }

  #missing(name: string): AttestError {
    const path = `${this.#prefix}${name}`
    return malformed('claim_missing', `the claim ${quote(path)} is missing`, { value: path })
  }

  #wrongType(name: string, value: unknown, expected: string): AttestError {
    const path = `${this.#prefix}${name}`
    return malformed(
      'claim_type',
      `the claim ${quote(path)} must be a ${expected} (found ${describeType(value)})`,
      {
        value: path,
        expected,
      },
    )
  }
}

/** Where a namespace, name or UID was found, for conflict messages. */
interface Sighting {
  readonly value: string
  readonly claim: string
}

/**
 * The one value every sighting agrees on, `undefined` when there is none.
 * Different values are a malformed token: SPIRE's k8s_sat refuses a token that
 * names its namespace twice, and a genuine token never disagrees with itself.
 */
function agree(
  what: string,
  check: string,
  sightings: ReadonlyArray<Sighting | undefined>,
): string | undefined {
  const [first, ...others] = sightings.filter((candidate): candidate is Sighting => candidate !== undefined)
  if (first === undefined) return undefined
  for (const other of others) {
    if (other.value !== first.value) {
      throw malformed(
        check,
        `the ${what} is ${quote(first.value)} in claim ${quote(first.claim)} but ${quote(other.value)} in claim ${quote(other.claim)}`,
        { value: other.value, expected: first.value },
      )
    }
  }
  return first.value
}

function sighting(value: string | undefined, claim: string): Sighting | undefined {
  return value === undefined ? undefined : { value, claim }
}

/** Every claim this module reads, type-checked, before any rule that combines them. */
interface KnownClaims {
  readonly reader: ClaimReader
  readonly iss: string
  readonly sub: string
  readonly audiences: string[] | undefined
  /** The `kubernetes.io` claim, when present. */
  readonly projected:
    | {
        readonly namespace: string | undefined
        readonly serviceAccount: KubernetesObjectRef | undefined
        readonly pod: KubernetesObjectRef | undefined
        readonly node: KubernetesObjectRef | undefined
      }
    | undefined
  readonly legacy: {
    /** Whether any `kubernetes.io/serviceaccount/*` claim is present. */
    readonly present: boolean
    readonly namespace: string | undefined
    readonly secretName: string | undefined
    readonly name: string | undefined
    readonly uid: string | undefined
  }
}

/**
 * Reads and type-checks every known claim in one pass, so that a wrong type
 * is reported as such before a rule that combines claims could report it as
 * something else.
 */
function readKnownClaims(payload: Readonly<Record<string, unknown>>): KnownClaims {
  const reader = new ClaimReader(payload)
  const iss = reader.requiredString('iss')
  const sub = reader.requiredString('sub')
  const audiences = reader.optionalAudiences('aud')
  reader.optionalNumericDate('exp')
  reader.optionalNumericDate('iat')
  reader.optionalNumericDate('nbf')
  reader.optionalOpaqueString('jti')

  const kubernetes = reader.optionalObject(PROJECTED_KUBERNETES_CLAIM)
  let projected: KnownClaims['projected']
  if (kubernetes !== undefined) {
    projected = {
      namespace: kubernetes.optionalString('namespace'),
      serviceAccount: kubernetes.optionalObjectRef('serviceaccount'),
      pod: kubernetes.optionalObjectRef('pod'),
      node: kubernetes.optionalObjectRef('node'),
    }
    kubernetes.optionalObjectRef('secret')
    kubernetes.optionalNumericDate('warnafter')
  }

  const legacy = {
    present: Object.values(LEGACY_SERVICE_ACCOUNT_CLAIMS).some((name) => reader.has(name)),
    namespace: reader.optionalString(LEGACY_SERVICE_ACCOUNT_CLAIMS.namespace),
    secretName: reader.optionalString(LEGACY_SERVICE_ACCOUNT_CLAIMS.secretName),
    name: reader.optionalString(LEGACY_SERVICE_ACCOUNT_CLAIMS.serviceAccountName),
    uid: reader.optionalString(LEGACY_SERVICE_ACCOUNT_CLAIMS.serviceAccountUid),
  }
  return { reader, iss, sub, audiences, projected, legacy }
}

/**
 * Projected when the token has a `kubernetes.io` claim, legacy otherwise —
 * and then it must really look like one of them.
 */
function kindOf(known: KnownClaims): DecodedServiceAccountToken['kind'] {
  if (known.projected !== undefined) {
    // Kubernetes always writes these into a projected token; without them it
    // is not one, whatever else it carries.
    known.reader.assertPresent('aud')
    known.reader.assertPresent('exp')
    known.reader.assertPresent('iat')
    return 'projected'
  }
  if (known.iss === LEGACY_SERVICE_ACCOUNT_ISSUER) return 'legacy'
  if (!known.legacy.present) {
    throw malformed(
      'kind',
      `the token has neither the projected ${quote(PROJECTED_KUBERNETES_CLAIM)} claim nor the legacy "kubernetes.io/serviceaccount/*" claims; it is not a Kubernetes service account token`,
    )
  }
  throw malformed(
    'legacy_issuer',
    `a legacy service account token must have issuer ${quote(LEGACY_SERVICE_ACCOUNT_ISSUER)} (found ${quote(known.iss)})`,
    { value: known.iss, expected: LEGACY_SERVICE_ACCOUNT_ISSUER },
  )
}

/**
 * The service account the token names, after checking that every claim
 * naming it — projected, legacy and `sub` — names the same one.
 */
function claimedServiceAccount(known: KnownClaims): ClaimedServiceAccount {
  const projectedClaim = (field: string) => `${PROJECTED_KUBERNETES_CLAIM}.${field}`
  const namespace = agree('namespace', 'namespace_conflict', [
    sighting(known.projected?.namespace, projectedClaim('namespace')),
    sighting(known.legacy.namespace, LEGACY_SERVICE_ACCOUNT_CLAIMS.namespace),
  ])
  if (namespace === undefined) {
    throw malformed(
      'namespace_missing',
      `no claim names the namespace (expected ${quote(projectedClaim('namespace'))} or ${quote(LEGACY_SERVICE_ACCOUNT_CLAIMS.namespace)})`,
    )
  }
  const name = agree('service account name', 'service_account_name_conflict', [
    sighting(known.projected?.serviceAccount?.name, projectedClaim('serviceaccount.name')),
    sighting(known.legacy.name, LEGACY_SERVICE_ACCOUNT_CLAIMS.serviceAccountName),
  ])
  if (name === undefined) {
    throw malformed(
      'service_account_name_missing',
      `no claim names the service account (expected ${quote(projectedClaim('serviceaccount.name'))} or ${quote(LEGACY_SERVICE_ACCOUNT_CLAIMS.serviceAccountName)})`,
    )
  }
  const uid = agree('service account UID', 'service_account_uid_conflict', [
    sighting(known.projected?.serviceAccount?.uid, projectedClaim('serviceaccount.uid')),
    sighting(known.legacy.uid, LEGACY_SERVICE_ACCOUNT_CLAIMS.serviceAccountUid),
  ])
  const serviceAccount: ClaimedServiceAccount = { namespace, name, ...(uid === undefined ? {} : { uid }) }

  const subject = parseServiceAccountUsername(known.sub)
  if (!subject.ok) {
    throw malformed(
      'subject_format',
      `the "sub" claim ${quote(known.sub)} is not a service account: ${subject.reason}`,
      {
        value: known.sub,
        expected: 'system:serviceaccount:<namespace>:<name>',
      },
    )
  }
  if (subject.namespace !== namespace || subject.name !== name) {
    throw malformed(
      'subject_mismatch',
      `the "sub" claim names service account ${quote(formatServiceAccountName(subject))} but the other claims name ${quote(formatServiceAccountName(serviceAccount))}`,
      { value: formatServiceAccountName(subject), expected: formatServiceAccountName(serviceAccount) },
    )
  }
  return serviceAccount
}

function classifyClaims(
  header: ServiceAccountTokenHeader,
  payload: Readonly<Record<string, unknown>>,
): DecodedServiceAccountToken {
  const known = readKnownClaims(payload)
  const kind = kindOf(known)
  const serviceAccount = claimedServiceAccount(known)
  const audiences = known.audiences ?? []
  // The claims as the token carries them, except `aud`, always an array.
  const claims = known.audiences === undefined ? { ...payload } : { ...payload, aud: known.audiences }

  if (kind === 'projected') {
    const { pod, node } = known.projected ?? {}
    return {
      kind,
      header,
      claims: claims as ProjectedServiceAccountClaims,
      serviceAccount,
      audiences,
      ...(pod === undefined ? {} : { pod }),
      ...(node === undefined ? {} : { node }),
    }
  }
  const { secretName } = known.legacy
  return {
    kind,
    header,
    claims: claims as LegacyServiceAccountClaims,
    serviceAccount,
    audiences,
    ...(secretName === undefined ? {} : { secretName }),
  }
}
