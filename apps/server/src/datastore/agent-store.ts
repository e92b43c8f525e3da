/**
 * The server's record of attested agents and spent SAT tokens, behind one
 * interface with two engines (SQLite and PostgreSQL, see `openAgentStore`).
 *
 * Every method reads and writes the database itself: there is no in-process
 * cache, so any number of server processes sharing one PostgreSQL database
 * serve the same agents, and a write by one is seen by the next read of any.
 */

import type { AttestorType, Selector } from '@k8s-attest/core'

/** Selectors are core's wire type, `{ type: "k8s_psat", value: "agent_ns:spire" }`. */
export type { Selector } from '@k8s-attest/core'

/**
 * The node attestors whose agents are recorded (SPIRE's plugin names), as a
 * run-time list for checking stored rows and caller input. `satisfies` keeps
 * it in step with core's `AttestorType`.
 */
export const ATTESTORS = ['k8s_psat', 'k8s_sat'] as const satisfies readonly AttestorType[]

/** One of {@link ATTESTORS}: core's `AttestorType`, the one definition of the attestor names. */
export type Attestor = AttestorType

/** An attested agent as stored. */
export interface AgentRecord {
  /** The agent's SPIFFE ID, the record's key. */
  readonly spiffeId: string
  readonly attestor: Attestor
  /** The cluster name from the server configuration the agent attested against. */
  readonly cluster: string
  /** Sorted by `type`, then `value`, without duplicates; replaced as a whole on each attestation. */
  readonly selectors: readonly Selector[]
  /** Serial number of the agent's current X.509 SVID, lowercase hex without leading zeros. */
  readonly svidSerial: string
  readonly svidExpiresAt: Date
  /** When the agent first attested; kept across re-attestations, reset by eviction. */
  readonly firstAttestedAt: Date
  /** When the agent last attested (renewals do not count). */
  readonly lastAttestedAt: Date
  /** A banned agent is refused attestation and renewal until it is evicted. */
  readonly banned: boolean
}

/** What a successful attestation establishes about an agent. */
export interface AttestationInput {
  readonly spiffeId: string
  readonly attestor: Attestor
  readonly cluster: string
  /** Duplicates are dropped; order does not matter. */
  readonly selectors: readonly Selector[]
  /** Hex, any case, at most 40 digits (RFC 5280 §4.1.2.2: at most 20 octets). */
  readonly svidSerial: string
  readonly svidExpiresAt: Date
}

/** Options of {@link AgentStore.recordAttestation}. */
export interface RecordAttestationOptions {
  /**
   * Whether an agent that already has a record may attest again. SPIRE's
   * k8s_sat attestor cannot re-attest (a SAT token proves no more the second
   * time), so the caller passes `false` for it and the agent must be evicted
   * first. The existence check and the write are one atomic step.
   * @default true
   */
  readonly allowReattestation?: boolean
}

/** The result of {@link AgentStore.recordAttestation}. */
export type RecordAttestationResult =
  /** The record was created, or updated with a new `lastAttestedAt`, selectors and SVID. */
  | { readonly outcome: 'recorded'; readonly agent: AgentRecord }
  /** The agent is banned; its record is unchanged. */
  | { readonly outcome: 'banned'; readonly agent: AgentRecord }
  /** The agent has a record and `allowReattestation` was `false`; its record is unchanged. */
  | { readonly outcome: 'already_attested'; readonly agent: AgentRecord }

/** A renewed SVID, for {@link AgentStore.updateSvid}. */
export interface SvidUpdate {
  /** Hex, any case, at most 40 digits. */
  readonly serial: string
  readonly expiresAt: Date
  /**
   * The serial of the SVID the agent renewed with. When given, the update
   * happens only if it is still the agent's current serial (compare-and-set),
   * so two servers renewing with the same old SVID at once cannot both win.
   */
  readonly replacesSerial?: string
}

/** The result of {@link AgentStore.updateSvid}. */
export type SvidUpdateResult =
  | { readonly outcome: 'updated'; readonly agent: AgentRecord }
  /** No agent has this SPIFFE ID (never attested, or evicted). */
  | { readonly outcome: 'not_found' }
  /** The agent is banned; its record is unchanged. */
  | { readonly outcome: 'banned'; readonly agent: AgentRecord }
  /** `replacesSerial` is not the agent's current serial; its record is unchanged. */
  | { readonly outcome: 'serial_mismatch'; readonly agent: AgentRecord }

/** Filters and paging of {@link AgentStore.listAgents}; filters combine with AND. */
export interface ListAgentsQuery {
  readonly cluster?: string
  readonly attestor?: Attestor
  /** Agents that have every one of these selectors (and possibly more). */
  readonly selectors?: readonly Selector[]
  readonly banned?: boolean
  /**
   * Agents per page, 1 to {@link MAX_PAGE_SIZE}.
   * @default 50
   */
  readonly pageSize?: number
  /** `nextPageToken` of the previous page, with the same filters; absent for the first page. */
  readonly pageToken?: string
}

/** Default of {@link ListAgentsQuery.pageSize}. */
export const DEFAULT_PAGE_SIZE = 50

/** Largest {@link ListAgentsQuery.pageSize}. */
export const MAX_PAGE_SIZE = 1000

/** One page of agents, ordered by SPIFFE ID. */
export interface AgentPage {
  readonly agents: readonly AgentRecord[]
  /** Present when more agents match: pass it as `pageToken` to get them. Opaque. */
  readonly nextPageToken?: string
}

/** Agents by state, for the "agents by state" metric. Every agent is in exactly one state. */
export interface AgentCounts {
  /** Not banned, SVID not yet expired. */
  readonly active: number
  /** Not banned, SVID expired (the agent stopped renewing). */
  readonly expired: number
  readonly banned: number
}

/** The store of attested agents and spent SAT tokens. */
export interface AgentStore {
  /**
   * Records a successful attestation: creates the agent, or updates its
   * attestor, cluster, selectors, SVID and `lastAttestedAt` while keeping
   * `firstAttestedAt`. A banned agent is refused, and the ban check and the
   * write are one atomic step, so a ban that commits first is never overtaken.
   */
  recordAttestation(
    input: AttestationInput,
    options?: RecordAttestationOptions,
  ): Promise<RecordAttestationResult>

  /** Records a renewed SVID; refuses banned agents and, with `replacesSerial`, stale renewals. */
  updateSvid(spiffeId: string, update: SvidUpdate): Promise<SvidUpdateResult>

  /** The agent with this SPIFFE ID, or `undefined`. */
  getAgent(spiffeId: string): Promise<AgentRecord | undefined>

  /**
   * A page of agents matching every given filter, ordered by SPIFFE ID. Pages
   * are keyset-paginated: an agent created or deleted between two calls never
   * shifts the others, though it may itself be missed or seen.
   * @throws {DatastoreError} `ATT_ERR_DATASTORE_PAGE_TOKEN_INVALID` for a token not issued for these filters.
   */
  listAgents(query?: ListAgentsQuery): Promise<AgentPage>

  /**
   * Deletes the agent's record, ban included; it may attest again. The claim of the SAT token
   * it attested with (see {@link claimSatToken}) goes too, so a k8s_sat agent that lost its
   * data_dir can attest once more with the same token, as a new agent. `false` if there was
   * no record.
   */
  evictAgent(spiffeId: string): Promise<boolean>

  /** Bans the agent until it is evicted. `false` if there is no such agent. */
  banAgent(spiffeId: string): Promise<boolean>

  /** Agents by state, with "expired" judged by the store's clock. */
  countAgents(): Promise<AgentCounts>

  /**
   * Records that the SAT token with this fingerprint has attested. Resolves
   * `true` the first time, `false` for every later claim: of any number of
   * concurrent claims, across processes, exactly one is first.
   *
   * @param fingerprint The token's fingerprint, 64 lowercase hex digits (SHA-256, computed by the caller; the token itself is never stored).
   * @param expiresAt When the token can no longer attest (its `exp` plus clock leeway), if it expires: the claim may be pruned after it.
   * @param spiffeId The agent the token attests; evicting that agent deletes the claim.
   */
  claimSatToken(fingerprint: string, expiresAt?: Date, spiffeId?: string): Promise<boolean>

  /**
   * Deletes claims whose `expiresAt` is at or before the store's clock (the
   * token can no longer attest, so its claim no longer matters).
   * Claims without an expiry are kept. Resolves the number deleted.
   */
  pruneSatTokenClaims(): Promise<number>

  /** Resolves when the database answers a trivial query; for readiness probes. */
  ping(): Promise<void>

  /** Closes the database handle or pool. Idempotent; later calls fail with `ATT_ERR_DATASTORE_CLOSED`. */
  close(): Promise<void>
}
