import type { KeyObject } from 'node:crypto'
import { agentIdPrefix, type SvidResponse } from '@k8s-attest/core'
import type { AgentConfig } from './config.ts'
import { AgentError } from './errors.ts'
import type { RenewalMethod } from './rotation.ts'
import { type HeldSvid, verifySvid } from './svid-verify.ts'
import { type TrustBundle, trustBundleFromCertificates } from './trust-bundle.ts'

/** What the agent holds and knows when an SVID answer comes in. */
export interface SvidAnswerContext {
  readonly config: Pick<AgentConfig, 'trustDomain' | 'nodeAttestor'>
  /** The server's origin, for messages. */
  readonly origin: string
  /** The bundle the server was verified with: the SVID is checked against it when the answer carries none. */
  readonly heldBundle: TrustBundle | undefined
  /** The SVID held: a renewal must keep its ID. */
  readonly heldSvid: HeldSvid | undefined
  /** The agent's clock, in epoch milliseconds. */
  readonly now: number
}

/** An answer the agent may use: the SVID, verified, and the bundle it chains to. */
export interface AcceptedSvid {
  readonly svid: HeldSvid
  readonly bundle: TrustBundle
  readonly method: RenewalMethod
}

/**
 * Checks the server's answer to an attestation or a renewal before the agent uses it: the
 * bundle it sends (or, without one, the bundle held), the SVID against that bundle and the key
 * the agent made for it (see `verifySvid`), and the identity it certifies.
 *
 * @throws {AgentError} `ATT_ERR_TRUST_BUNDLE_INVALID` for an unusable or missing bundle,
 *   `ATT_ERR_SVID_VERIFICATION_FAILED` for an SVID that does not verify or certifies another
 *   identity (see {@link checkAgentIdentity}).
 */
export function acceptSvidAnswer(
  response: SvidResponse,
  privateKey: KeyObject,
  method: RenewalMethod,
  context: SvidAnswerContext,
): AcceptedSvid {
  const bundle =
    response.bundle.length > 0
      ? trustBundleFromCertificates(response.bundle, `the bundle sent by ${context.origin}`)
      : context.heldBundle
  if (bundle === undefined) {
    // Only reachable with insecure_bootstrap, when the server sends no bundle at all.
    throw new AgentError(
      'ATT_ERR_TRUST_BUNDLE_INVALID',
      `${context.origin} sent no trust bundle with the SVID; with insecure_bootstrap the agent needs it to verify the SVID and, later, the server`,
      { check: 'response_bundle', expected: 'at least one CA certificate' },
    )
  }
  const svid = verifySvid({
    chainPem: response.svid,
    privateKey,
    bundle,
    trustDomain: context.config.trustDomain,
    now: context.now,
    expectedSpiffeId: response.spiffe_id,
    // A k8s_sat agent keeps what its single-use token bought, even from a server whose clock runs ahead.
    acceptNotYetValid: context.config.nodeAttestor.type === 'k8s_sat',
  })
  checkAgentIdentity(svid, method, context)
  return { svid, bundle, method }
}

/**
 * The SVID must name an agent of this node attestor and cluster, and a renewal must keep the
 * agent's ID: an authenticated server that erred (or a bug) must not hand this agent another
 * identity — the server's own, say.
 *
 * @throws {AgentError} `ATT_ERR_SVID_VERIFICATION_FAILED` (`svid_agent_id`, `svid_spiffe_id_kept`).
 */
function checkAgentIdentity(svid: HeldSvid, method: RenewalMethod, context: SvidAnswerContext): void {
  const { trustDomain, nodeAttestor } = context.config
  const { type, cluster } = nodeAttestor
  const prefix = agentIdPrefix(trustDomain, type, cluster)
  if (!svid.spiffeId.startsWith(prefix)) {
    throw new AgentError(
      'ATT_ERR_SVID_VERIFICATION_FAILED',
      `the SVID certifies ${JSON.stringify(svid.spiffeId)}, which is not a ${type} agent ID of cluster "${cluster}"`,
      { check: 'svid_agent_id', value: svid.spiffeId, expected: `${prefix}…` },
    )
  }
  const held = context.heldSvid
  if (method === 'renew' && held !== undefined && svid.spiffeId !== held.spiffeId) {
    throw new AgentError(
      'ATT_ERR_SVID_VERIFICATION_FAILED',
      `the renewed SVID certifies ${JSON.stringify(svid.spiffeId)}, but this agent is ${JSON.stringify(held.spiffeId)}`,
      { check: 'svid_spiffe_id_kept', value: svid.spiffeId, expected: held.spiffeId },
    )
  }
}
