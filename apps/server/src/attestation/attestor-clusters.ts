import type { NodeAttestorsConfig, PsatClusterConfig } from '../config/server-config.ts'
import type { ClusterClient } from '../kubernetes/cluster-client.ts'
import { type ClusterClients, closeClusterClients } from '../kubernetes/cluster-clients.ts'
import type { SatTokenVerification } from './attest-sat.ts'
import { PsatJwksVerifier } from './psat-jwks-verifier.ts'
import { SatKeyVerifier } from './sat-key-verifier.ts'

/**
 * A k8s_psat cluster as attestation uses it: its configuration, its API client and, in JWKS
 * mode, its local token verifier (which holds the issuer keys it read).
 */
export interface PsatCluster {
  readonly config: PsatClusterConfig
  readonly client: ClusterClient
  readonly jwks?: PsatJwksVerifier
}

/** A k8s_sat cluster as attestation uses it: its allow-list and how its tokens are verified. */
export interface SatCluster {
  readonly serviceAccountAllowList: readonly string[]
  readonly verification: SatTokenVerification
}

/** Options of {@link AttestorClusters.build}. */
export interface BuildAttestorClustersOptions {
  readonly nodeAttestors: NodeAttestorsConfig
  /** The clients of the clusters in `nodeAttestors`; the new object owns (and closes) them. */
  readonly clusterClients: ClusterClients
  /** The clock for local token checks. Default `() => new Date()`. */
  readonly now?: () => Date
}

/** A hold on one generation of clusters, taken for one attestation; release it when done. */
export interface ClustersLease {
  readonly clusters: AttestorClusters
  release(): void
}

/**
 * One generation of per-cluster state: every configured cluster with its client (and whatever
 * else a cluster owns, such as imported SAT keys), assembled once from one configuration.
 *
 * A configuration reload builds a new generation and swaps it in whole, so an attestation sees
 * either the old clusters or the new ones, never a mix. Each attestation holds a
 * {@link ClustersLease} while it runs; a generation that has been replaced is closed (its
 * clients' connections released) only once its last lease is released, so no in-flight
 * attestation loses its client half-way.
 */
export class AttestorClusters {
  /** k8s_psat clusters by name; `undefined` when k8s_psat is not configured. */
  readonly psat: ReadonlyMap<string, PsatCluster> | undefined
  /** k8s_sat clusters by name; `undefined` when k8s_sat is not configured. */
  readonly sat: ReadonlyMap<string, SatCluster> | undefined
  /** The configuration they were built from. */
  readonly nodeAttestors: NodeAttestorsConfig
  /** The clients this generation owns. */
  readonly clusterClients: ClusterClients
  #leases = 0
  #retired = false
  #closed: Promise<void> | undefined
  #drained: (() => void) | undefined

  private constructor(
    options: BuildAttestorClustersOptions,
    psat: ReadonlyMap<string, PsatCluster> | undefined,
    sat: ReadonlyMap<string, SatCluster> | undefined,
  ) {
    this.nodeAttestors = options.nodeAttestors
    this.clusterClients = options.clusterClients
    this.psat = psat
    this.sat = sat
  }

  /**
   * Assembles the clusters of `nodeAttestors` over their clients.
   *
   * @throws {TypeError} when a cluster that calls its API server has no client (a wiring bug).
   */
  static build(options: BuildAttestorClustersOptions): AttestorClusters {
    const { k8sPsat, k8sSat } = options.nodeAttestors
    let psat: Map<string, PsatCluster> | undefined
    if (k8sPsat !== undefined) {
      psat = new Map()
      for (const config of k8sPsat.clusters.values()) {
        const client = requireClient(options.clusterClients.k8sPsat, 'k8s_psat', config.name)
        const jwks =
          config.tokenVerification === 'jwks'
            ? new PsatJwksVerifier({
                cluster: config.name,
                audiences: config.audience,
                fetchKeys: (callOptions) => client.getIssuerKeys(callOptions),
                ...(options.now === undefined ? {} : { now: options.now }),
              })
            : undefined
        psat.set(config.name, { config, client, ...(jwks === undefined ? {} : { jwks }) })
      }
    }
    let sat: Map<string, SatCluster> | undefined
    if (k8sSat !== undefined) {
      sat = new Map()
      for (const config of k8sSat.clusters.values()) {
        const { validation } = config
        const verification: SatTokenVerification =
          validation.kind === 'token-review'
            ? {
                kind: 'token-review',
                client: requireClient(options.clusterClients.k8sSat, 'k8s_sat', config.name),
              }
            : {
                kind: 'service-account-keys',
                verifier: new SatKeyVerifier({
                  cluster: config.name,
                  keys: validation.keys,
                  issuer: validation.issuer,
                  ...(options.now === undefined ? {} : { now: options.now }),
                }),
              }
        sat.set(config.name, { serviceAccountAllowList: config.serviceAccountAllowList, verification })
      }
    }
    return new AttestorClusters(options, psat, sat)
  }

  /** Takes a lease for one attestation. A retired generation hands out none (its successor does). */
  lease(): ClustersLease {
    if (this.#retired) throw new TypeError('a retired cluster generation was leased')
    this.#leases++
    let released = false
    return {
      clusters: this,
      release: () => {
        if (released) return
        released = true
        this.#leases--
        if (this.#leases === 0) this.#drained?.()
      },
    }
  }

  /** Attestations running on this generation now. */
  get inFlight(): number {
    return this.#leases
  }

  /**
   * Marks this generation replaced and closes its clients once every lease is released.
   * Idempotent; resolves when the clients are closed.
   */
  retire(): Promise<void> {
    this.#retired = true
    this.#closed ??= (async () => {
      if (this.#leases > 0) {
        await new Promise<void>((resolve) => {
          this.#drained = resolve
        })
      }
      await closeClusterClients(this.clusterClients)
    })()
    return this.#closed
  }
}

function requireClient(
  clients: ReadonlyMap<string, ClusterClient>,
  attestor: string,
  cluster: string,
): ClusterClient {
  const client = clients.get(cluster)
  if (client === undefined) throw new TypeError(`no ClusterClient for ${attestor} cluster "${cluster}"`)
  return client
}
