import type { JsonObject } from './json.ts'
import { serviceAccountUsername } from './user-info.ts'

/**
 * The claim sets kube-apiserver v1.32 signs (`pkg/serviceaccount/claims.go`
 * and `legacy.go`), field for field.
 *
 * A bound token (TokenRequest) carries `aud`, `exp`, `iat`, `iss`, `jti`,
 * `nbf`, `sub` and `kubernetes.io` with the namespace, the service account,
 * and the object it is bound to: a pod (plus the pod's node, when the node
 * exists), a secret, or a node. `warnafter` appears only on kubelet's
 * extended-expiry tokens.
 *
 * @example A pod-bound token's claims (from the recordings)
 * ```json
 * { "aud": ["spire-server"], "exp": 1795489158, "iat": 1795488558,
 *   "iss": "https://kubernetes.default.svc.cluster.local",
 *   "jti": "977e4854-1f4e-4232-af0a-875870ef2d46",
 *   "kubernetes.io": { "namespace": "spire",
 *     "node": { "name": "node-a", "uid": "733588a8-…" },
 *     "pod": { "name": "spire-agent-pod", "uid": "761196fa-…" },
 *     "serviceaccount": { "name": "spire-agent", "uid": "b1cc04a4-…" } },
 *   "nbf": 1795488558, "sub": "system:serviceaccount:spire:spire-agent" }
 * ```
 */

/** The issuer of legacy (Secret-based) service account tokens. */
export const LEGACY_ISSUER = 'kubernetes/serviceaccount'

/**
 * kubelet's projected tokens ask for 3607 s; kube-apiserver signs those for a
 * year and puts the requested lifetime in `warnafter`
 * (`--service-account-extend-token-expiration`, on by default).
 */
export const EXTENDED_EXPIRATION_SECONDS = 24 * 365 * 60 * 60

/** A reference to an object by name and UID. */
export interface ObjectRef {
  readonly name: string
  readonly uid: string
}

/** What a bound token is issued for. */
export interface BoundTokenClaimsInput {
  readonly issuer: string
  readonly namespace: string
  readonly serviceAccount: ObjectRef
  readonly audiences: readonly string[]
  /** Epoch milliseconds of issuance. */
  readonly now: number
  readonly expirationSeconds: number
  readonly jti: string
  readonly pod?: ObjectRef
  readonly secret?: ObjectRef
  readonly node?: ObjectRef
  /** Seconds after issuance at which the token counts as stale (`warnafter`). */
  readonly warnAfterSeconds?: number
}

/** A JWT NumericDate: whole seconds since the epoch. */
function numericDate(epochMs: number): number {
  return Math.floor(epochMs / 1000)
}

/** The claims of a TokenRequest token; the signer sorts the keys as Go does. */
export function boundTokenClaims(input: BoundTokenClaimsInput): JsonObject {
  const kubernetes: JsonObject = {
    namespace: input.namespace,
    serviceaccount: { name: input.serviceAccount.name, uid: input.serviceAccount.uid },
  }
  if (input.pod !== undefined) kubernetes.pod = { name: input.pod.name, uid: input.pod.uid }
  if (input.secret !== undefined) kubernetes.secret = { name: input.secret.name, uid: input.secret.uid }
  if (input.node !== undefined) kubernetes.node = { name: input.node.name, uid: input.node.uid }
  if (input.warnAfterSeconds !== undefined)
    kubernetes.warnafter = numericDate(input.now) + input.warnAfterSeconds
  return {
    aud: [...input.audiences],
    exp: numericDate(input.now) + input.expirationSeconds,
    iat: numericDate(input.now),
    iss: input.issuer,
    jti: input.jti,
    'kubernetes.io': kubernetes,
    nbf: numericDate(input.now),
    sub: serviceAccountUsername(input.namespace, input.serviceAccount.name),
  }
}

/** The claims of a legacy token, as the token controller signs them into a Secret. */
export function legacyTokenClaims(
  namespace: string,
  serviceAccount: ObjectRef,
  secretName: string,
): JsonObject {
  return {
    iss: LEGACY_ISSUER,
    'kubernetes.io/serviceaccount/namespace': namespace,
    'kubernetes.io/serviceaccount/secret.name': secretName,
    'kubernetes.io/serviceaccount/service-account.name': serviceAccount.name,
    'kubernetes.io/serviceaccount/service-account.uid': serviceAccount.uid,
    sub: serviceAccountUsername(namespace, serviceAccount.name),
  }
}
