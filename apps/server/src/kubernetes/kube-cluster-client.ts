import { AttestError } from '@k8s-attest/core'
import {
  ApiException,
  type KubernetesListObject,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Node,
  type V1Pod,
  type V1ServiceAccount,
} from '@kubernetes/client-node'
import type { ClusterCaches } from './cached-cluster-client.ts'
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
import { Informer, type InformerCall } from './informer.ts'
import { kubeApiError } from './kube-api-error.ts'
import {
  nodeInfo,
  podInfo,
  serviceAccountInfo,
  trimNode,
  trimPod,
  trimServiceAccount,
} from './kube-objects.ts'
import { loadKubeconfigFile } from './kubeconfig-file.ts'
import { type JsonRequest, PooledKubeConfig } from './pooled-kube-config.ts'

/** One Kubernetes API call, reported for metrics. */
export interface KubeApiCall {
  readonly verb: 'create' | 'get' | 'list' | 'watch' | 'patch'
  /** The resource, or the non-resource path of service account issuer discovery. */
  readonly resource:
    | 'tokenreviews'
    | 'pods'
    | 'nodes'
    | 'serviceaccounts'
    | 'selfsubjectaccessreviews'
    | 'configmaps'
    | typeof DISCOVERY_PATH
    | typeof JWKS_PATH
  /** HTTP status, or `"error"` when no answer came (connection refused, timeout). */
  readonly code: string
  readonly durationMs: number
}

/** What {@link KubeClusterClient.getConfigMap} reads of a ConfigMap. */
export interface ConfigMapData {
  readonly resourceVersion: string
  readonly data: Readonly<Record<string, string>>
}

/** One {@link KubeClusterClient.patchConfigMap}: the keys to set, at the version they were read. */
export interface ConfigMapPatch {
  readonly resourceVersion: string
  readonly data: Readonly<Record<string, string>>
}

/** Which pods and nodes {@link KubeClusterClient.startCaches} watches, and how. */
export interface CacheScope {
  /**
   * The `namespace:serviceAccount` pairs whose pods are watched (the cluster's allow-list:
   * only their pods can attest). Each pair is one watch, selected by
   * `spec.serviceAccountName`, so the cache holds agent pods and nothing else.
   */
  readonly serviceAccounts: readonly string[]
  /** Full relist period. Default 30 minutes (client-go informers' usual resync order). */
  readonly resyncMs?: number
  /**
   * How long an informer's list may take before it is given up and tried again after the
   * backoff. Default 60 s: a list of thousands of nodes takes seconds, and one the API server
   * accepted and never answered would otherwise hold the informer for undici's 300 s.
   */
  readonly listTimeoutMs?: number
  /**
   * Also watch the service accounts of {@link serviceAccounts} (one watch each, selected by
   * `metadata.name`): JWKS mode checks that a token's service account still exists with the UID
   * the token names, which TokenReview would otherwise have checked. Default `false`.
   */
  readonly watchServiceAccounts?: boolean
  /** Called when a list or watch fails (the informer restarts by itself). */
  readonly onError?: (what: string, error: unknown) => void
}

/** Service account issuer discovery, served by kube-apiserver itself. */
const DISCOVERY_PATH = '/.well-known/openid-configuration'
const JWKS_PATH = '/openid/v1/jwks'
/**
 * kube-apiserver serves its JWKS only as this media type: `Accept: application/json` gets a 406
 * (shared/kube-reference, v1.32.13).
 */
const JWKS_MEDIA_TYPE = 'application/jwk-set+json'

const DEFAULT_RESYNC_MS = 30 * 60_000
const DEFAULT_LIST_TIMEOUT_MS = 60_000
const RESTART_DELAY_MS = 1_000
const MAX_RESTART_DELAY_MS = 30_000

/** Options of {@link KubeClusterClient.fromKubeconfig}. */
export interface KubeClusterClientOptions {
  /** The cluster's name in the server configuration; appears in every error. */
  readonly cluster: string
  /** Path of a kubeconfig file; empty or absent means in-cluster configuration. */
  readonly kubeconfigFile?: string
  /** Called after every API call (for the `kube_api_calls` metric). */
  readonly onCall?: (call: KubeApiCall) => void
}

/**
 * {@link ClusterClient} over @kubernetes/client-node, loading its credentials
 * from a kubeconfig file or the in-cluster service account, and reusing one
 * connection pool for all calls. Its requests are {@link PooledKubeConfig.requestJson}'s; its
 * watches client-node's `ListWatch` and `Watch`.
 */
export class KubeClusterClient implements ClusterClient {
  readonly #cluster: string
  readonly #config: PooledKubeConfig
  readonly #onCall: (call: KubeApiCall) => void

  private constructor(cluster: string, config: PooledKubeConfig, onCall: (call: KubeApiCall) => void) {
    this.#cluster = cluster
    this.#config = config
    this.#onCall = onCall
  }

  /**
   * Loads credentials: a kubeconfig file as kubectl reads it (see `loadKubeconfigFile`), or
   * in-cluster when none is named.
   */
  static fromKubeconfig(options: KubeClusterClientOptions): KubeClusterClient {
    const config = new PooledKubeConfig()
    if (options.kubeconfigFile) loadKubeconfigFile(config, options.kubeconfigFile)
    else config.loadFromCluster()
    return new KubeClusterClient(options.cluster, config, options.onCall ?? (() => {}))
  }

  async reviewToken(
    token: string,
    audiences: readonly string[],
    options: CallOptions = {},
  ): Promise<RawTokenReviewStatus> {
    const review = (await this.#call('create', 'tokenreviews', {
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/tokenreviews',
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token, audiences: [...audiences] },
      },
      signal: options.signal,
    })) as { readonly status?: RawTokenReviewStatus } | null
    // Checked field by field by the attestor; only a missing or non-object status becomes `{}`.
    const status = typeof review === 'object' ? review?.status : undefined
    return typeof status === 'object' && status !== null ? status : {}
  }

  async getPod(namespace: string, name: string, options: LookupOptions = {}): Promise<PodInfo | undefined> {
    const pod = await this.#getOrNotFound<V1Pod>('pods', namespacedPath('pods', namespace, name), options)
    return pod && podInfo(pod)
  }

  async getNode(name: string, options: LookupOptions = {}): Promise<NodeInfo | undefined> {
    const node = await this.#getOrNotFound<V1Node>(
      'nodes',
      `/api/v1/nodes/${encodeURIComponent(name)}`,
      options,
    )
    return node && nodeInfo(node)
  }

  async getServiceAccount(
    namespace: string,
    name: string,
    options: LookupOptions = {},
  ): Promise<ServiceAccountInfo | undefined> {
    const account = await this.#getOrNotFound<V1ServiceAccount>(
      'serviceaccounts',
      namespacedPath('serviceaccounts', namespace, name),
      options,
    )
    return account && serviceAccountInfo(account)
  }

  /**
   * One ConfigMap's `data` and `resourceVersion` (the k8sbundle notifier's read before its
   * patch); `undefined` when the API server answers 404.
   */
  async getConfigMap(
    namespace: string,
    name: string,
    options: CallOptions = {},
  ): Promise<ConfigMapData | undefined> {
    const configMap = await this.#getOrNotFound<V1ConfigMap>(
      'configmaps',
      namespacedPath('configmaps', namespace, name),
      options,
    )
    if (configMap === undefined) return undefined
    return { resourceVersion: configMap.metadata?.resourceVersion ?? '', data: configMap.data ?? {} }
  }

  /**
   * Sets the keys of `patch.data` in one ConfigMap's `data` (a JSON merge patch: other keys
   * stay), only if the ConfigMap is still at `patch.resourceVersion`: the API server answers
   * 409 Conflict otherwise, so a read-modify-write never overwrites a change it did not see.
   */
  async patchConfigMap(
    namespace: string,
    name: string,
    patch: ConfigMapPatch,
    options: CallOptions = {},
  ): Promise<void> {
    await this.#call('patch', 'configmaps', {
      method: 'PATCH',
      path: namespacedPath('configmaps', namespace, name),
      contentType: 'application/merge-patch+json',
      body: { metadata: { resourceVersion: patch.resourceVersion }, data: patch.data },
      signal: options.signal,
    })
  }

  /**
   * Reads the issuer from the discovery document and the keys from `/openid/v1/jwks` of this
   * API server, through this client's pool and credentials. The document's `jwks_uri` is not
   * followed: kube-apiserver serves its keys at `/openid/v1/jwks` whatever
   * `--service-account-jwks-uri` advertises to outside relying parties (often an external
   * address, or a bucket, which this server could not reach or would have to trust by other
   * means); here the keys come over the authenticated connection it already trusts.
   */
  async getIssuerKeys(options: CallOptions = {}): Promise<IssuerKeys> {
    const discovery = await this.#call('get', DISCOVERY_PATH, {
      method: 'GET',
      path: DISCOVERY_PATH,
      signal: options.signal,
    })
    const jwks = await this.#call('get', JWKS_PATH, {
      method: 'GET',
      path: JWKS_PATH,
      accept: JWKS_MEDIA_TYPE,
      signal: options.signal,
    })
    return { issuer: jsonObject(discovery)?.issuer, jwks: jsonObject(jwks) }
  }

  async checkPermission(permission: Permission, options: CallOptions = {}): Promise<PermissionCheck> {
    const attributes =
      'path' in permission
        ? { nonResourceAttributes: { verb: permission.verb, path: permission.path } }
        : { resourceAttributes: { ...permission } }
    // The request path the TokenReview takes: the startup self-check's reviews run it once,
    // so the first attestation does not pay its first-use cost.
    const review = (await this.#call('create', 'selfsubjectaccessreviews', {
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: attributes },
      signal: options.signal,
    })) as {
      readonly status?: {
        readonly allowed?: unknown
        readonly reason?: unknown
        readonly evaluationError?: unknown
      }
    } | null
    const status = typeof review === 'object' ? review?.status : undefined
    const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined)
    return {
      ...permission,
      allowed: status?.allowed === true,
      reason: text(status?.reason) ?? text(status?.evaluationError) ?? '',
    }
  }

  async close(): Promise<void> {
    await this.#config.closeConnections()
  }

  /**
   * Starts informers (list + watch, through this client's connection pool) for the pods of
   * `scope.serviceAccounts` and for all nodes, holding only what attestation reads of each.
   * Wrap this client and them in a `CachedClusterClient`.
   */
  startCaches(scope: CacheScope): ClusterCaches {
    const common = {
      config: this.#config,
      list: <T extends KubernetesObject>(
        path: string,
        fieldSelector: string | undefined,
        stopped: AbortSignal,
      ) => this.#list<T>(path, fieldSelector, scope.listTimeoutMs ?? DEFAULT_LIST_TIMEOUT_MS, stopped),
      resyncMs: scope.resyncMs ?? DEFAULT_RESYNC_MS,
      restartDelayMs: RESTART_DELAY_MS,
      maxRestartDelayMs: MAX_RESTART_DELAY_MS,
    }
    const report = (resource: 'pods' | 'nodes' | 'serviceaccounts') => (call: InformerCall) =>
      this.#onCall({ verb: call.verb, resource, code: call.code, durationMs: 0 })
    const pods = new Map<string, Informer<V1Pod>>()
    for (const pair of new Set(scope.serviceAccounts)) {
      const [namespace = '', serviceAccount = ''] = pair.split(':')
      const fieldSelector = `spec.serviceAccountName=${serviceAccount}`
      const name = `pods ${namespace}/${serviceAccount}`
      pods.set(
        pair,
        new Informer<V1Pod>({
          ...common,
          name,
          path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
          fieldSelector,
          trim: (object: V1Pod) => trimPod(object),
          onCall: report('pods'),
          onError: (error) => scope.onError?.(name, error),
        }),
      )
    }
    const nodes = new Informer<V1Node>({
      ...common,
      name: 'nodes',
      path: '/api/v1/nodes',
      trim: (object: V1Node) => trimNode(object),
      onCall: report('nodes'),
      onError: (error) => scope.onError?.('nodes', error),
    })
    const serviceAccounts = new Map<string, Informer<V1ServiceAccount>>()
    for (const pair of scope.watchServiceAccounts ? new Set(scope.serviceAccounts) : []) {
      const [namespace = '', serviceAccount = ''] = pair.split(':')
      const fieldSelector = `metadata.name=${serviceAccount}`
      const name = `serviceaccounts ${namespace}/${serviceAccount}`
      serviceAccounts.set(
        pair,
        new Informer<V1ServiceAccount>({
          ...common,
          name,
          path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts`,
          fieldSelector,
          trim: (object: V1ServiceAccount) => trimServiceAccount(object),
          onCall: report('serviceaccounts'),
          onError: (error) => scope.onError?.(name, error),
        }),
      )
    }
    const all = [...pods.values(), nodes, ...serviceAccounts.values()]
    return {
      pod(namespace, name) {
        for (const informer of pods.values()) {
          const pod = informer.get(namespace, name)
          if (pod !== undefined) return podInfo(pod)
        }
        return undefined
      },
      node(name) {
        const node = nodes.get(undefined, name)
        return node && nodeInfo(node)
      },
      serviceAccount(namespace, name) {
        const account = serviceAccounts.get(`${namespace}:${name}`)?.get(namespace, name)
        return account && serviceAccountInfo(account)
      },
      async synced() {
        await Promise.all(all.map((informer) => informer.synced()))
      },
      async close() {
        await Promise.all(all.map((informer) => informer.close()))
      },
    }
  }

  /** GET of one object; `undefined` when the API server answers 404. */
  async #getOrNotFound<T>(
    resource: KubeApiCall['resource'],
    path: string,
    options: CallOptions,
  ): Promise<T | undefined> {
    try {
      return (await this.#call('get', resource, { method: 'GET', path, signal: options.signal })) as T
    } catch (error) {
      if (error instanceof AttestError && error.cause instanceof ApiException && error.cause.code === 404) {
        return undefined
      }
      throw error
    }
  }

  /**
   * An informer's list: the collection as the API server sent it, or a `TimeoutError` after
   * `timeoutMs`. The informer reports it (`InformerCall`), so it is not reported here.
   */
  async #list<T extends KubernetesObject>(
    path: string,
    fieldSelector: string | undefined,
    timeoutMs: number,
    stopped: AbortSignal,
  ): Promise<KubernetesListObject<T>> {
    const list = (await this.#config.requestJson({
      method: 'GET',
      path,
      ...(fieldSelector === undefined ? {} : { query: { fieldSelector } }),
      signal: AbortSignal.any([stopped, AbortSignal.timeout(timeoutMs)]),
    })) as KubernetesListObject<T> | null
    if (list === null || typeof list !== 'object' || !Array.isArray(list.items)) {
      throw new TypeError(`GET ${path} answered a list without items`)
    }
    return list
  }

  async #call(
    verb: KubeApiCall['verb'],
    resource: KubeApiCall['resource'],
    request: JsonRequest,
  ): Promise<unknown> {
    const started = performance.now()
    try {
      const result = await this.#config.requestJson(request)
      this.#onCall({ verb, resource, code: verb === 'create' ? '201' : '200', durationMs: elapsed(started) })
      return result
    } catch (error) {
      const code = error instanceof ApiException ? String(error.code) : 'error'
      this.#onCall({ verb, resource, code, durationMs: elapsed(started) })
      throw kubeApiError(this.#cluster, verb, resource, error)
    }
  }
}

/** The path of one object in a namespace: `/api/v1/namespaces/{namespace}/{resource}/{name}`. */
function namespacedPath(
  resource: 'pods' | 'serviceaccounts' | 'configmaps',
  namespace: string,
  name: string,
): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/${resource}/${encodeURIComponent(name)}`
}

function elapsed(started: number): number {
  return performance.now() - started
}

/** A discovery answer as an object, or `undefined` (which the caller reports). */
function jsonObject(answer: unknown): Record<string, unknown> | undefined {
  return answer !== null && typeof answer === 'object' && !Array.isArray(answer)
    ? (answer as Record<string, unknown>)
    : undefined
}
