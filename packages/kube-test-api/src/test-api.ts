import type { KeyObject } from 'node:crypto'
import type { Clock } from './clock.ts'
import { Cluster } from './cluster.ts'
import type { RequestCounters } from './counters.ts'
import type { FaultRule, InjectedFault } from './faults.ts'
import { adminIdentitySpec, type Identity, type IdentitySpec } from './identities.ts'
import type { JsonObject } from './json.ts'
import type { PodStatusInput } from './kubelet-status.ts'
import { startServer } from './server.ts'
import { createServingCertificate } from './serving-certificate.ts'
import { publicJwk, type SigningAlgorithm } from './signing-key.ts'
import { cacheMethods } from './test-api-caches.ts'
import { faultControls } from './test-api-faults.ts'
import { testApiKubeconfigs } from './test-api-kubeconfigs.ts'
import { objectMethods } from './test-api-objects.ts'
import { clusterSettings, serverOptions } from './test-api-options.ts'
import { tokenMethods } from './test-api-tokens.ts'

/**
 * The programmatic face of the Kubernetes test API: start and stop it, put
 * objects in it, issue tokens, add callers, inject faults, read counters, and
 * move its clock — everything a test needs besides talking to it over HTTPS
 * with the kubeconfig it writes.
 */

/** Options of {@link startKubeTestApi}; every field is optional. */
export interface KubeTestApiOptions {
  /** The address to listen on. Default `127.0.0.1`. */
  readonly host?: string
  /** The port; default `0` (any free port). */
  readonly port?: number
  /** `--service-account-issuer`. Default `https://kubernetes.default.svc.cluster.local`. */
  readonly issuer?: string
  /** `--api-audiences`. Default: `[issuer]`. */
  readonly apiAudiences?: readonly string[]
  /** The service account signing algorithm when no key is given. Default `RS256` (RSA 2048). */
  readonly signingAlgorithm?: SigningAlgorithm
  /** The service account signing key (private; RSA or P-256); default: a fresh one. */
  readonly signingKey?: KeyObject | string
  /** Time for everything time-dependent; pass a `ManualClock` to make tokens expire without waiting. Default: the wall clock. */
  readonly clock?: Clock
  /** Remember successful TokenReviews for 10 s, as kube-apiserver does. Default `true`. */
  readonly tokenReviewCache?: boolean
  /** `--service-account-extend-token-expiration` (year-long kubelet tokens with `warnafter`). Default `true`. */
  readonly extendTokenExpiration?: boolean
  /** `--service-account-max-token-expiration`, in seconds. Default: no cap. */
  readonly maxTokenExpirationSeconds?: number
  /** How many changes a watch can resume from before getting 410 Gone. Default 10 000. */
  readonly watchHistoryLimit?: number
  /** The admin identity's bearer token. Default: random. */
  readonly adminToken?: string
  /** Randomness for fault rates and default watch timeouts. Default `Math.random`. */
  readonly random?: () => number
  /** Receives errors no handler expected (each answered with a 500). Default: printed to stderr. */
  readonly onError?: (error: unknown) => void
}

/** A stored object, with the fields tests use most. */
export interface StoredObject {
  readonly name: string
  /** `''` for cluster-scoped objects. */
  readonly namespace: string
  readonly uid: string
  readonly resourceVersion: string
  /** The full object as the API returns it. */
  readonly object: JsonObject
}

/** A pod to create; it gets one container unless `containers` says otherwise. */
export interface PodInput {
  readonly namespace: string
  readonly name: string
  readonly serviceAccountName: string
  /** The node it runs on (`spec.nodeName`). */
  readonly nodeName?: string
  readonly labels?: Readonly<Record<string, string>>
  readonly annotations?: Readonly<Record<string, string>>
  /** Default: one `main` container running `registry.k8s.io/pause:3.10`. */
  readonly containers?: readonly JsonObject[]
  /** A status to set right away, as a kubelet would (`status.hostIP`, …). */
  readonly status?: PodStatusInput
}

/** A node to create. */
export interface NodeInput {
  readonly labels?: Readonly<Record<string, string>>
  /** `status.addresses`, e.g. `[{ type: 'InternalIP', address: '10.0.0.1' }]`. */
  readonly addresses?: readonly { readonly type: string; readonly address: string }[]
}

/** What to bind a requested token to. */
export interface BoundObject {
  readonly kind: 'Pod' | 'Node' | 'Secret'
  readonly name: string
  /** Checked against the object's UID when given (409 on a mismatch). */
  readonly uid?: string
}

/** A TokenRequest. */
export interface TokenRequestInput {
  readonly namespace: string
  readonly serviceAccount: string
  /** Default: the API audiences. */
  readonly audiences?: readonly string[]
  /** Default 3600; minimum 600. */
  readonly expirationSeconds?: number
  readonly boundObject?: BoundObject
}

/** An issued token. */
export interface IssuedToken {
  readonly token: string
  /** `status.expirationTimestamp`, RFC 3339. */
  readonly expirationTimestamp: string
}

/** Connection- and request-level fault injection. */
export interface FaultControls {
  /** Starts injecting latency, hangs and/or errors for matching requests. */
  inject(rule: FaultRule): InjectedFault
  /** Removes every injected request fault and accepts connections again. */
  clear(): Promise<void>
  /** Destroys every new connection as soon as it is accepted (clients see a reset). */
  resetConnections(): void
  /** Accepts connections normally again (undoes {@link FaultControls.resetConnections}). */
  acceptConnections(): void
  /** Closes the listening socket: connection attempts are refused until {@link FaultControls.resumeListening}. */
  stopListening(): Promise<void>
  /** Listens again on the same port. */
  resumeListening(): Promise<void>
  /** Destroys every open connection, watches included; returns how many there were. */
  destroyConnections(): number
  /**
   * Ends every open watch stream cleanly, as kube-apiserver does at a watch's timeout: the
   * connection stays, and clients watch again from the last resourceVersion they saw (a 410
   * Gone if that was compacted away meanwhile). Returns how many there were.
   */
  endWatches(): number
}

/** Which kubeconfig to render. */
export interface KubeconfigOptions {
  /** The identity to authenticate as; default the admin. A bare `{ name, token }` works for service account tokens. */
  readonly identity?: Pick<Identity, 'name' | 'token'>
  /** Where to write it (write only); default a new temporary directory. */
  readonly path?: string
}

/** A running Kubernetes test API. */
export interface KubeTestApi {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string
  readonly port: number
  /** The CA that signed the serving certificate, PEM. */
  readonly caCertificatePem: string
  readonly issuer: string
  readonly apiAudiences: readonly string[]
  readonly clock: Clock
  /** The cluster admin (group `system:masters`). */
  readonly admin: Identity
  /** The public service account signing key as a JWK (what `/openid/v1/jwks` lists). */
  readonly jwk: JsonObject
  /** Request counters by verb and resource, and accepted TLS connections. */
  readonly counters: RequestCounters
  readonly faults: FaultControls

  /** Adds a bearer-token caller with its own rules. */
  addIdentity(spec: IdentitySpec): Identity
  /** The kubeconfig YAML for an identity (default: the admin). */
  kubeconfig(options?: Pick<KubeconfigOptions, 'identity'>): string
  /** Writes a kubeconfig file (mode 0600) and returns its path; files in temporary directories go away on {@link KubeTestApi.stop}. */
  writeKubeconfig(options?: KubeconfigOptions): Promise<string>

  createNamespace(
    name: string,
    options?: { readonly labels?: Readonly<Record<string, string>> },
  ): StoredObject
  createServiceAccount(
    namespace: string,
    name: string,
    options?: { readonly automountServiceAccountToken?: boolean },
  ): StoredObject
  createNode(name: string, options?: NodeInput): StoredObject
  createPod(input: PodInput): StoredObject
  /** Sets a pod's status, as its kubelet would. */
  setPodStatus(namespace: string, name: string, status: PodStatusInput): StoredObject
  /** Creates any served object from its JSON (as a POST would); `resource` is the plural, e.g. `secrets`. */
  createObject(resource: string, body: JsonObject, namespace?: string): StoredObject
  /** Reads any served object; a `KubeStatusError` (404) when absent. */
  getObject(resource: string, name: string, namespace?: string): StoredObject
  /**
   * Deletes any served object. Pods honour `gracePeriodSeconds` (default: the
   * pod's own, 30 s: the pod becomes terminating); `0` force-deletes.
   */
  deleteObject(
    resource: string,
    name: string,
    options?: { readonly namespace?: string; readonly gracePeriodSeconds?: number },
  ): JsonObject

  /** Issues a token through TokenRequest, exactly as the REST endpoint does. */
  requestToken(input: TokenRequestInput): IssuedToken
  /** Creates a `kubernetes.io/service-account-token` Secret, fills it as the token controller would, returns the token. */
  createLegacyTokenSecret(namespace: string, secretName: string, serviceAccount: string): string
  /** Fills an existing service account token Secret as the token controller would; returns the token. */
  issueLegacyToken(namespace: string, secretName: string): string
  /** Signs arbitrary claims with the cluster key (for expired, forged or odd tokens in tests). */
  signToken(claims: JsonObject): string

  /** Turns kube-apiserver's 10-second TokenReview success cache on or off (off also empties it). */
  setTokenReviewCache(enabled: boolean): void
  /** Empties the TokenReview success cache. */
  clearTokenReviewCache(): void
  /** Forgets the watch history: watches from an older resourceVersion get 410 Gone. */
  compactWatchHistory(): void

  /** Stops the server; open connections and watches are cut. */
  stop(): Promise<void>
}

/**
 * Starts a Kubernetes test API: its own CA and serving certificate, a
 * signing key, the system namespaces and bootstrap RBAC, and an admin
 * identity, served over HTTPS.
 *
 * @example
 * ```ts
 * const api = await startKubeTestApi()
 * api.createNamespace('spire')
 * api.createServiceAccount('spire', 'spire-agent')
 * const { token } = api.requestToken({ namespace: 'spire', serviceAccount: 'spire-agent', audiences: ['spire-server'] })
 * const kubeconfigPath = await api.writeKubeconfig()
 * // … point the code under test at kubeconfigPath …
 * await api.stop()
 * ```
 */
export async function startKubeTestApi(options: KubeTestApiOptions = {}): Promise<KubeTestApi> {
  const cluster = new Cluster(clusterSettings(options))
  const admin = cluster.identities.add(adminIdentitySpec(options.adminToken))
  const certificate = await createServingCertificate()
  const server = await startServer(cluster, serverOptions(options, certificate))
  cluster.externalUrl = server.url
  const { caCertificatePem } = certificate
  const kubeconfigs = testApiKubeconfigs({ server: server.url, caCertificatePem }, admin)
  return {
    url: server.url,
    port: server.port,
    caCertificatePem,
    issuer: cluster.settings.issuer,
    apiAudiences: cluster.settings.apiAudiences,
    clock: cluster.clock,
    admin,
    jwk: publicJwk(cluster.settings.signingKey),
    counters: cluster.counters,
    faults: faultControls(cluster, server),
    addIdentity: (spec) => cluster.identities.add(spec),
    ...kubeconfigs.methods,
    ...objectMethods(cluster.registry, cluster.clock),
    ...tokenMethods(cluster, caCertificatePem),
    ...cacheMethods(cluster),
    stop: async () => {
      await server.close()
      await kubeconfigs.removeTemporaryDirectories()
    },
  }
}
