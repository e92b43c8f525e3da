import { AttestError } from '@k8s-attest/core'
import { formatDuration } from '@k8s-attest/spire-config'
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
import { describePermission } from './cluster-client.ts'

/** Options of {@link withCallDeadline}. */
export interface CallDeadlineOptions {
  /** The cluster's name in the server configuration; appears in the error. */
  readonly cluster: string
  /** How long each call may take, in milliseconds (`kube_api_timeout`). */
  readonly timeoutMs: number
}

/**
 * Gives every call of `client` a deadline. Without one, an API server that accepts the
 * connection and never answers holds each attestation until the agent gives up (undici's own
 * header timeout is 300 s).
 *
 * At the deadline the call's `signal` is aborted, so the implementation drops the request, and
 * the call rejects at once with `ATT_ERR_KUBE_API_UNAVAILABLE` (503 with `Retry-After`: the
 * API server is the transient problem, not the agent) — even if the implementation ignores the
 * signal. A caller's own signal still works, and aborts the call early.
 *
 * It wraps any {@link ClusterClient}, so a caching client can sit inside it or in front of it.
 */
export function withCallDeadline(client: ClusterClient, options: CallDeadlineOptions): ClusterClient {
  if (!(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
    throw new TypeError('"timeoutMs" must be a positive number of milliseconds')
  }
  return new DeadlineClusterClient(client, options)
}

class DeadlineClusterClient implements ClusterClient {
  readonly #inner: ClusterClient
  readonly #options: CallDeadlineOptions

  constructor(inner: ClusterClient, options: CallDeadlineOptions) {
    this.#inner = inner
    this.#options = options
  }

  reviewToken(
    token: string,
    audiences: readonly string[],
    options: CallOptions = {},
  ): Promise<RawTokenReviewStatus> {
    return this.#withDeadline('create tokenreviews', options, (call) =>
      this.#inner.reviewToken(token, audiences, call),
    )
  }

  getPod(namespace: string, name: string, options: LookupOptions = {}): Promise<PodInfo | undefined> {
    return this.#withDeadline(`get pod "${namespace}/${name}"`, options, (call) =>
      this.#inner.getPod(namespace, name, call),
    )
  }

  getNode(name: string, options: LookupOptions = {}): Promise<NodeInfo | undefined> {
    return this.#withDeadline(`get node "${name}"`, options, (call) => this.#inner.getNode(name, call))
  }

  getServiceAccount(
    namespace: string,
    name: string,
    options: LookupOptions = {},
  ): Promise<ServiceAccountInfo | undefined> {
    return this.#withDeadline(`get serviceaccount "${namespace}/${name}"`, options, (call) =>
      this.#inner.getServiceAccount(namespace, name, call),
    )
  }

  getIssuerKeys(options: CallOptions = {}): Promise<IssuerKeys> {
    return this.#withDeadline('get the service account issuer keys', options, (call) =>
      this.#inner.getIssuerKeys(call),
    )
  }

  checkPermission(permission: Permission, options: CallOptions = {}): Promise<PermissionCheck> {
    return this.#withDeadline(
      `create selfsubjectaccessreviews (${describePermission(permission)})`,
      options,
      (call) => this.#inner.checkPermission(permission, call),
    )
  }

  close(): Promise<void> {
    return this.#inner.close()
  }

  #withDeadline<T>(
    what: string,
    options: CallOptions,
    send: (options: CallOptions) => Promise<T>,
  ): Promise<T> {
    const { cluster, timeoutMs } = this.#options
    const deadline = new AbortController()
    const signal =
      options.signal === undefined ? deadline.signal : AbortSignal.any([options.signal, deadline.signal])
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new AttestError(
          'ATT_ERR_KUBE_API_UNAVAILABLE',
          `Kubernetes API call ${what} in cluster "${cluster}" got no answer within ${formatDuration(timeoutMs)} (kube_api_timeout)`,
          { check: 'kube_api_timeout', cluster, value: formatDuration(timeoutMs) },
        )
        deadline.abort(error)
        reject(error)
      }, timeoutMs)
      send({ ...options, signal }).then(
        (value) => {
          clearTimeout(timer)
          resolve(value)
        },
        (error: unknown) => {
          clearTimeout(timer)
          reject(error)
        },
      )
    })
  }
}
