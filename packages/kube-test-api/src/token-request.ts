import { randomUUID } from 'node:crypto'
import { tokenRequest as tokenRequestSchema } from './api-types.ts'
import { formatKubeTime } from './clock.ts'
import type { Cluster } from './cluster.ts'
import { decodeObject } from './decode.ts'
import { goQuote } from './go-format.ts'
import { type JsonObject, type JsonValue, numberAt, objectAt, stringAt } from './json.ts'
import { signJwt } from './jwt.ts'
import { updateManagedFields } from './managed-fields.ts'
import { metadataOf } from './registry.ts'
import { PROJECTED_TOKEN_EXPIRATION_SECONDS } from './resources/pods.ts'
import { canonicalize, zeroValue } from './schema.ts'
import { badRequest, conflict, invalid, notFound } from './status.ts'
import { boundTokenClaims, EXTENDED_EXPIRATION_SECONDS, type ObjectRef } from './token-claims.ts'

/**
 * TokenRequest (`POST …/serviceaccounts/<name>/token`) as kube-apiserver
 * v1.32's `TokenREST.Create` serves it: the service account must exist;
 * audiences default to the API audiences and the lifetime to 3600 s, with
 * 600 s as the minimum; a `boundObjectRef` names a Pod, Secret or Node whose
 * UID, if given, must match (409 otherwise); a pod-bound token also names the
 * pod's node. kubelet's 3607-second tokens for the API audiences are signed
 * for a year with a `warnafter` claim, as `--service-account-extend-token-expiration`
 * does.
 */

const API_VERSION = 'authentication.k8s.io/v1'
const GROUP_KIND = { group: 'authentication.k8s.io', kind: 'TokenRequest' }
const MIN_EXPIRATION_SECONDS = 600
const MAX_EXPIRATION_SECONDS = 2 ** 32
const DEFAULT_EXPIRATION_SECONDS = 3600

function refOf(object: JsonObject): ObjectRef {
  const metadata = metadataOf(object)
  return { name: stringAt(metadata, 'name') ?? '', uid: stringAt(metadata, 'uid') ?? '' }
}

/** The token a TokenRequest produced, with its answer. */
export interface TokenRequestResult {
  /** The `TokenRequest` response body. */
  readonly response: JsonObject
  readonly token: string
  /** `status.expirationTimestamp` (RFC 3339). */
  readonly expirationTimestamp: string
}

/** Serves one TokenRequest for service account `name` in `namespace`. */
export function createTokenRequest(
  cluster: Cluster,
  namespace: string,
  name: string,
  body: JsonValue,
  manager: string,
): TokenRequestResult {
  const now = cluster.clock.now()
  const request = decodeObject(body, {
    kind: 'TokenRequest',
    apiVersion: API_VERSION,
    schema: tokenRequestSchema,
  })
  const spec = objectAt(request, 'spec') ?? {}
  if (numberAt(spec, 'expirationSeconds') === undefined) spec.expirationSeconds = DEFAULT_EXPIRATION_SECONDS
  const metadata = metadataOf(request)
  const managedFields = updateManagedFields({
    schema: tokenRequestSchema,
    before: zeroValue(tokenRequestSchema) as JsonObject,
    after: request,
    manager,
    apiVersion: API_VERSION,
    now,
    subresource: 'token',
  })

  const requestName = stringAt(metadata, 'name') ?? ''
  if (requestName !== '' && requestName !== name) {
    throw invalid(GROUP_KIND, name, [
      {
        field: 'metadata.name',
        type: 'Invalid value',
        value: requestName,
        detail: 'must match the service account name if specified',
      },
    ])
  }
  const requestNamespace = stringAt(metadata, 'namespace') ?? ''
  if (requestNamespace !== '' && requestNamespace !== namespace) {
    throw invalid(GROUP_KIND, name, [
      {
        field: 'metadata.namespace',
        type: 'Invalid value',
        value: requestNamespace,
        detail: 'must match the service account namespace if specified',
      },
    ])
  }
  const account = cluster.store.get('serviceaccounts', namespace, name)
  if (account === undefined) throw notFound({ group: '', resource: 'serviceaccounts' }, name)

  const settings = cluster.settings
  let audiences = (spec.audiences as string[] | null) ?? []
  if (audiences.length === 0) audiences = [...settings.apiAudiences]
  spec.audiences = audiences
  metadata.name = name
  metadata.namespace = namespace
  metadata.creationTimestamp = formatKubeTime(now)
  metadata.managedFields = managedFields

  const requested = numberAt(spec, 'expirationSeconds') ?? DEFAULT_EXPIRATION_SECONDS
  if (requested < MIN_EXPIRATION_SECONDS) {
    throw invalid(GROUP_KIND, '', [
      {
        field: 'spec.expirationSeconds',
        type: 'Invalid value',
        value: requested,
        detail: 'may not specify a duration less than 10 minutes',
      },
    ])
  }
  if (requested > MAX_EXPIRATION_SECONDS) {
    throw invalid(GROUP_KIND, '', [
      {
        field: 'spec.expirationSeconds',
        type: 'Invalid value',
        value: requested,
        detail: 'may not specify a duration larger than 2^32 seconds',
      },
    ])
  }

  const bound = resolveBoundObject(cluster, namespace, name, objectAt(spec, 'boundObjectRef'))
  let expirationSeconds = requested
  if (
    settings.maxTokenExpirationSeconds !== undefined &&
    expirationSeconds > settings.maxTokenExpirationSeconds
  ) {
    expirationSeconds = settings.maxTokenExpirationSeconds
  }
  spec.expirationSeconds = expirationSeconds

  // kubelet's projected tokens: valid for a year, stale after the requested hour.
  let tokenLifetime = expirationSeconds
  let warnAfterSeconds: number | undefined
  const forApiAudiences = audiences.every((audience) => settings.apiAudiences.includes(audience))
  if (
    settings.extendTokenExpiration &&
    bound.pod !== undefined &&
    expirationSeconds === PROJECTED_TOKEN_EXPIRATION_SECONDS &&
    forApiAudiences
  ) {
    warnAfterSeconds = expirationSeconds
    tokenLifetime = EXTENDED_EXPIRATION_SECONDS
  }

  const claims = boundTokenClaims({
    issuer: settings.issuer,
    namespace,
    serviceAccount: refOf(account),
    audiences,
    now,
    expirationSeconds: tokenLifetime,
    jti: randomUUID(),
    ...bound,
    ...(warnAfterSeconds === undefined ? {} : { warnAfterSeconds }),
  })
  const token = signJwt(claims, settings.signingKey)
  const expirationTimestamp = formatKubeTime(Math.floor(now / 1000) * 1000 + expirationSeconds * 1000)
  request.status = { token, expirationTimestamp }
  return { response: canonicalize(tokenRequestSchema, request) as JsonObject, token, expirationTimestamp }
}

interface BoundObjects {
  pod?: ObjectRef
  secret?: ObjectRef
  node?: ObjectRef
}

/** Looks up the `boundObjectRef` (404 if missing, 409 on a UID mismatch) and, for a pod, its node. */
function resolveBoundObject(
  cluster: Cluster,
  namespace: string,
  serviceAccountName: string,
  ref: JsonObject | undefined,
): BoundObjects {
  if (ref === undefined) return {}
  const kind = stringAt(ref, 'kind') ?? ''
  const apiVersion = stringAt(ref, 'apiVersion') ?? ''
  const name = stringAt(ref, 'name') ?? ''
  const uid = stringAt(ref, 'uid') ?? ''
  const [group, version] = apiVersion.includes('/')
    ? (apiVersion.split('/') as [string, string])
    : ['', apiVersion]
  const checkUid = (object: JsonObject): void => {
    const actual = refOf(object).uid
    if (uid !== '' && uid !== actual) {
      throw conflict(
        { group, resource: kind },
        name,
        `the UID in the bound object reference (${uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      )
    }
  }
  if (group === '' && kind === 'Pod') {
    const pod = cluster.store.get('pods', namespace, name)
    if (pod === undefined) throw notFound({ group: '', resource: 'pods' }, name)
    if (stringAt(objectAt(pod, 'spec'), 'serviceAccountName') !== serviceAccountName) {
      throw badRequest(
        `cannot bind token for serviceaccount ${goQuote(serviceAccountName)} to pod running with different serviceaccount name.`,
      )
    }
    checkUid(pod)
    const nodeName = stringAt(objectAt(pod, 'spec'), 'nodeName') ?? ''
    const node = nodeName === '' ? undefined : cluster.store.get('nodes', '', nodeName)
    return { pod: refOf(pod), ...(node === undefined ? {} : { node: refOf(node) }) }
  }
  if (group === '' && kind === 'Node') {
    const node = cluster.store.get('nodes', '', name)
    if (node === undefined) throw notFound({ group: '', resource: 'nodes' }, name)
    checkUid(node)
    return { node: refOf(node) }
  }
  if (group === '' && kind === 'Secret') {
    const secret = cluster.store.get('secrets', namespace, name)
    if (secret === undefined) throw notFound({ group: '', resource: 'secrets' }, name)
    checkUid(secret)
    return { secret: refOf(secret) }
  }
  throw badRequest(`cannot bind token to object of type ${group}/${version}, Kind=${kind}`)
}
