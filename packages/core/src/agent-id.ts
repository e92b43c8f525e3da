/**
 * The SPIFFE IDs this system mints, in SPIRE's layout so that registration
 * entries written for SPIRE keep matching:
 *
 * - `spiffe://<td>/spire/agent/k8s_psat/<cluster>/<node UID>` — one ID per
 *   node, stable across agent pod restarts (SPIRE's k8s_psat);
 * - `spiffe://<td>/spire/agent/k8s_psat/<cluster>/pod/<pod UID>` — one ID per
 *   agent pod, for clusters configured that way;
 * - `spiffe://<td>/spire/agent/k8s_sat/<cluster>/<UUID v4>` — a fresh ID per
 *   attestation, because a legacy token names no node (SPIRE's k8s_sat);
 * - `spiffe://<td>/spire/server` — the server itself.
 *
 * Cluster names and UIDs go into the path as they are. One that cannot be a
 * path segment is an error, never escaped: an escaped name would mint an ID
 * nobody configured.
 *
 * @see {@link https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md | SPIFFE-ID standard}
 */
import { AttestError } from './errors.ts'
import { quote } from './internal/quote.ts'
import { assertPathSegment, formatSpiffeId, parseTrustDomain } from './spiffe-id.ts'

/** Where a k8s_psat agent's ID comes from: its node's UID (SPIRE's default) or its own pod's UID. */
export type PsatAgentIdSource = 'node_uid' | 'pod_uid'

/** Input of {@link psatAgentId}. */
export interface PsatAgentIdInput {
  /** The server's trust domain, e.g. `"example.org"`. */
  readonly trustDomain: string
  /** The cluster's name in the server configuration. */
  readonly cluster: string
  /** Which UID names the agent; SPIRE uses the node's. */
  readonly source: PsatAgentIdSource
  /** The UID of the node (`source: "node_uid"`) or of the agent's pod (`source: "pod_uid"`). */
  readonly uid: string
}

/** Input of {@link satAgentId}. */
export interface SatAgentIdInput {
  /** The server's trust domain, e.g. `"example.org"`. */
  readonly trustDomain: string
  /** The cluster's name in the server configuration. */
  readonly cluster: string
  /**
   * A fresh random UUID v4 in canonical lowercase form (e.g. from
   * `crypto.randomUUID()`). Core has no randomness source, so the caller
   * brings one.
   */
  readonly uuid: string
}

/** A canonical, lowercase UUID whose version nibble is 4 and variant bits are `10` (RFC 9562 §5.4). */
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/**
 * The SPIFFE ID of a k8s_psat agent.
 *
 * @throws {AttestError} `ATT_ERR_SPIFFE_ID_INVALID` when the trust domain,
 *   cluster name or UID cannot be part of a SPIFFE ID (`details.check` names
 *   the rule).
 * @example
 * ```ts
 * psatAgentId({ trustDomain: 'example.org', cluster: 'demo', source: 'node_uid',
 *   uid: '733588a8-e575-4852-8c05-5e4c7b17313e' })
 * // "spiffe://example.org/spire/agent/k8s_psat/demo/733588a8-e575-4852-8c05-5e4c7b17313e"
 * psatAgentId({ trustDomain: 'example.org', cluster: 'demo', source: 'pod_uid',
 *   uid: '761196fa-56d8-4823-8d5d-af92b2955257' })
 * // "spiffe://example.org/spire/agent/k8s_psat/demo/pod/761196fa-56d8-4823-8d5d-af92b2955257"
 * ```
 */
export function psatAgentId(input: PsatAgentIdInput): string {
  const { trustDomain, cluster, source, uid } = input
  parseTrustDomain(trustDomain)
  assertPathSegment(cluster, 'cluster name')
  if (source === 'node_uid') {
    assertPathSegment(uid, 'node UID')
    return formatSpiffeId(trustDomain, ['spire', 'agent', 'k8s_psat', cluster, uid])
  }
  if (source === 'pod_uid') {
    assertPathSegment(uid, 'pod UID')
    return formatSpiffeId(trustDomain, ['spire', 'agent', 'k8s_psat', cluster, 'pod', uid])
  }
  // Reachable only from untyped callers; a misspelt source must not mint an ID.
  throw new TypeError(`"source" must be "node_uid" or "pod_uid" (found ${quote(String(source))})`)
}

/**
 * The SPIFFE ID of a k8s_sat agent: a new one for every attestation, named by
 * a UUID v4 the caller generates.
 *
 * @throws {AttestError} `ATT_ERR_SPIFFE_ID_INVALID` when the trust domain or
 *   cluster name cannot be part of a SPIFFE ID, or (`details.check:
 *   "uuid_v4"`) when `uuid` is not a canonical lowercase UUID v4.
 * @example
 * ```ts
 * satAgentId({ trustDomain: 'example.org', cluster: 'demo', uuid: crypto.randomUUID() })
 * // "spiffe://example.org/spire/agent/k8s_sat/demo/3b241101-e2bb-4255-8caf-4136c566a962"
 * ```
 */
export function satAgentId(input: SatAgentIdInput): string {
  const { trustDomain, cluster, uuid } = input
  parseTrustDomain(trustDomain)
  assertPathSegment(cluster, 'cluster name')
  if (typeof uuid !== 'string' || !UUID_V4.test(uuid)) {
    throw new AttestError(
      'ATT_ERR_SPIFFE_ID_INVALID',
      `invalid agent UUID ${typeof uuid === 'string' ? quote(uuid) : `(${typeof uuid})`}: a k8s_sat agent ID needs a canonical lowercase UUID v4 (xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx)`,
      {
        check: 'uuid_v4',
        ...(typeof uuid === 'string' ? { value: uuid.slice(0, 64) } : {}),
        expected: 'UUID v4, lowercase',
      },
    )
  }
  return formatSpiffeId(trustDomain, ['spire', 'agent', 'k8s_sat', cluster, uuid])
}

/**
 * What is wrong with `name` as a cluster name, or `undefined`: the name becomes a path segment
 * of every agent SPIFFE ID (`spiffe://<td>/spire/agent/k8s_psat/<cluster>/<node uid>`), so it
 * must be a valid one. The server checks its clusters with it, and the agent the one it names.
 */
export function clusterNameProblem(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..' || !/^[A-Za-z0-9._-]+$/.test(name)) {
    return (
      'is not a usable cluster name: it becomes a SPIFFE ID path segment, so it may contain only ' +
      'letters, digits, ".", "-" and "_" (and is not "." or "..")'
    )
  }
  return undefined
}

/**
 * What every agent ID of one node attestor and cluster starts with:
 * `spiffe://<td>/spire/agent/<attestor>/<cluster>/` (see {@link psatAgentId}, {@link satAgentId}).
 * An agent holds the server to it: the SVID it is given must be an agent's, of its own cluster.
 *
 * @throws {AttestError} `ATT_ERR_SPIFFE_ID_INVALID` for an invalid trust domain or cluster name.
 * @example
 * ```ts
 * agentIdPrefix('example.org', 'k8s_psat', 'demo') // "spiffe://example.org/spire/agent/k8s_psat/demo/"
 * ```
 */
export function agentIdPrefix(
  trustDomain: string,
  attestor: 'k8s_psat' | 'k8s_sat',
  cluster: string,
): string {
  parseTrustDomain(trustDomain)
  assertPathSegment(cluster, 'cluster name')
  return `${formatSpiffeId(trustDomain, ['spire', 'agent', attestor, cluster])}/`
}

/**
 * The SPIFFE ID of the server, `spiffe://<td>/spire/server` (SPIRE's), which
 * its serving certificate carries and agents check.
 *
 * @throws {AttestError} `ATT_ERR_SPIFFE_ID_INVALID` for an invalid trust domain.
 * @example
 * ```ts
 * serverSpiffeId('example.org') // "spiffe://example.org/spire/server"
 * ```
 */
export function serverSpiffeId(trustDomain: string): string {
  return formatSpiffeId(trustDomain, ['spire', 'server'])
}
