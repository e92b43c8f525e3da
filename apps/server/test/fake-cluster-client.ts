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
} from '../src/kubernetes/cluster-client.ts'
import { describePermission } from '../src/kubernetes/cluster-client.ts'

type FakeMethod =
  | 'reviewToken'
  | 'getPod'
  | 'getNode'
  | 'getServiceAccount'
  | 'getIssuerKeys'
  | 'checkPermission'

/**
 * A hand-written {@link ClusterClient} for fast unit tests of the attestation flow (after
 * SPIRE's `fakeAPIServerClient`): answers come from maps the test fills, every call is
 * recorded, and any method can be made to fail.
 */
export class FakeClusterClient implements ClusterClient {
  /** TokenReview statuses by token; an unknown token gets kube-apiserver's refusal. */
  readonly reviews = new Map<string, RawTokenReviewStatus>()
  /** Pods by `namespace/name`. */
  readonly pods = new Map<string, PodInfo>()
  /** Nodes by name. */
  readonly nodes = new Map<string, NodeInfo>()
  /** Service accounts by `namespace/name`. */
  readonly serviceAccounts = new Map<string, ServiceAccountInfo>()
  /** What `getIssuerKeys` answers (the test sets it; the JWKS is replaced to rotate keys). */
  issuerKeys: IssuerKeys = { issuer: undefined, jwks: { keys: [] } }
  /** Permissions denied to the server's identity, as `verb resource` or `verb /path`. */
  readonly deniedPermissions = new Set<string>()
  /** Makes the named method reject with this error. */
  readonly failures = new Map<FakeMethod, Error>()
  /** Every call, in order, e.g. `reviewToken [spire-server]`, `getPod spire/agent-1`. */
  readonly calls: string[] = []
  /** The UID each lookup of {@link calls} expected (`LookupOptions.uid`), by call. */
  readonly expectedUids = new Map<string, string | undefined>()
  /**
   * When set, every call awaits it (with the call's signal) before answering: a test can hold
   * calls, or never answer, like an API server that accepted the request and went silent.
   */
  hold: ((signal: AbortSignal | undefined) => Promise<void>) | undefined
  closed = false

  async reviewToken(
    token: string,
    audiences: readonly string[],
    options: CallOptions = {},
  ): Promise<RawTokenReviewStatus> {
    this.calls.push(`reviewToken [${audiences.join(',')}]`)
    await this.hold?.(options.signal)
    this.#fail('reviewToken')
    return this.reviews.get(token) ?? { user: {}, error: 'invalid bearer token' }
  }

  async getPod(namespace: string, name: string, options: LookupOptions = {}): Promise<PodInfo | undefined> {
    this.#lookup(`getPod ${namespace}/${name}`, options)
    await this.hold?.(options.signal)
    this.#fail('getPod')
    return this.pods.get(`${namespace}/${name}`)
  }

  async getNode(name: string, options: LookupOptions = {}): Promise<NodeInfo | undefined> {
    this.#lookup(`getNode ${name}`, options)
    await this.hold?.(options.signal)
    this.#fail('getNode')
    return this.nodes.get(name)
  }

  async getServiceAccount(
    namespace: string,
    name: string,
    options: LookupOptions = {},
  ): Promise<ServiceAccountInfo | undefined> {
    this.#lookup(`getServiceAccount ${namespace}/${name}`, options)
    await this.hold?.(options.signal)
    this.#fail('getServiceAccount')
    return this.serviceAccounts.get(`${namespace}/${name}`)
  }

  async getIssuerKeys(options: CallOptions = {}): Promise<IssuerKeys> {
    this.calls.push('getIssuerKeys')
    await this.hold?.(options.signal)
    this.#fail('getIssuerKeys')
    return this.issuerKeys
  }

  async checkPermission(permission: Permission, options: CallOptions = {}): Promise<PermissionCheck> {
    this.calls.push(`checkPermission ${describePermission(permission)}`)
    await this.hold?.(options.signal)
    this.#fail('checkPermission')
    const allowed = !this.deniedPermissions.has(describePermission(permission))
    return { ...permission, allowed, reason: allowed ? '' : 'RBAC: no rule' }
  }

  async close(): Promise<void> {
    this.closed = true
  }

  #lookup(call: string, options: LookupOptions): void {
    this.calls.push(call)
    this.expectedUids.set(call, options.uid)
  }

  #fail(method: FakeMethod): void {
    const error = this.failures.get(method)
    if (error !== undefined) throw error
  }
}
