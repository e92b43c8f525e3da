/**
 * Turning a TokenReview answer into a decision. The HTTP call belongs to the
 * server; this module only reads the `status` object that kube-apiserver
 * returns, checks everything SPIRE's k8s attestors check, and says exactly
 * which check failed.
 *
 * Facts from kube-apiserver v1.32 that shape it (shared/kube-reference):
 * - a refused review is still HTTP 201, and its status is
 *   `{ user: {}, error: "…" }` — no `authenticated` key at all;
 * - a successful one carries `authenticated: true`, the service account's
 *   username and UID, and for a pod-bound token `user.extra` with
 *   `authentication.kubernetes.io/pod-name`, `pod-uid`, `node-name`, `node-uid`
 *   and `credential-id` (`JTI=<jti>`), each a one-element array;
 * - `status.audiences` holds the requested audiences that matched.
 *
 * @see {@link https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-review-v1/ | Kubernetes: TokenReview v1}
 */
import { AttestError, type AttestErrorCode } from './errors.ts'
import { describeType, isJsonObject, quote } from './internal/quote.ts'
import type { KubernetesObjectRef } from './service-account-token.ts'
import { parseServiceAccountUsername, type ServiceAccountName } from './service-account-username.ts'

/** The `status.user.extra` keys kube-apiserver sets for a service account token. */
export const TOKEN_REVIEW_EXTRA_KEYS = {
  podName: 'authentication.kubernetes.io/pod-name',
  podUid: 'authentication.kubernetes.io/pod-uid',
  nodeName: 'authentication.kubernetes.io/node-name',
  nodeUid: 'authentication.kubernetes.io/node-uid',
  credentialId: 'authentication.kubernetes.io/credential-id',
} as const

/**
 * `status.user` of a TokenReview, typed loosely: every field may be missing,
 * because kube-apiserver omits them on refusal, and the values are checked at
 * run time anyway since they come over the network.
 */
export interface TokenReviewUserInput {
  /** `system:serviceaccount:<ns>:<name>` for a service account. */
  readonly username?: string | undefined
  /** The service account's UID. */
  readonly uid?: string | undefined
  /** Groups, e.g. `system:serviceaccounts`; not used for decisions here. */
  readonly groups?: readonly string[] | undefined
  /** Extra attributes, each a list of strings. */
  readonly extra?: Readonly<Record<string, readonly string[]>> | undefined
}

/**
 * `status` of a TokenReview as kube-apiserver returns it — the raw JSON or
 * `@kubernetes/client-node`'s `V1TokenReviewStatus`.
 */
export interface TokenReviewStatusInput {
  /** `true` when the token was authenticated; absent when it was refused. */
  readonly authenticated?: boolean | undefined
  /** Who the token belongs to; `{}` when refused. */
  readonly user?: TokenReviewUserInput | undefined
  /** The requested audiences the token was valid for. */
  readonly audiences?: readonly string[] | undefined
  /** Why the token was refused, e.g. `"[invalid bearer token, service account token has expired]"`. */
  readonly error?: string | undefined
}

/** Options of {@link interpretTokenReview}. */
export interface InterpretTokenReviewOptions {
  /**
   * The audiences the TokenReview asked for (`spec.audiences`). When not
   * empty, at least one must come back in `status.audiences`. Empty means the
   * API server's own audiences were used, and there is nothing to cross-check
   * (k8s_sat: legacy tokens have no audience).
   */
  readonly audiences: readonly string[]
  /**
   * Whether the token must be bound to a pod, i.e. the review must name the
   * pod (k8s_psat: the pod is what gets looked up and attested). Default `false`.
   */
  readonly requirePod?: boolean
  /** The cluster the token came from, for error details. Default: none. */
  readonly cluster?: string
}

/** What a successful TokenReview confirmed about a service account token. */
export interface ReviewedServiceAccount extends ServiceAccountName {
  /** The service account's UID (`status.user.uid`). */
  readonly uid: string
  /** The audiences the review confirmed (`status.audiences`; empty when it named none). */
  readonly audiences: readonly string[]
  /** The pod the token is bound to, when the review names it. */
  readonly pod?: KubernetesObjectRef
  /** The node the token or its pod is bound to, when the review names it. */
  readonly node?: KubernetesObjectRef
  /** The credential ID, e.g. `"JTI=977e4854-…"`, when the review names it. */
  readonly credentialId?: string
}

/**
 * Decides from a TokenReview `status` whether the token is a service account
 * token the caller can go on with, in SPIRE's order: authenticated →
 * audiences → username → UID → pod and node.
 *
 * Failures, each with `details.check`:
 * - `ATT_ERR_TOKEN_NOT_AUTHENTICATED` (`authenticated`): not authenticated; the
 *   message carries `status.error`;
 * - `ATT_ERR_AUDIENCE_MISMATCH` (`audiences`): none of the requested audiences
 *   came back;
 * - `ATT_ERR_USERNAME_INVALID` (`username_format`): not exactly
 *   `system:serviceaccount:<ns>:<name>` with both names non-empty;
 * - `ATT_ERR_TOKEN_INVALID` (`pod_binding`): `requirePod` and the token is not
 *   bound to a pod;
 * - `ATT_ERR_TOKEN_REVIEW_INVALID`: the status itself is malformed —
 *   `status_shape`, `authenticated_type`, `error_type`,
 *   `authenticated_with_error`, `audiences_type`, `user_shape`,
 *   `username_type`, `user_uid`, `extra_shape`, `extra_values` (a known key
 *   without exactly one non-empty value), `pod_extras_incomplete`,
 *   `node_extras_incomplete`.
 *
 * @throws {AttestError} as listed above.
 * @see {@link https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-review-v1/ | Kubernetes: TokenReview v1}
 * @example
 * ```ts
 * const review = await authApi.createTokenReview({ body: { spec: { token, audiences: ['spire-server'] } } })
 * const reviewed = interpretTokenReview(review.status ?? {}, {
 *   audiences: ['spire-server'], requirePod: true, cluster: 'demo' })
 * reviewed.namespace // "spire"
 * reviewed.pod?.uid  // "761196fa-56d8-4823-8d5d-af92b2955257"
 * ```
 */
export function interpretTokenReview(
  status: TokenReviewStatusInput,
  options: InterpretTokenReviewOptions,
): ReviewedServiceAccount {
  const { audiences: requested, requirePod = false, cluster } = options
  const report = new Reporter(cluster)
  if (!isJsonObject(status)) {
    throw report.invalid('status_shape', `expected an object (found ${describeType(status)})`)
  }
  // Read as unknown: the declared type describes what kube-apiserver should
  // send, not what arrived.
  const fields = status as Readonly<Record<string, unknown>>

  checkAuthenticated(fields, report)
  const audiences = checkAudiences(fields.audiences, requested, report)
  const { namespace, name, uid, extra } = readUser(fields.user, report)
  const { pod, node, credentialId } = readBindings(extra, report)

  if (requirePod && pod === undefined) {
    const qualifiedName = `${namespace}:${name}`
    throw report.fail(
      'ATT_ERR_TOKEN_INVALID',
      'pod_binding',
      `the token of service account ${quote(qualifiedName)}${report.where} is not bound to a pod; k8s_psat needs a projected token of the agent's pod`,
      { value: qualifiedName },
    )
  }

  return {
    namespace,
    name,
    uid,
    audiences,
    ...(pod === undefined ? {} : { pod }),
    ...(node === undefined ? {} : { node }),
    ...(credentialId === undefined ? {} : { credentialId }),
  }
}

/** Builds this module's errors, all carrying the cluster when one was named. */
class Reporter {
  /** `' for cluster "demo"'`, or `''` when no cluster was named. */
  readonly where: string
  readonly #context: { readonly cluster?: string }

  constructor(cluster: string | undefined) {
    this.where = cluster === undefined ? '' : ` for cluster ${quote(cluster)}`
    this.#context = cluster === undefined ? {} : { cluster }
  }

  fail(
    code: AttestErrorCode,
    check: string,
    message: string,
    details: { readonly value?: string; readonly expected?: string } = {},
  ): AttestError {
    return new AttestError(code, message, { check, ...this.#context, ...details })
  }

  /** The status itself is not what kube-apiserver sends: `ATT_ERR_TOKEN_REVIEW_INVALID`. */
  invalid(check: string, problem: string): AttestError {
    return this.fail(
      'ATT_ERR_TOKEN_REVIEW_INVALID',
      check,
      `the TokenReview status${this.where} is malformed: ${problem}`,
    )
  }
}

function checkAuthenticated(fields: Readonly<Record<string, unknown>>, report: Reporter): void {
  const { authenticated, error } = fields
  if (authenticated !== undefined && typeof authenticated !== 'boolean') {
    throw report.invalid(
      'authenticated_type',
      `"authenticated" must be a boolean (found ${describeType(authenticated)})`,
    )
  }
  if (error !== undefined && typeof error !== 'string') {
    throw report.invalid('error_type', `"error" must be a string (found ${describeType(error)})`)
  }
  if (authenticated !== true) {
    const reason = error ? `: ${error}` : ' (it gave no reason)'
    throw report.fail(
      'ATT_ERR_TOKEN_NOT_AUTHENTICATED',
      'authenticated',
      `the token was not authenticated by the TokenReview API${report.where}${reason}`,
    )
  }
  // A review cannot both accept the token and report why it could not check
  // it; when it says both, trust neither half.
  if (error) {
    throw report.invalid(
      'authenticated_with_error',
      `"authenticated" is true but "error" says ${quote(error)}`,
    )
  }
}

/** The confirmed audiences, after checking that one of the requested ones is among them. */
function checkAudiences(
  audiences: unknown,
  requested: readonly string[],
  report: Reporter,
): readonly string[] {
  if (
    audiences !== undefined &&
    !(Array.isArray(audiences) && audiences.every((audience) => typeof audience === 'string'))
  ) {
    throw report.invalid(
      'audiences_type',
      `"audiences" must be an array of strings (found ${describeType(audiences)})`,
    )
  }
  const confirmed: readonly string[] = audiences ?? []
  // kube-apiserver already refuses a token none of whose audiences was
  // requested. The check is repeated because the TokenReview contract lets an
  // authenticator ignore spec.audiences, and the API reference tells clients
  // that set spec.audiences to verify status.audiences themselves. An empty
  // status.audiences means "valid for the API server's own audience", which
  // is not what was asked for, so it fails the check too.
  if (requested.length > 0 && !requested.some((audience) => confirmed.includes(audience))) {
    throw report.fail(
      'ATT_ERR_AUDIENCE_MISMATCH',
      'audiences',
      `the TokenReview${report.where} confirmed audiences ${JSON.stringify(confirmed)}, none of the requested ${JSON.stringify(requested)}`,
      { value: confirmed.join(','), expected: requested.join(',') },
    )
  }
  return confirmed
}

interface ReviewedUser extends ServiceAccountName {
  readonly uid: string
  readonly extra: Readonly<Record<string, readonly string[]>> | undefined
}

/** `status.user`: a service account username, its UID, and the extra attributes. */
function readUser(user: unknown, report: Reporter): ReviewedUser {
  if (!isJsonObject(user)) {
    throw report.invalid('user_shape', `"user" must be an object (found ${describeType(user)})`)
  }
  const { username, uid, extra } = user
  if (typeof username !== 'string') {
    throw report.invalid(
      'username_type',
      `"user.username" must be a string (found ${describeType(username)})`,
    )
  }
  const serviceAccount = parseServiceAccountUsername(username)
  if (!serviceAccount.ok) {
    throw report.fail(
      'ATT_ERR_USERNAME_INVALID',
      'username_format',
      `the TokenReview${report.where} names user ${quote(username)}, which is not a service account: ${serviceAccount.reason}`,
      { value: username, expected: 'system:serviceaccount:<namespace>:<name>' },
    )
  }
  if (typeof uid !== 'string' || uid === '') {
    throw report.invalid('user_uid', `"user.uid" must be a non-empty string (found ${describeType(uid)})`)
  }
  if (extra !== undefined && !isStringListRecord(extra)) {
    throw report.invalid('extra_shape', '"user.extra" must be an object whose values are arrays of strings')
  }
  return { namespace: serviceAccount.namespace, name: serviceAccount.name, uid, extra }
}

interface Bindings {
  readonly pod: KubernetesObjectRef | undefined
  readonly node: KubernetesObjectRef | undefined
  readonly credentialId: string | undefined
}

/** What the token is bound to, from `status.user.extra`: each key one value, names and UIDs in pairs. */
function readBindings(extra: ReviewedUser['extra'], report: Reporter): Bindings {
  const single = (key: string): string | undefined => {
    const values = extra?.[key]
    if (values === undefined) return undefined
    if (values.length !== 1 || values[0] === '') {
      throw report.invalid(
        'extra_values',
        `"user.extra[${quote(key)}]" must hold exactly one non-empty value (found ${JSON.stringify(values).slice(0, 200)})`,
      )
    }
    return values[0]
  }
  const pod = pair(single(TOKEN_REVIEW_EXTRA_KEYS.podName), single(TOKEN_REVIEW_EXTRA_KEYS.podUid))
  if (pod === 'incomplete') {
    throw report.invalid('pod_extras_incomplete', 'it names the pod by only one of its name and UID')
  }
  const node = pair(single(TOKEN_REVIEW_EXTRA_KEYS.nodeName), single(TOKEN_REVIEW_EXTRA_KEYS.nodeUid))
  if (node === 'incomplete') {
    throw report.invalid('node_extras_incomplete', 'it names the node by only one of its name and UID')
  }
  return { pod, node, credentialId: single(TOKEN_REVIEW_EXTRA_KEYS.credentialId) }
}

function isStringListRecord(value: unknown): value is Readonly<Record<string, readonly string[]>> {
  return (
    isJsonObject(value) &&
    Object.values(value).every(
      (list) => Array.isArray(list) && list.every((item) => typeof item === 'string'),
    )
  )
}

/** A name and UID that must come together. */
function pair(
  name: string | undefined,
  uid: string | undefined,
): KubernetesObjectRef | undefined | 'incomplete' {
  if (name === undefined && uid === undefined) return undefined
  if (name === undefined || uid === undefined) return 'incomplete'
  return { name, uid }
}
