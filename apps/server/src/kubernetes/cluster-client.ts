/**
 * Everything the server asks of a Kubernetes cluster, behind one small
 * interface (after SPIRE's `apiserver.Client`). The attestation flow depends on
 * this interface only: production uses {@link KubeClusterClient} over
 * @kubernetes/client-node, and a cache-backed implementation can stand in
 * front of it without the flow noticing.
 */

/** A TokenReview `status` exactly as kube-apiserver returned it (not yet trusted to be well-formed). */
export interface RawTokenReviewStatus {
  readonly authenticated?: boolean
  readonly error?: string
  readonly audiences?: readonly string[]
  readonly user?: {
    readonly username?: string
    readonly uid?: string
    readonly groups?: readonly string[]
    readonly extra?: Readonly<Record<string, readonly string[]>>
  }
}

/** The fields of a Pod that attestation reads. */
export interface PodInfo {
  readonly namespace: string
  readonly name: string
  readonly uid: string
  /** `spec.nodeName`: empty while the pod is not scheduled. */
  readonly nodeName: string
  /** `spec.serviceAccountName`. */
  readonly serviceAccountName: string
  /** `status.hostIP`: empty until the kubelet reports it. */
  readonly hostIp: string
  readonly labels: Readonly<Record<string, string>>
  /** `metadata.deletionTimestamp`: set once the pod is terminating (when it is due to be gone). */
  readonly deletionTimestamp?: Date
}

/** The fields of a Node that attestation reads. */
export interface NodeInfo {
  readonly name: string
  readonly uid: string
  readonly labels: Readonly<Record<string, string>>
}

/** The fields of a ServiceAccount that attestation reads. */
export interface ServiceAccountInfo {
  readonly namespace: string
  readonly name: string
  readonly uid: string
}

/**
 * The cluster's service account issuer as its API server publishes it (service account issuer
 * discovery): the `issuer` of `/.well-known/openid-configuration` and the keys of
 * `/openid/v1/jwks`, both not yet trusted to be well-formed.
 */
export interface IssuerKeys {
  /** The discovery document's `issuer`: every token the cluster signs carries it as `iss`. */
  readonly issuer: unknown
  /** The JWKS document as served (`{ "keys": [ … ] }`). */
  readonly jwks: unknown
}

/** A permission on a resource, as asked of SelfSubjectAccessReview. */
export interface ResourcePermission {
  readonly verb: string
  readonly resource: string
  /** API group; `""` is the core group. */
  readonly group: string
  /**
   * The namespace it is needed in (a Role there grants it). Absent: cluster-wide, for a
   * cluster-scoped resource (nodes) or a review, which only a ClusterRole grants.
   */
  readonly namespace?: string
}

/** A permission on a non-resource URL (`nonResourceAttributes`), e.g. `get /openid/v1/jwks`. */
export interface NonResourcePermission {
  readonly verb: string
  /** The URL path, e.g. `/openid/v1/jwks`. */
  readonly path: string
}

/** A permission the server needs. */
export type Permission = ResourcePermission | NonResourcePermission

/** The answer to a permission check. */
export type PermissionCheck = Permission & {
  readonly allowed: boolean
  /** Why, as the authorizer said (may be empty). */
  readonly reason: string
}

/**
 * `"get nodes"`, `"get pods in namespace spire"`, `"get /openid/v1/jwks"`: a permission as
 * messages name it.
 */
export function describePermission(permission: Permission): string {
  if ('path' in permission) return `${permission.verb} ${permission.path}`
  const where = permission.namespace === undefined ? '' : ` in namespace ${permission.namespace}`
  return `${permission.verb} ${permission.resource}${where}`
}

/**
 * A permission in {@link REQUIRED_PERMISSIONS}: cluster-wide, or needed in each namespace of the
 * cluster's `service_account_allow_list` (`inAllowListNamespaces`), where the agents' pods and
 * service accounts are; {@link permissionsFor} turns the second kind into one per namespace.
 */
export type RequiredPermission =
  | Permission
  | (Omit<ResourcePermission, 'namespace'> & { readonly inAllowListNamespaces: true })

/**
 * The permissions `required` amounts to in a cluster whose allow-list names `serviceAccounts`
 * (`namespace:name`): each namespaced one once per namespace, in the allow-list's order.
 */
export function permissionsFor(
  required: readonly RequiredPermission[],
  serviceAccounts: readonly string[],
): Permission[] {
  const namespaces = [...new Set(serviceAccounts.map((entry) => entry.split(':')[0] ?? ''))]
  return required.flatMap((permission): Permission[] => {
    if (!('inAllowListNamespaces' in permission)) return [permission]
    const { verb, resource, group } = permission
    return namespaces.map((namespace) => ({ verb, resource, group, namespace }))
  })
}

/** Options every {@link ClusterClient} call takes. */
export interface CallOptions {
  /**
   * Aborts the call: the implementation stops waiting for the API server (and frees what the
   * request holds) and rejects. Set by the call deadline (`withCallDeadline`).
   */
  readonly signal?: AbortSignal
}

/** Options of the lookups {@link ClusterClient.getPod}, `getNode` and `getServiceAccount`. */
export interface LookupOptions extends CallOptions {
  /**
   * The UID the caller expects (the one the token is bound to). A cache-backed client answers
   * from its cache only when the cached object has it, and asks the API server otherwise.
   */
  readonly uid?: string
}

/** What the server asks of one cluster. */
export interface ClusterClient {
  /**
   * Asks the API server to review `token` for `audiences` (an empty list means
   * the API server's own audiences). Returns the review's status untouched:
   * judging it is the caller's job (`interpretTokenReview` in core).
   */
  reviewToken(
    token: string,
    audiences: readonly string[],
    options?: CallOptions,
  ): Promise<RawTokenReviewStatus>
  /** The pod, or `undefined` when it does not exist. */
  getPod(namespace: string, name: string, options?: LookupOptions): Promise<PodInfo | undefined>
  /** The node, or `undefined` when it does not exist; `uid` as for {@link getPod}. */
  getNode(name: string, options?: LookupOptions): Promise<NodeInfo | undefined>
  /**
   * The service account, or `undefined` when it does not exist. As with {@link getPod}, `uid`
   * is the UID the caller expects: a cache answers only when it holds that one.
   */
  getServiceAccount(
    namespace: string,
    name: string,
    options?: LookupOptions,
  ): Promise<ServiceAccountInfo | undefined>
  /**
   * The service account issuer and its keys, read from the API server itself
   * (`/.well-known/openid-configuration` and `/openid/v1/jwks`, two calls).
   */
  getIssuerKeys(options?: CallOptions): Promise<IssuerKeys>
  /** Asks SelfSubjectAccessReview whether the server's own identity may do `permission`. */
  checkPermission(permission: Permission, options?: CallOptions): Promise<PermissionCheck>
  /** Releases pooled connections. */
  close(): Promise<void>
}

/** Creating TokenReviews: every cluster that asks its API server about tokens needs it. */
export const TOKEN_REVIEW_PERMISSION: ResourcePermission = {
  verb: 'create',
  resource: 'tokenreviews',
  group: 'authentication.k8s.io',
}

/**
 * Creating SelfSubjectAccessReviews: how the startup self-check asks about the permissions
 * below. Every authenticated identity holds it through the default `system:basic-user`
 * ClusterRole; the server's ClusterRole (deploy/base/server-rbac.yaml) grants it too, so the
 * self-check does not depend on that default.
 */
export const SELF_CHECK_PERMISSION: ResourcePermission = {
  verb: 'create',
  resource: 'selfsubjectaccessreviews',
  group: 'authorization.k8s.io',
}

/**
 * Reading the pods and nodes k8s_psat checks, for the informers and their fallback GETs: pods
 * only in the allow-list's namespaces (an agent's pod is in its service account's namespace, and
 * the informers watch those namespaces only), nodes cluster-wide (they have no namespace).
 */
const POD_AND_NODE_PERMISSIONS: readonly RequiredPermission[] = [
  { verb: 'get', resource: 'pods', group: '', inAllowListNamespaces: true },
  { verb: 'list', resource: 'pods', group: '', inAllowListNamespaces: true },
  { verb: 'watch', resource: 'pods', group: '', inAllowListNamespaces: true },
  { verb: 'get', resource: 'nodes', group: '' },
  { verb: 'list', resource: 'nodes', group: '' },
  { verb: 'watch', resource: 'nodes', group: '' },
]

/**
 * The permissions each use of a cluster needs (see {@link permissionsFor}), in the order the
 * startup self-check reports them: k8s_psat reviews the token and reads the agent's pod and node — `list` and `watch`
 * for the informer caches, `get` for lookups the caches cannot answer; k8s_psat in JWKS mode
 * reads the issuer's discovery document and keys instead of reviewing, and also the service
 * accounts (which kube-apiserver's TokenReview would have checked); k8s_sat in TokenReview mode
 * only reviews (a k8s_sat cluster verifying with local keys calls no API at all).
 */
export const REQUIRED_PERMISSIONS = {
  k8s_psat: [TOKEN_REVIEW_PERMISSION, ...POD_AND_NODE_PERMISSIONS],
  k8s_psat_jwks: [
    { verb: 'get', path: '/.well-known/openid-configuration' },
    { verb: 'get', path: '/openid/v1/jwks' },
    ...POD_AND_NODE_PERMISSIONS,
    { verb: 'get', resource: 'serviceaccounts', group: '', inAllowListNamespaces: true },
    { verb: 'list', resource: 'serviceaccounts', group: '', inAllowListNamespaces: true },
    { verb: 'watch', resource: 'serviceaccounts', group: '', inAllowListNamespaces: true },
  ],
  k8s_sat: [TOKEN_REVIEW_PERMISSION],
} as const satisfies Record<'k8s_psat' | 'k8s_psat_jwks' | 'k8s_sat', readonly RequiredPermission[]>
