import { randomUUID } from 'node:crypto'
import { AttestError, type AttestRequest, type SvidResponse } from '@k8s-attest/core'
import type { NodeAttestorsConfig } from '../config/server-config.ts'
import type { AgentRecord, AgentStore } from '../datastore/agent-store.ts'
import type { ClusterClients } from '../kubernetes/cluster-clients.ts'
import { attestPsat } from './attest-psat.ts'
import { attestSat } from './attest-sat.ts'
import type { AttestedAgent } from './attested-agent.ts'
import { AttestorClusters } from './attestor-clusters.ts'
import { issueSvid, type SvidSigner, svidResponse } from './issue-svid.ts'

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
  readonly agent: Pick<AttestedAgent, 'attestor' | 'cluster' | 'spiffeId' | 'serviceAccount' | 'credentialId'>
  readonly response: SvidResponse
}

/** The agent's current SVID, as presented over mutual TLS (already verified against the CA). */
export interface PeerSvid {
  /** The SPIFFE ID of the SVID's URI SAN. */
  readonly spiffeId: string
  /** Its serial number, lowercase hex without leading zeros (the datastore's form). */
  readonly serialHex: string
}

/**
 * Attestation and renewal, independent of HTTP: the routes hand in the validated request and
 * send back what comes out. Per-cluster state (API clients, imported keys) is assembled once
 * per configuration ({@link AttestorClusters}), not per request, and replaced whole on reload.
 *
 * An attestation runs the attestor's checks, then signs the CSR, then records the agent and
 * (k8s_sat) spends the token in one transaction — the order in which a refusal costs the
 * least: a bad CSR does not burn a SAT token, a banned agent gets nothing stored, and a
 * failed write leaves the token unspent.
 */
export class AttestationService {
  readonly #trustDomain: string
  readonly #now: () => Date
  readonly #signer: SvidSigner
  readonly #store: AgentStore
  readonly #randomUuid: () => string
  #clusters: AttestorClusters

  constructor(options: AttestationServiceOptions) {
    this.#trustDomain = options.trustDomain
    this.#signer = options.signer
    this.#store = options.store
    this.#randomUuid = options.randomUuid ?? randomUUID
    this.#now = options.now ?? (() => new Date())
    this.#clusters = AttestorClusters.build(options)
  }

  /** The clusters attestations use now. */
  get clusters(): AttestorClusters {
    return this.#clusters
  }

  /**
   * Makes `next` the clusters of every attestation that starts from now on (a configuration
   * reload). Attestations already running finish on the clusters they started with; those are
   * closed once the last of them is done.
   *
   * @returns when the replaced clusters are closed.
   */
  replaceClusters(next: AttestorClusters): Promise<void> {
    const previous = this.#clusters
    this.#clusters = next
    return previous.retire()
  }

  /** Closes the current clusters' clients, after attestations running on them have finished. */
  close(): Promise<void> {
    return this.#clusters.retire()
  }

  /**
   * Attests an agent and issues its SVID.
   *
   * @throws {AttestError} for every refusal, naming the check; Kubernetes API failures are
   *   `ATT_ERR_KUBE_API_UNAVAILABLE` / `ATT_ERR_KUBE_API_FAILED`.
   */
  async attest(request: AttestRequest): Promise<AttestationOutcome> {
    const lease = this.#clusters.lease()
    try {
      return await this.#attest(lease.clusters, request)
    } finally {
      lease.release()
    }
  }

  async #attest(clusters: AttestorClusters, request: AttestRequest): Promise<AttestationOutcome> {
    const { type, payload } = request.attestation
    const agent = await this.#runAttestor(clusters, type, payload.cluster, payload.token)
    const issued = await issueSvid(this.#signer, request.csr, agent.spiffeId, agent.cluster)
    const recorded = await this.#store.recordAttestation(
      {
        spiffeId: agent.spiffeId,
        attestor: agent.attestor,
        cluster: agent.cluster,
        selectors: agent.selectors,
        svidSerial: issued.serialHex,
        svidExpiresAt: issued.notAfter,
      },
      {
        allowReattestation: agent.reattestable,
        // Spent in the same transaction as the record: never one without the other.
        ...(agent.singleUseToken === undefined ? {} : { claimSatToken: agent.singleUseToken }),
      },
    )
    if (recorded.outcome === 'token_replayed') {
      const fingerprint = agent.singleUseToken?.fingerprint ?? ''
      throw new AttestError(
        'ATT_ERR_TOKEN_REPLAYED',
        `this service account token of cluster "${agent.cluster}" has already been used to attest; a k8s_sat token attests once ` +
          '(an agent that lost its data_dir attests again once an operator evicts the agent it was)',
        { check: 'single_use_token', cluster: agent.cluster, value: `sha256:${fingerprint}` },
      )
    }
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

  async #runAttestor(
    clusters: AttestorClusters,
    type: string,
    cluster: string,
    token: string,
  ): Promise<AttestedAgent> {
    if (type === 'k8s_psat') {
      const target = this.#clusterOf(clusters.psat, type, cluster)
      return attestPsat({
        trustDomain: this.#trustDomain,
        cluster: target.config,
        client: target.client,
        token,
        ...(target.jwks === undefined ? {} : { jwks: target.jwks, now: this.#now }),
      })
    }
    if (type === 'k8s_sat') {
      const target = this.#clusterOf(clusters.sat, type, cluster)
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
