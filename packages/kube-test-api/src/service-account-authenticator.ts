import { type Clock, parseKubeTime } from './clock.ts'
import { goQuote, goQuoteList } from './go-format.ts'
import { type JsonObject, type JsonValue, objectAt, stringAt } from './json.ts'
import { decodeJwtUnverified, verifyJwtSignature } from './jwt.ts'
import type { SigningKey } from './signing-key.ts'
import type { ObjectStore } from './store.ts'
import { LEGACY_ISSUER } from './token-claims.ts'
import {
  AUTHENTICATED_GROUP,
  parseServiceAccountUsername,
  SERVICE_ACCOUNTS_GROUP,
  serviceAccountUsername,
  type UserInfo,
} from './user-info.ts'

/**
 * kube-apiserver's service account token authenticator
 * (`pkg/serviceaccount/jwt.go`, `claims.go`, `legacy.go`, v1.32): the checks
 * in its order and with its error texts.
 *
 * 1. The issuer, read before verification, must be the cluster's (or the
 *    legacy `kubernetes/serviceaccount`); otherwise the token is simply not
 *    a service account token (no error).
 * 2. The signature must verify with the cluster key
 *    (`square/go-jose: error in cryptographic primitive`).
 * 3. The token's audiences (a legacy token: the API audiences) must meet the
 *    requested ones (`token audiences [...] is invalid for the target audiences [...]`).
 * 4. Expiry and not-before with go-jose's 60 s leeway, then the objects the
 *    token is bound to: the service account, and the secret, pod or node,
 *    by name and UID; a pod or node deleted more than 60 s ago invalidates it.
 */

/** go-jose's `jwt.DefaultLeeway`, also the grace of a terminating pod's tokens. */
export const CLAIM_LEEWAY_MS = 60_000

/** What the authenticator needs to know about the cluster. */
export interface ServiceAccountAuthenticatorConfig {
  /** The issuers whose tokens this cluster accepts (its `--service-account-issuer`). */
  readonly issuers: readonly string[]
  /** `--api-audiences`: a legacy token's audiences, and the default requested audiences. */
  readonly apiAudiences: readonly string[]
  readonly key: SigningKey
  readonly store: ObjectStore
  readonly clock: Clock
}

/** The authenticator's verdict; `error` is absent when the token is not a service account token at all. */
export type ServiceAccountAuthentication =
  | { readonly authenticated: true; readonly user: UserInfo; readonly audiences: readonly string[] }
  | { readonly authenticated: false; readonly error?: string }

/** A service account token's subject once validated (`ServiceAccountInfo`). */
interface ServiceAccountInfo {
  readonly namespace: string
  readonly name: string
  readonly uid: string
  readonly podName?: string
  readonly podUid?: string
  readonly nodeName?: string
  readonly nodeUid?: string
  readonly credentialId?: string
}

class ValidationError extends Error {}

function fail(error: string): ServiceAccountAuthentication {
  return { authenticated: false, error }
}

/** Reviews `token` for `requestedAudiences` (undefined: the API audiences). */
export function authenticateServiceAccountToken(
  token: string,
  requestedAudiences: readonly string[] | undefined,
  config: ServiceAccountAuthenticatorConfig,
): ServiceAccountAuthentication {
  const jwt = decodeJwtUnverified(token)
  if (jwt === undefined) return { authenticated: false }
  const issuer = jwt.claims.iss
  const legacy = issuer === LEGACY_ISSUER
  if (typeof issuer !== 'string' || (!legacy && !config.issuers.includes(issuer)))
    return { authenticated: false }
  if (!verifyJwtSignature(jwt, config.key)) return fail('square/go-jose: error in cryptographic primitive')

  const claimTypeError = checkPublicClaimTypes(jwt.claims)
  if (claimTypeError !== undefined) return fail(claimTypeError)
  const tokenAudiences = audiencesOf(jwt.claims.aud)
  const effectiveTokenAudiences = tokenAudiences.length === 0 ? config.apiAudiences : tokenAudiences
  const requested = requestedAudiences ?? config.apiAudiences
  const audiences = effectiveTokenAudiences.filter((audience) => requested.includes(audience))
  if (audiences.length === 0 && config.apiAudiences.length > 0) {
    return fail(
      `token audiences ${goQuoteList(effectiveTokenAudiences)} is invalid for the target audiences ${goQuoteList(requested)}`,
    )
  }
  try {
    const info = legacy
      ? validateLegacyToken(token, jwt.claims, config)
      : validateBoundToken(jwt.claims, config)
    return { authenticated: true, user: userInfoOf(info), audiences }
  } catch (error) {
    if (error instanceof ValidationError) return fail(error.message)
    throw error
  }
}

const NUMERIC_CLAIMS = ['exp', 'nbf', 'iat'] as const
const STRING_CLAIMS = ['iss', 'sub', 'jti'] as const

function jsonTypeName(value: JsonValue): string {
  if (Array.isArray(value)) return 'array'
  if (value === null) return 'null'
  return typeof value === 'boolean' ? 'bool' : typeof value
}

/** The decode error of a registered claim of the wrong JSON type, worded as Go's decoder. */
function checkPublicClaimTypes(claims: JsonObject): string | undefined {
  for (const claim of NUMERIC_CLAIMS) {
    const value = claims[claim]
    if (value !== undefined && value !== null && typeof value !== 'number') {
      return `json: cannot unmarshal ${jsonTypeName(value)} into Go struct field Claims.${claim} of type jwt.NumericDate`
    }
  }
  for (const claim of STRING_CLAIMS) {
    const value = claims[claim]
    if (value !== undefined && value !== null && typeof value !== 'string') {
      return `json: cannot unmarshal ${jsonTypeName(value)} into Go struct field Claims.${claim} of type string`
    }
  }
  const aud = claims.aud
  if (
    aud !== undefined &&
    aud !== null &&
    typeof aud !== 'string' &&
    !(Array.isArray(aud) && aud.every((a) => typeof a === 'string'))
  ) {
    return 'square/go-jose/jwt: expected string or array value to unmarshal to Audience'
  }
  return undefined
}

function audiencesOf(aud: JsonValue | undefined): string[] {
  if (typeof aud === 'string') return [aud]
  return Array.isArray(aud) ? aud.filter((entry): entry is string => typeof entry === 'string') : []
}

function numericClaim(claims: JsonObject, claim: string): number | undefined {
  const value = claims[claim]
  return typeof value === 'number' ? value * 1000 : undefined
}

interface Ref {
  readonly name: string
  readonly uid: string
}

function refAt(object: JsonObject | undefined, key: string): Ref | undefined {
  const ref = objectAt(object, key)
  return ref === undefined
    ? undefined
    : { name: stringAt(ref, 'name') ?? '', uid: stringAt(ref, 'uid') ?? '' }
}

function uidOf(object: JsonObject): string {
  return stringAt(objectAt(object, 'metadata'), 'uid') ?? ''
}

function deletedBefore(object: JsonObject, cutoff: number): boolean {
  const deletion = parseKubeTime(stringAt(objectAt(object, 'metadata'), 'deletionTimestamp'))
  return deletion !== undefined && deletion < cutoff
}

/** `validator.Validate` for TokenRequest tokens. */
function validateBoundToken(
  claims: JsonObject,
  config: ServiceAccountAuthenticatorConfig,
): ServiceAccountInfo {
  const now = config.clock.now()
  const notBefore = numericClaim(claims, 'nbf')
  const expiry = numericClaim(claims, 'exp')
  const issuedAt = numericClaim(claims, 'iat')
  if (notBefore !== undefined && now + CLAIM_LEEWAY_MS < notBefore) {
    throw new ValidationError('service account token is not valid yet')
  }
  if (expiry !== undefined && now - CLAIM_LEEWAY_MS > expiry)
    throw new ValidationError('service account token has expired')
  if (issuedAt !== undefined && now + CLAIM_LEEWAY_MS < issuedAt) {
    throw new ValidationError('service account token is issued in the future')
  }

  const invalidIfDeletedBefore = now - CLAIM_LEEWAY_MS
  const kubernetes = objectAt(claims, 'kubernetes.io')
  const namespace = stringAt(kubernetes, 'namespace') ?? ''
  const accountRef = refAt(kubernetes, 'serviceaccount') ?? { name: '', uid: '' }
  const podRef = refAt(kubernetes, 'pod')
  const secretRef = refAt(kubernetes, 'secret')
  const nodeRef = refAt(kubernetes, 'node')

  const account = config.store.get('serviceaccounts', namespace, accountRef.name)
  if (account === undefined)
    throw new ValidationError(`serviceaccounts ${goQuote(accountRef.name)} not found`)
  if (uidOf(account) !== accountRef.uid) {
    throw new ValidationError(
      `service account UID (${uidOf(account)}) does not match claim (${accountRef.uid})`,
    )
  }
  if (deletedBefore(account, invalidIfDeletedBefore)) {
    throw new ValidationError(`service account ${namespace}/${accountRef.name} has been deleted`)
  }

  if (secretRef !== undefined) {
    const secret = config.store.get('secrets', namespace, secretRef.name)
    if (secret === undefined) throw new ValidationError('service account token has been invalidated')
    if (uidOf(secret) !== secretRef.uid) {
      throw new ValidationError(
        `secret UID (${uidOf(secret)}) does not match service account secret ref claim (${secretRef.uid})`,
      )
    }
    if (deletedBefore(secret, invalidIfDeletedBefore))
      throw new ValidationError('service account token has been invalidated')
  }

  let pod: Ref | undefined
  if (podRef !== undefined) {
    const stored = config.store.get('pods', namespace, podRef.name)
    if (stored === undefined) throw new ValidationError('service account token has been invalidated')
    if (uidOf(stored) !== podRef.uid) {
      throw new ValidationError(
        `pod UID (${uidOf(stored)}) does not match service account pod ref claim (${podRef.uid})`,
      )
    }
    if (deletedBefore(stored, invalidIfDeletedBefore))
      throw new ValidationError('service account token has been invalidated')
    pod = podRef
  }

  let node: Ref | undefined
  if (nodeRef !== undefined) {
    if (podRef === undefined) {
      const stored = config.store.get('nodes', '', nodeRef.name)
      if (stored === undefined) throw new ValidationError('service account token has been invalidated')
      if (uidOf(stored) !== nodeRef.uid) {
        throw new ValidationError(
          `node UID (${uidOf(stored)}) does not match service account node ref claim (${nodeRef.uid})`,
        )
      }
      if (deletedBefore(stored, invalidIfDeletedBefore)) {
        throw new ValidationError('service account token has been invalidated')
      }
    }
    // A pod-bound token's node is informational: it is not looked up.
    node = nodeRef
  }

  const jti = stringAt(claims, 'jti') ?? ''
  return {
    namespace,
    name: accountRef.name,
    uid: accountRef.uid,
    ...(pod === undefined ? {} : { podName: pod.name, podUid: pod.uid }),
    ...(node === undefined ? {} : { nodeName: node.name, nodeUid: node.uid }),
    ...(jti === '' ? {} : { credentialId: `JTI=${jti}` }),
  }
}

/** `legacyValidator.Validate` for tokens the token controller put in a Secret. */
function validateLegacyToken(
  token: string,
  claims: JsonObject,
  config: ServiceAccountAuthenticatorConfig,
): ServiceAccountInfo {
  const subject = stringAt(claims, 'sub') ?? ''
  const namespace = stringAt(claims, 'kubernetes.io/serviceaccount/namespace') ?? ''
  const secretName = stringAt(claims, 'kubernetes.io/serviceaccount/secret.name') ?? ''
  const accountName = stringAt(claims, 'kubernetes.io/serviceaccount/service-account.name') ?? ''
  const accountUid = stringAt(claims, 'kubernetes.io/serviceaccount/service-account.uid') ?? ''
  if (subject === '') throw new ValidationError('sub claim is missing')
  if (namespace === '') throw new ValidationError('namespace claim is missing')
  if (secretName === '') throw new ValidationError('secretName claim is missing')
  if (accountName === '') throw new ValidationError('serviceAccountName claim is missing')
  if (accountUid === '') throw new ValidationError('serviceAccountUID claim is missing')
  const parsedSubject = parseServiceAccountUsername(subject)
  if (
    parsedSubject === undefined ||
    parsedSubject.namespace !== namespace ||
    parsedSubject.name !== accountName
  ) {
    throw new ValidationError('sub claim is invalid')
  }

  const secret = config.store.get('secrets', namespace, secretName)
  if (secret === undefined || stringAt(objectAt(secret, 'metadata'), 'deletionTimestamp') !== undefined) {
    throw new ValidationError('Token has been invalidated')
  }
  const storedToken = stringAt(objectAt(secret, 'data'), 'token')
  if (storedToken === undefined || Buffer.from(storedToken, 'base64').toString('utf8') !== token) {
    throw new ValidationError("Token does not match server's copy")
  }
  const account = config.store.get('serviceaccounts', namespace, accountName)
  if (account === undefined) throw new ValidationError(`serviceaccounts ${goQuote(accountName)} not found`)
  if (stringAt(objectAt(account, 'metadata'), 'deletionTimestamp') !== undefined) {
    throw new ValidationError(`ServiceAccount ${namespace}/${accountName} has been deleted`)
  }
  if (uidOf(account) !== accountUid) {
    throw new ValidationError(`ServiceAccount UID (${uidOf(account)}) does not match claim (${accountUid})`)
  }
  return { namespace, name: accountName, uid: accountUid }
}

/** `ServiceAccountInfo.UserInfo()` plus the `system:authenticated` group. */
function userInfoOf(info: ServiceAccountInfo): UserInfo {
  const extra: Record<string, string[]> = {}
  if (info.credentialId !== undefined)
    extra['authentication.kubernetes.io/credential-id'] = [info.credentialId]
  if (info.nodeName !== undefined) extra['authentication.kubernetes.io/node-name'] = [info.nodeName]
  if (info.nodeUid !== undefined) extra['authentication.kubernetes.io/node-uid'] = [info.nodeUid]
  if (info.podName !== undefined) extra['authentication.kubernetes.io/pod-name'] = [info.podName]
  if (info.podUid !== undefined) extra['authentication.kubernetes.io/pod-uid'] = [info.podUid]
  return {
    username: serviceAccountUsername(info.namespace, info.name),
    uid: info.uid,
    groups: [SERVICE_ACCOUNTS_GROUP, `${SERVICE_ACCOUNTS_GROUP}:${info.namespace}`, AUTHENTICATED_GROUP],
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  }
}
