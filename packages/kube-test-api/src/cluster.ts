import { Authorizer } from './authorization.ts'
import { BOOTSTRAP_CLUSTER_ROLE_BINDINGS, BOOTSTRAP_CLUSTER_ROLES, SYSTEM_NAMESPACES } from './bootstrap.ts'
import type { Clock } from './clock.ts'
import { RequestCounters } from './counters.ts'
import { FaultInjector } from './faults.ts'
import { IdentityRegistry } from './identities.ts'
import { Registry } from './registry.ts'
import { RESOURCE_DEFINITIONS } from './resources/catalog.ts'
import { namespaces } from './resources/namespaces.ts'
import { clusterRoleBindings, clusterRoles } from './resources/rbac.ts'
import type { SigningKey } from './signing-key.ts'
import { ObjectStore } from './store.ts'
import { TokenAuthenticator } from './token-authenticator.ts'

/**
 * The state of one test cluster and the services built on it, shared by the
 * HTTPS server and the programmatic API. It holds no sockets: the server
 * owns those.
 */

/** The settings of a cluster (the test API's options, resolved). */
export interface ClusterSettings {
  /** `--service-account-issuer`. */
  readonly issuer: string
  /** `--api-audiences`. */
  readonly apiAudiences: readonly string[]
  readonly signingKey: SigningKey
  readonly clock: Clock
  /** Whether TokenReview successes are remembered for 10 s. */
  readonly tokenReviewCache: boolean
  /** `--service-account-extend-token-expiration`. */
  readonly extendTokenExpiration: boolean
  /** `--service-account-max-token-expiration` in seconds; `undefined` for no cap. */
  readonly maxTokenExpirationSeconds: number | undefined
  /** How many changes watches can resume from. */
  readonly watchHistoryLimit: number
  /** Randomness for fault rates and default watch timeouts. */
  readonly random: () => number
}

/** The manager name kube-apiserver's own writes carry. */
export const API_SERVER_MANAGER = 'kube-apiserver'

/** One cluster's objects, identities and request-handling services. */
export class Cluster {
  readonly settings: ClusterSettings
  readonly store: ObjectStore
  readonly registry: Registry
  readonly identities = new IdentityRegistry()
  readonly authenticator: TokenAuthenticator
  readonly authorizer: Authorizer
  readonly counters = new RequestCounters()
  readonly faults: FaultInjector
  /** Ends each open watch stream cleanly (see `FaultControls.endWatches`). */
  readonly openWatches = new Set<() => void>()
  /** The URL clients reach the server at; set once the server listens. */
  externalUrl = ''

  constructor(settings: ClusterSettings) {
    this.settings = settings
    this.store = new ObjectStore({ historyLimit: settings.watchHistoryLimit })
    this.registry = new Registry(this.store, settings.clock, RESOURCE_DEFINITIONS)
    this.authenticator = new TokenAuthenticator({
      identities: this.identities,
      serviceAccounts: {
        issuers: [settings.issuer],
        apiAudiences: settings.apiAudiences,
        key: settings.signingKey,
        store: this.store,
        clock: settings.clock,
      },
      clock: settings.clock,
      cacheEnabled: settings.tokenReviewCache,
    })
    this.authorizer = new Authorizer(this.store)
    this.faults = new FaultInjector(settings.random)
    this.#bootstrap()
  }

  get clock(): Clock {
    return this.settings.clock
  }

  /** What kube-apiserver creates on a fresh etcd: the system namespaces and the bootstrap RBAC policy. */
  #bootstrap(): void {
    const request = { manager: API_SERVER_MANAGER }
    for (const name of SYSTEM_NAMESPACES) {
      this.registry.create(namespaces, '', { metadata: { name } }, request)
    }
    for (const role of BOOTSTRAP_CLUSTER_ROLES) this.registry.create(clusterRoles, '', role, request)
    for (const binding of BOOTSTRAP_CLUSTER_ROLE_BINDINGS)
      this.registry.create(clusterRoleBindings, '', binding, request)
  }
}
