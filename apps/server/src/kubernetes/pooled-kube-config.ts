import {
  ApiException,
  bufferFromFileOrString,
  KubeConfig,
  type RequestContext,
} from '@kubernetes/client-node'
import { Agent, type Dispatcher, getGlobalDispatcher, ProxyAgent } from 'undici'

/**
 * Most connections one cluster's pool opens to its API server for requests. Attestations
 * beyond this many in flight queue for a free connection instead of opening more: the number
 * of connections is bounded by the pool, never by the load. Watches do not count against it:
 * each holds a connection of its own for as long as it runs (see {@link PooledKubeConfig}).
 */
export const MAX_API_SERVER_CONNECTIONS = 8

/**
 * The per-call credential step of client-node that applies the bearer token, a kubeconfig
 * `tokenFile` / in-cluster token (re-read by client-node every 60 s, as client-go does) or an
 * exec / auth-provider plugin. It is a TypeScript-private method of `KubeConfig` 2.0.1 (the
 * version is pinned exactly); the integration tests exercise it through every API call.
 */
interface AuthorizationHeaderStep {
  applyAuthorizationHeader(options: { headers: Record<string, string> }): Promise<void>
}

/** One call of {@link PooledKubeConfig.requestJson}. */
export interface JsonRequest {
  readonly method: 'GET' | 'POST' | 'PATCH'
  /** The API path, under the server URL's own path: `/api/v1/nodes`. */
  readonly path: string
  /** Query parameters (`fieldSelector`), encoded by undici. */
  readonly query?: Readonly<Record<string, string>>
  /** Sent as JSON. */
  readonly body?: unknown
  /** The body's media type: `application/merge-patch+json` for a PATCH. @default 'application/json' */
  readonly contentType?: string
  /** @default 'application/json' */
  readonly accept?: string
  readonly signal?: AbortSignal | undefined
}

/** Where {@link PooledKubeConfig.requestJson} sends its calls. */
interface ApiServerEndpoint {
  readonly origin: string
  /** The server URL's path, without a trailing `/`: empty for most servers. */
  readonly pathPrefix: string
}

/**
 * A `KubeConfig` whose API calls share one bounded keep-alive connection pool, built once.
 *
 * As shipped, @kubernetes/client-node 2.0.1 re-reads the CA (and client certificate) files and
 * builds a fresh undici dispatcher in every `applySecurityAuthentication()`, so every API call
 * paid a file read and a full TLS handshake, and left its socket lingering (measured here:
 * 358 TokenReviews/s at 16 concurrent calls, against 1,418/s with one reused pool; see
 * shared/PERFORMANCE-NOTES.md). Here the TLS material is read and the dispatcher built on the
 * first call; each call only adds its credential headers, so a rotated token keeps working.
 *
 * The pool speaks HTTP/1.1 with keep-alive: against kube-apiserver v1.32 it served 7–15 % more
 * TokenReviews per second than HTTP/2 over one connection did (shared/PERFORMANCE-NOTES.md),
 * and a few HTTP/1.1 connections spread the API server's work over its cores.
 */
export class PooledKubeConfig extends KubeConfig {
  #pools: Pools | undefined
  #endpoint: ApiServerEndpoint | undefined
  /** Loaded by {@link loadFromCluster}: its server comes from the pod's environment. */
  #inCluster = false

  /**
   * client-node's in-cluster configuration, remembered as such: outside a pod it builds the
   * server URL `https://undefined:undefined`, which the first call then explains.
   */
  override loadFromCluster(pathPrefix?: string): void {
    super.loadFromCluster(pathPrefix)
    this.#inCluster = true
  }

  /**
   * client-node's `Watch` calls this for every watch it opens: the same headers as
   * {@link requestJson}, and the same TLS material, but a dispatcher of their own. A watch
   * holds its connection for minutes, and the informers run one per watched collection (per
   * allow-listed service account, and more in JWKS mode): in the bounded pool, a cluster with
   * eight of them left no connection for the TokenReviews.
   */
  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    for (const [name, value] of Object.entries(await this.#credentialHeaders()))
      context.setHeaderParam(name, value)
    const pools = this.#pools ?? this.#openPools()
    if (pools !== undefined) context.setDispatcher(pools.watches)
  }

  /**
   * Sends one request to the current cluster's API server, with the credentials and through
   * the pool that client-node's `Watch` also uses, and returns the parsed JSON answer.
   *
   * Every call the server makes but the watches goes this way: the TokenReview (once per
   * attestation), the self-check's SelfSubjectAccessReviews (which so run this code before the
   * first attestation does), the informers' lists, the GET fallbacks, issuer discovery and the
   * k8sbundle notifier's ConfigMap reads and patches.
   * client-node's generated APIs would run WHATWG fetch (web streams, a `Request` and `Headers`
   * per call), a middleware chain and ObjectSerializer's walk over the whole model both ways —
   * under `pnpm bench` about a tenth of the server's busy time per attestation — and loading
   * their classes costs the bundled server about 7 MiB (docs/performance.md). This is one undici
   * `request()` and `JSON.parse`; objects arrive as the API server sent them (timestamps as RFC
   * 3339 text, as a watch delivers them).
   *
   * @throws {ApiException} for an answer outside 2xx, as the generated APIs do (body as text).
   * @throws {SyntaxError} for a 2xx answer that is not JSON, quoting its start.
   * @throws {Error} undici's own errors when no answer came (refused, reset, aborted by `signal`).
   */
  async requestJson(request: JsonRequest): Promise<unknown> {
    const { method, path } = request
    const { origin, pathPrefix } = this.#endpoint ?? this.#readEndpoint()
    const headers = await this.#credentialHeaders()
    headers.accept = request.accept ?? 'application/json'
    if (request.body !== undefined) headers['content-type'] = request.contentType ?? 'application/json'
    // The dispatcher's own request(): undici's top-level one parses a URL string on every call.
    const pools = this.#pools ?? this.#openPools()
    const response = await (pools?.requests ?? getGlobalDispatcher()).request({
      origin,
      path: `${pathPrefix}${path}`,
      method,
      headers,
      ...(request.query === undefined ? {} : { query: request.query }),
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      signal: request.signal ?? null,
    })
    const text = await response.body.text()
    if (response.statusCode < 200 || response.statusCode > 299) {
      const answerHeaders: Record<string, string> = {}
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined) answerHeaders[name] = Array.isArray(value) ? value.join(', ') : value
      }
      throw new ApiException(response.statusCode, `${method} ${path}`, text, answerHeaders)
    }
    try {
      return JSON.parse(text)
    } catch {
      const start = JSON.stringify(text.slice(0, 80))
      throw new SyntaxError(
        `${method} ${path} answered ${response.statusCode} with a body that is not JSON: ${start}`,
      )
    }
  }

  /**
   * The current cluster's server as an origin and a path prefix (a server URL may carry one,
   * e.g. behind a proxy), read on the first call as the pool is: both stay as they were built.
   */
  #readEndpoint(): ApiServerEndpoint {
    const server = this.getCurrentCluster()?.server
    if (!server) throw new TypeError('the kubeconfig names no cluster server')
    if (this.#inCluster && !process.env.KUBERNETES_SERVICE_HOST) {
      throw new TypeError(
        'in-cluster configuration needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, which Kubernetes sets in every pod; outside a cluster, name a kubeconfig file',
      )
    }
    if (!URL.canParse(server))
      throw new TypeError(`the cluster server ${JSON.stringify(server)} is not a URL`)
    const url = new URL(server)
    this.#endpoint = { origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, '') }
    return this.#endpoint
  }

  /** The headers that authenticate one call: bearer token (re-read when client-node does), basic auth, impersonation. */
  async #credentialHeaders(): Promise<Record<string, string>> {
    const user = this.getCurrentUser()
    const headers: Record<string, string> = {}
    await (this as unknown as AuthorizationHeaderStep).applyAuthorizationHeader({ headers })
    if (user?.username) {
      headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`
    }
    if (user?.impersonateUser) headers['Impersonate-User'] = user.impersonateUser
    return headers
  }

  /**
   * Reads the cluster's TLS material and builds the two dispatchers. `undefined` only for a
   * plain-HTTP cluster without TLS options, where undici's global pool serves (as in client-node).
   */
  #openPools(): Pools | undefined {
    const cluster = this.getCurrentCluster()
    const user = this.getCurrentUser()
    const ca = cluster === null ? null : bufferFromFileOrString(cluster.caFile, cluster.caData)
    const cert = user === null ? null : bufferFromFileOrString(user.certFile, user.certData)
    const key = user === null ? null : bufferFromFileOrString(user.keyFile, user.keyData)
    const options = this.createDispatcherOptions(cluster, {
      ...(ca === null ? {} : { ca }),
      ...(cert === null ? {} : { cert }),
      ...(key === null ? {} : { key }),
      ...(cluster?.skipTLSVerify ? { rejectUnauthorized: false } : {}),
      ...(cluster?.tlsServerName ? { servername: cluster.tlsServerName } : {}),
    })
    // client-node builds these options for its own copy of undici (the same 8.12 release); only
    // their declared optional-property strictness differs from this package's copy.
    let dispatcher: (connections: number | null) => Dispatcher
    switch (options.type) {
      case 'agent':
        dispatcher = (connections) =>
          new Agent({
            connections,
            allowH2: false,
            connect: options.connect as NonNullable<Agent.Options['connect']>,
          })
        break
      case 'proxy':
        dispatcher = (connections) =>
          new ProxyAgent({
            connections,
            allowH2: false,
            uri: options.uri,
            requestTls: options.requestTls as NonNullable<ProxyAgent.Options['requestTls']>,
            connect: options.connect as NonNullable<ProxyAgent.Options['connect']>,
          })
        break
      case 'socks':
        throw new TypeError(`cluster "${cluster?.name}": SOCKS proxies are not supported (${options.uri})`)
      case 'none':
        return undefined
    }
    // Watches: one connection each, as many as the informers run (a number the configuration fixes).
    this.#pools = { requests: dispatcher(MAX_API_SERVER_CONNECTIONS), watches: dispatcher(null) }
    return this.#pools
  }

  /** Closes both dispatchers; later calls open new ones. */
  async closeConnections(): Promise<void> {
    const pools = this.#pools
    this.#pools = undefined
    await Promise.all([pools?.requests.close(), pools?.watches.close()])
  }
}

/** The dispatchers of one cluster: requests share a bounded pool; each watch has its own connection. */
interface Pools {
  readonly requests: Dispatcher
  readonly watches: Dispatcher
}
