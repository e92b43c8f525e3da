import type { KeyObject } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { type Clock, systemClock } from './clock.ts'
import { Cluster } from './cluster.ts'
import type { RequestCounters } from './counters.ts'
import type { FaultRule, InjectedFault } from './faults.ts'
import { adminIdentitySpec, type Identity, type IdentitySpec } from './identities.ts'
import { isJsonObject, type JsonObject, objectAt, stringAt } from './json.ts'
import { signJwt } from './jwt.ts'
import { renderKubeconfig, writeKubeconfigFile } from './kubeconfig.ts'
import { type PodStatusInput, reportPodStatus } from './kubelet-status.ts'
import type { DeleteResult } from './registry.ts'
import { metadataOf } from './registry.ts'
import { findResource } from './resources/catalog.ts'
import type { ResourceDefinition } from './resources/definition.ts'
import { namespaces } from './resources/namespaces.ts'
import { nodes } from './resources/nodes.ts'
import { pods } from './resources/pods.ts'
import { SERVICE_ACCOUNT_NAME_ANNOTATION, SERVICE_ACCOUNT_TOKEN_TYPE, secrets } from './resources/secrets.ts'
import { serviceAccounts } from './resources/service-accounts.ts'
import { type RunningServer, startServer } from './server.ts'
import { createServingCertificate } from './serving-certificate.ts'
import {
  generateSigningKey,
  publicJwk,
  type SigningAlgorithm,
  type SigningKey,
  signingKeyFrom,
} from './signing-key.ts'
import { fillServiceAccountTokenSecret } from './token-controller.ts'
import { createTokenRequest } from './token-request.ts'

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

const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local'
const DEFAULT_CONTAINER_IMAGE = 'registry.k8s.io/pause:3.10'
const TEST_API_MANAGER = 'kube-test-api'

function stored(object: JsonObject): StoredObject {
  const metadata = metadataOf(object)
  return {
    name: stringAt(metadata, 'name') ?? '',
    namespace: stringAt(metadata, 'namespace') ?? '',
    uid: stringAt(metadata, 'uid') ?? '',
    resourceVersion: stringAt(metadata, 'resourceVersion') ?? '',
    object,
  }
}

function validateOptions(options: KubeTestApiOptions): void {
  if (
    options.port !== undefined &&
    (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)
  ) {
    throw new TypeError('"port" must be an integer from 0 to 65535')
  }
  if (options.issuer !== undefined && options.issuer.trim() === '')
    throw new TypeError('"issuer" must not be empty')
  if (options.apiAudiences !== undefined && options.apiAudiences.length === 0) {
    throw new TypeError('"apiAudiences" must name at least one audience')
  }
  if (
    options.maxTokenExpirationSeconds !== undefined &&
    (!Number.isInteger(options.maxTokenExpirationSeconds) || options.maxTokenExpirationSeconds < 600)
  ) {
    throw new TypeError('"maxTokenExpirationSeconds" must be an integer of at least 600')
  }
  if (options.signingKey !== undefined && options.signingAlgorithm !== undefined) {
    const key = signingKeyFrom(options.signingKey)
    if (key.algorithm !== options.signingAlgorithm) {
      throw new TypeError(
        `"signingKey" is a ${key.algorithm} key but "signingAlgorithm" is ${options.signingAlgorithm}`,
      )
    }
  }
}

function resourceDefinition(resource: string): ResourceDefinition {
  const [plural, group = ''] = resource.includes('.')
    ? [resource.slice(0, resource.indexOf('.')), resource.slice(resource.indexOf('.') + 1)]
    : [resource]
  const definition = findResource(group, 'v1', plural)
  if (definition === undefined) throw new TypeError(`"${resource}" is not a resource the test API stores`)
  return definition
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
  validateOptions(options)
  const issuer = options.issuer ?? DEFAULT_ISSUER
  const signingKey: SigningKey =
    options.signingKey === undefined
      ? generateSigningKey(options.signingAlgorithm ?? 'RS256')
      : signingKeyFrom(options.signingKey)
  const clock = options.clock ?? systemClock
  const cluster = new Cluster({
    issuer,
    apiAudiences: [...(options.apiAudiences ?? [issuer])],
    signingKey,
    clock,
    tokenReviewCache: options.tokenReviewCache ?? true,
    extendTokenExpiration: options.extendTokenExpiration ?? true,
    maxTokenExpirationSeconds: options.maxTokenExpirationSeconds,
    watchHistoryLimit: options.watchHistoryLimit ?? 10_000,
    random: options.random ?? Math.random,
  })
  const admin = cluster.identities.add(adminIdentitySpec(options.adminToken))
  const certificate = await createServingCertificate()
  const server: RunningServer = await startServer(cluster, {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    certificateChainPem: certificate.certificateChainPem,
    privateKeyPem: certificate.privateKeyPem,
    onError:
      options.onError ??
      ((error: unknown) => {
        process.stderr.write(
          `kube-test-api: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
        )
      }),
  })
  cluster.externalUrl = server.url
  const { registry } = cluster
  const write = { manager: TEST_API_MANAGER }
  const temporaryDirectories: string[] = []

  const kubeconfigInput = (identity: Pick<Identity, 'name' | 'token'> = admin) => ({
    server: server.url,
    caCertificatePem: certificate.caCertificatePem,
    userName: identity.name,
    token: identity.token,
  })

  const fillLegacySecret = (namespace: string, secretName: string): string =>
    fillServiceAccountTokenSecret(registry, signingKey, certificate.caCertificatePem, namespace, secretName)

  const api: KubeTestApi = {
    url: server.url,
    port: server.port,
    caCertificatePem: certificate.caCertificatePem,
    issuer,
    apiAudiences: cluster.settings.apiAudiences,
    clock,
    admin,
    jwk: publicJwk(signingKey),
    counters: cluster.counters,
    faults: {
      inject: (rule) => cluster.faults.inject(rule),
      async clear() {
        cluster.faults.clear()
        server.setConnectionMode('accept')
        await server.resumeAccepting()
      },
      resetConnections: () => server.setConnectionMode('reset'),
      acceptConnections: () => server.setConnectionMode('accept'),
      stopListening: () => server.stopAccepting(),
      resumeListening: () => server.resumeAccepting(),
      destroyConnections: () => server.destroyConnections(),
    },

    addIdentity: (spec) => cluster.identities.add(spec),
    kubeconfig: (kubeconfigOptions = {}) => renderKubeconfig(kubeconfigInput(kubeconfigOptions.identity)),
    writeKubeconfig: async (kubeconfigOptions = {}) => {
      const path = await writeKubeconfigFile(
        kubeconfigInput(kubeconfigOptions.identity),
        kubeconfigOptions.path,
      )
      if (kubeconfigOptions.path === undefined) temporaryDirectories.push(dirname(path))
      return path
    },

    createNamespace: (name, namespaceOptions = {}) =>
      stored(
        registry.create(
          namespaces,
          '',
          { metadata: { name, labels: { ...namespaceOptions.labels } } },
          write,
        ),
      ),
    createServiceAccount: (namespace, name, accountOptions = {}) => {
      const body: JsonObject = { metadata: { name, namespace } }
      if (accountOptions.automountServiceAccountToken !== undefined) {
        body.automountServiceAccountToken = accountOptions.automountServiceAccountToken
      }
      return stored(registry.create(serviceAccounts, namespace, body, write))
    },
    createNode: (name, nodeOptions = {}) =>
      stored(
        registry.create(
          nodes,
          '',
          {
            metadata: { name, labels: { ...nodeOptions.labels } },
            status: {
              addresses: (nodeOptions.addresses ?? []).map(({ type, address }) => ({ type, address })),
            },
          },
          write,
        ),
      ),
    createPod: (input) => {
      const spec: JsonObject = {
        serviceAccountName: input.serviceAccountName,
        containers:
          input.containers === undefined
            ? [{ name: 'main', image: DEFAULT_CONTAINER_IMAGE }]
            : [...input.containers],
      }
      if (input.nodeName !== undefined) spec.nodeName = input.nodeName
      const metadata: JsonObject = {
        name: input.name,
        namespace: input.namespace,
        labels: { ...input.labels },
      }
      if (input.annotations !== undefined) metadata.annotations = { ...input.annotations }
      const created = stored(registry.create(pods, input.namespace, { metadata, spec }, write))
      return input.status === undefined
        ? created
        : api.setPodStatus(input.namespace, input.name, input.status)
    },
    setPodStatus: (namespace, name, status) =>
      stored(reportPodStatus(registry, namespace, name, status, clock.now())),
    createObject: (resource, body, namespace = '') => {
      const definition = resourceDefinition(resource)
      const bodyNamespace = stringAt(objectAt(body, 'metadata'), 'namespace')
      return stored(registry.create(definition, namespace || bodyNamespace || '', body, write))
    },
    getObject: (resource, name, namespace = '') =>
      stored(registry.get(resourceDefinition(resource), namespace, name)),
    deleteObject: (resource, name, deleteOptions = {}) => {
      const definition = resourceDefinition(resource)
      const result: DeleteResult = registry.delete(definition, deleteOptions.namespace ?? '', name, {
        ...write,
        ...(deleteOptions.gracePeriodSeconds === undefined
          ? {}
          : { gracePeriodSeconds: deleteOptions.gracePeriodSeconds }),
      })
      return result.body
    },

    requestToken: (input) => {
      const spec: JsonObject = {}
      if (input.audiences !== undefined) spec.audiences = [...input.audiences]
      if (input.expirationSeconds !== undefined) spec.expirationSeconds = input.expirationSeconds
      if (input.boundObject !== undefined) {
        const ref: JsonObject = {
          kind: input.boundObject.kind,
          apiVersion: 'v1',
          name: input.boundObject.name,
        }
        if (input.boundObject.uid !== undefined) ref.uid = input.boundObject.uid
        spec.boundObjectRef = ref
      }
      const result = createTokenRequest(
        cluster,
        input.namespace,
        input.serviceAccount,
        { spec },
        TEST_API_MANAGER,
      )
      return { token: result.token, expirationTimestamp: result.expirationTimestamp }
    },
    createLegacyTokenSecret: (namespace, secretName, serviceAccount) => {
      // Refuse (404) before creating a Secret for an account that does not exist.
      registry.get(serviceAccounts, namespace, serviceAccount)
      registry.create(
        secrets,
        namespace,
        {
          metadata: {
            name: secretName,
            namespace,
            annotations: { [SERVICE_ACCOUNT_NAME_ANNOTATION]: serviceAccount },
          },
          type: SERVICE_ACCOUNT_TOKEN_TYPE,
        },
        write,
      )
      return fillLegacySecret(namespace, secretName)
    },
    issueLegacyToken: fillLegacySecret,
    signToken: (claims) => {
      if (!isJsonObject(claims)) throw new TypeError('"claims" must be a JSON object')
      return signJwt(claims, signingKey)
    },

    setTokenReviewCache: (enabled) => {
      cluster.authenticator.cacheEnabled = enabled
    },
    clearTokenReviewCache: () => cluster.authenticator.clearCache(),
    compactWatchHistory: () => cluster.store.compact(),
    stop: async () => {
      await server.close()
      await Promise.all(
        temporaryDirectories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })),
      )
    },
  }
  return api
}
