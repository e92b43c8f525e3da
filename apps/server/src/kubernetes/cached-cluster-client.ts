import type {
  CallOptions,
  ClusterClient,
  IssuerKeys,
  LookupOptions,
  NodeInfo,
  Permission,
  PermissionCheck,
  PodInfo,
  RawTokenReviewStatus,
  ServiceAccountInfo,
} from './cluster-client.ts'

/**
 * Pods, nodes and (in JWKS mode) service accounts as informers hold them (see `informer.ts`),
 * looked up without an API call.
 */
export interface ClusterCaches {
  /** The cached pod, or `undefined` when it is not in the cache (absent, not watched, not seen yet). */
  pod(namespace: string, name: string): PodInfo | undefined
  /** The cached node, or `undefined`. */
  node(name: string): NodeInfo | undefined
  /** The cached service account, or `undefined` (also when service accounts are not watched). */
  serviceAccount(namespace: string, name: string): ServiceAccountInfo | undefined
  /** Resolves once every informer has loaded its first list. */
  synced(): Promise<void>
  /** Stops every informer. */
  close(): Promise<void>
}

/**
 * A {@link ClusterClient} answering pod and node lookups from informer caches, so a k8s_psat
 * attestation costs one API call, the TokenReview (SPIRE's k8s_psat makes three). A lookup
 * the cache cannot answer — the object not seen yet, or a pod, node or service account whose
 * cached UID is not the one the token is bound to (recreated moments ago) — goes to the API server, so a cache that
 * lags never refuses an agent that a GET would accept.
 *
 * The trade-off: a pod or node deleted in the last moments (before its watch event arrives,
 * typically milliseconds) can still be found. In TokenReview mode kube-apiserver itself refuses
 * a token whose bound pod or node is gone, so this only matters within its own 10-second
 * review cache, which the GET never closed either.
 *
 * It owns its caches and the inner client: {@link close} stops both.
 */
export class CachedClusterClient implements ClusterClient {
  readonly #inner: ClusterClient
  readonly #caches: ClusterCaches

  constructor(inner: ClusterClient, caches: ClusterCaches) {
    this.#inner = inner
    this.#caches = caches
  }

  /** Resolves once the caches have loaded (attestations before then fall back to GETs). */
  synced(): Promise<void> {
    return this.#caches.synced()
  }

  reviewToken(
    token: string,
    audiences: readonly string[],
    options?: CallOptions,
  ): Promise<RawTokenReviewStatus> {
    return this.#inner.reviewToken(token, audiences, options)
  }

  async getPod(namespace: string, name: string, options: LookupOptions = {}): Promise<PodInfo | undefined> {
    const cached = this.#caches.pod(namespace, name)
    if (cached !== undefined && (options.uid === undefined || cached.uid === options.uid)) return cached
    return this.#inner.getPod(namespace, name, options)
  }

  async getNode(name: string, options: LookupOptions = {}): Promise<NodeInfo | undefined> {
    const cached = this.#caches.node(name)
    if (cached !== undefined && (options.uid === undefined || cached.uid === options.uid)) return cached
    return this.#inner.getNode(name, options)
  }

  async getServiceAccount(
    namespace: string,
    name: string,
    options: LookupOptions = {},
  ): Promise<ServiceAccountInfo | undefined> {
    const cached = this.#caches.serviceAccount(namespace, name)
    if (cached !== undefined && (options.uid === undefined || cached.uid === options.uid)) return cached
    return this.#inner.getServiceAccount(namespace, name, options)
  }

  getIssuerKeys(options?: CallOptions): Promise<IssuerKeys> {
    return this.#inner.getIssuerKeys(options)
  }

  checkPermission(permission: Permission, options?: CallOptions): Promise<PermissionCheck> {
    return this.#inner.checkPermission(permission, options)
  }

  async close(): Promise<void> {
    await this.#caches.close()
    await this.#inner.close()
  }
}
