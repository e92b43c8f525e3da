import { randomUUID } from 'node:crypto'
import { AttestError, type AttestRequest, type SvidResponse } from '@k8s-attest/core'
import type { NodeAttestorsConfig, PsatClusterConfig } from '../config/server-config.ts'
import type { AgentRecord, AgentStore } from '../datastore/agent-store.ts'
import type { ClusterClient } from '../kubernetes/cluster-client.ts'
import type { ClusterClients } from '../kubernetes/cluster-clients.ts'
import { attestPsat } from './attest-psat.ts'
import { attestSat, type SatTokenVerification } from './attest-sat.ts'
import type { AttestedAgent } from './attested-agent.ts'
import { issueSvid, type SvidSigner, svidResponse } from './issue-svid.ts'
import { SatKeyVerifier } from './sat-key-verifier.ts'

/** Options of {@link AttestationService}. */
export interface AttestationServiceOptions {
  readonly trustDomain: string
  readonly nodeAttestors: NodeAttestorsConfig
  readonly clusterClients: ClusterClients
  readonly signer: SvidSigner
  readonly store: AgentStore
  /** Source of k8s_sat agent UUIDs. Default `crypto.randomUUID`. */
  readonly randomUuid?: () => string
  /** The clock for local token checks. Default `() => new Date()`. */
  readonly now?: () => Date
}

/** A successful attestation or renewal: who the agent is, and the answer to send. */
export interface AttestationOutcome {
  readonly agent: Pick<AttestedAgent, 'attestor' | 'cluster' | 'spiffeId' | 'serviceAccount'>
  readonly response: SvidResponse
}

/** The agent's current SVID, as presented over mutual TLS (already verified against the CA). */
export interface PeerSvid {
  /** The SPIFFE ID of the SVID's URI SAN. */
  readonly spiffeId: string
  /** Its serial number, lowercase hex without leading zeros (the datastore's form). */
  readonly serialHex: string
}

interface PsatCluster {
  readonly config: PsatClusterConfig
  readonly client: ClusterClient
}

interface SatCluster {
  readonly serviceAccountAllowList: readonly string[]
  readonly verification: SatTokenVerification
}

/**
 * Attestation and renewal, independent of HTTP: the routes hand in the validated request and
 * send back what comes out. Per-cluster state (API clients, imported keys) is assembled once,
 * here, not per request.
 *
 * An attestation runs the attestor's checks, then signs the CSR, then (k8s_sat) spends the
 * token, then records the agent — the order in which a refusal costs the least: a bad CSR
 * does not burn a SAT token, and a banned agent gets nothing stored.
 */
export class AttestationService {
  readonly #trustDomain: string
  readonly #signer: SvidSigner
  readonly #store: AgentStore
  readonly #randomUuid: () => string
  readonly #psat: ReadonlyMap<string, PsatCluster> | undefined
  readonly #sat: ReadonlyMap<string, SatCluster> | undefined

  constructor(options: AttestationServiceOptions) {
    this.#trustDomain = options.trustDomain
    this.#signer = options.signer
    this.#store = options.store
    this.#randomUuid = options.randomUuid ?? randomUUID
    const { k8sPsat, k8sSat } = options.nodeAttestors
    if (k8sPsat !== undefined) {
      const clusters = new Map<string, PsatCluster>()
      for (const config of k8sPsat.clusters.values()) {
        clusters.set(config.name, {
          config,
          client: requireClient(options.clusterClients.k8sPsat, 'k8s_psat', config.name),
        })
      }
      this.#psat = clusters
    }
    if (k8sSat !== undefined) {
      const clusters = new Map<string, SatCluster>()
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
        clusters.set(config.name, { serviceAccountAllowList: config.serviceAccountAllowList, verification })
      }
      this.#sat = clusters
    }
  }

  /**
   * Attests an agent and issues its SVID.
   *
   * @throws {AttestError} for every refusal, naming the check; Kubernetes API failures are
   *   `ATT_ERR_KUBE_API_UNAVAILABLE` / `ATT_ERR_KUBE_API_FAILED`.
   */
  async attest(request: AttestRequest): Promise<AttestationOutcome> {
    const { type, payload } = request.attestation
    const agent = await this.#runAttestor(type, payload.cluster, payload.token)
    const issued = await issueSvid(this.#signer, request.csr, agent.spiffeId, agent.cluster)
    if (agent.singleUseToken !== undefined) {
      const { fingerprint, expiresAt } = agent.singleUseToken
      if (!(await this.#store.claimSatToken(fingerprint, expiresAt, agent.spiffeId))) {
        throw new AttestError(
          'ATT_ERR_TOKEN_REPLAYED',
          `this service account token of cluster "${agent.cluster}" has already been used to attest; a k8s_sat token attests once ` +
            '(an agent that lost its data_dir attests again once an operator evicts the agent it was)',
          { check: 'single_use_token', cluster: agent.cluster, value: `sha256:${fingerprint}` },
        )
      }
    }
    const recorded = await this.#store.recordAttestation(
      {
        spiffeId: agent.spiffeId,
        attestor: agent.attestor,
        cluster: agent.cluster,
        selectors: agent.selectors,
        svidSerial: issued.serialHex,
        svidExpiresAt: issued.notAfter,
      },
      { allowReattestation: agent.reattestable },
    )
    if (recorded.outcome === 'banned') throw bannedError(agent.spiffeId, agent.cluster)
    if (recorded.outcome === 'already_attested') {
      // A fresh random UUID collided with a recorded agent: astronomically unlikely, never the agent's fault.
      throw new AttestError('ATT_ERR_INTERNAL', `agent ID "${agent.spiffeId}" is already in use`, {
        check: 'agent_id_unique',
        cluster: agent.cluster,
      })
    }
    return { agent, response: svidResponse(agent, issued, this.#signer.bundle()) }
  }

  /**
   * Renews the SVID of a k8s_sat agent that presented its current SVID over mutual TLS.
   *
   * @throws {AttestError} `ATT_ERR_AGENT_NOT_FOUND` (never attested, or evicted),
   *   `ATT_ERR_AGENT_BANNED`, `ATT_ERR_REATTESTATION_REQUIRED` (k8s_psat agents renew by
   *   attesting, as in SPIRE), `ATT_ERR_SVID_NOT_CURRENT` (an older SVID than the recorded
   *   one), `ATT_ERR_CSR_INVALID`.
   */
  async renew(peer: PeerSvid, csr: string): Promise<AttestationOutcome> {
    const record = await this.#store.getAgent(peer.spiffeId)
    if (record === undefined) throw notFoundError(peer.spiffeId)
    if (record.banned) throw bannedError(record.spiffeId, record.cluster)
    if (record.attestor === 'k8s_psat') {
      throw new AttestError(
        'ATT_ERR_REATTESTATION_REQUIRED',
        `agent "${record.spiffeId}" attested with k8s_psat and renews by attesting again with a fresh token`,
        { check: 'reattestable', cluster: record.cluster, value: record.spiffeId },
      )
    }
    if (record.svidSerial !== peer.serialHex) throw notCurrentError(record, peer.serialHex)
    const issued = await issueSvid(this.#signer, csr, record.spiffeId, record.cluster)
    const updated = await this.#store.updateSvid(record.spiffeId, {
      serial: issued.serialHex,
      expiresAt: issued.notAfter,
      replacesSerial: peer.serialHex,
    })
    if (updated.outcome === 'not_found') throw notFoundError(peer.spiffeId)
    if (updated.outcome === 'banned') throw bannedError(record.spiffeId, record.cluster)
    if (updated.outcome === 'serial_mismatch') throw notCurrentError(updated.agent, peer.serialHex)
    const agent = {
      attestor: record.attestor,
      cluster: record.cluster,
      spiffeId: record.spiffeId,
      serviceAccount: serviceAccountOf(record),
      selectors: record.selectors,
      reattestable: false,
    }
    return { agent, response: svidResponse(agent, issued, this.#signer.bundle()) }
  }

  async #runAttestor(type: string, cluster: string, token: string): Promise<AttestedAgent> {
    if (type === 'k8s_psat') {
      const target = this.#clusterOf(this.#psat, type, cluster)
      return attestPsat({
        trustDomain: this.#trustDomain,
        cluster: target.config,
        client: target.client,
        token,
      })
    }
    if (type === 'k8s_sat') {
      const target = this.#clusterOf(this.#sat, type, cluster)
      return attestSat({
        trustDomain: this.#trustDomain,
        cluster,
        serviceAccountAllowList: target.serviceAccountAllowList,
        verification: target.verification,
        token,
        uuid: this.#randomUuid(),
      })
    }
    throw unsupportedError(type)
  }

  #clusterOf<T>(clusters: ReadonlyMap<string, T> | undefined, type: string, cluster: string): T {
    if (clusters === undefined) throw unsupportedError(type)
    const target = clusters.get(cluster)
    if (target === undefined) {
      throw new AttestError('ATT_ERR_UNKNOWN_CLUSTER', `not configured for cluster "${cluster}" (${type})`, {
        check: 'cluster_configured',
        cluster,
        value: cluster,
        expected: [...clusters.keys()].join(','),
      })
    }
    return target
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

function unsupportedError(type: string): AttestError {
  return new AttestError(
    'ATT_ERR_UNSUPPORTED_ATTESTOR',
    `node attestor "${type}" is not configured on this server`,
    {
      check: 'attestor_configured',
      value: type,
    },
  )
}

function bannedError(spiffeId: string, cluster: string): AttestError {
  return new AttestError(
    'ATT_ERR_AGENT_BANNED',
    `agent "${spiffeId}" is banned; evict it to let it attest again`,
    {
      check: 'agent_banned',
      cluster,
      value: spiffeId,
    },
  )
}

function notFoundError(spiffeId: string): AttestError {
  return new AttestError(
    'ATT_ERR_AGENT_NOT_FOUND',
    `no attested agent "${spiffeId}" (never attested, or evicted)`,
    {
      check: 'agent_exists',
      value: spiffeId,
    },
  )
}

function notCurrentError(record: AgentRecord, presented: string): AttestError {
  return new AttestError(
    'ATT_ERR_SVID_NOT_CURRENT',
    `the SVID presented by agent "${record.spiffeId}" (serial ${presented}) is not its current SVID`,
    { check: 'svid_serial', cluster: record.cluster, value: presented },
  )
}

/** The `namespace:name` of a recorded agent, from its `agent_ns`/`agent_sa` selectors. */
function serviceAccountOf(record: AgentRecord): string {
  const value = (kind: string) =>
    record.selectors.find((selector) => selector.value.startsWith(`${kind}:`))?.value.slice(kind.length + 1)
  return `${value('agent_ns') ?? ''}:${value('agent_sa') ?? ''}`
}
