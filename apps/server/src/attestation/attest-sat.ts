import { createHash } from 'node:crypto'
import {
  checkServiceAccountAllowed,
  checkServiceAccountUid,
  decodeServiceAccountTokenUnverified,
  formatServiceAccountName,
  interpretTokenReview,
  type ServiceAccountName,
  satAgentId,
  satSelectors,
} from '@k8s-attest/core'
import type { ClusterClient } from '../kubernetes/cluster-client.ts'
import type { AttestedAgent } from './attested-agent.ts'
import { SAT_CLOCK_LEEWAY_SECONDS, type SatKeyVerifier } from './sat-key-verifier.ts'

/** How a k8s_sat cluster's tokens are verified (`use_token_review_api_validation`). */
export type SatTokenVerification =
  /** Ask the API server; no audiences (legacy tokens have none). */
  | { readonly kind: 'token-review'; readonly client: ClusterClient }
  /** Check the signature locally with the cluster's service account keys. */
  | { readonly kind: 'service-account-keys'; readonly verifier: SatKeyVerifier }

/** Input of {@link attestSat}. */
export interface SatAttestationInput {
  readonly trustDomain: string
  /** The cluster the agent named. */
  readonly cluster: string
  readonly serviceAccountAllowList: readonly string[]
  readonly verification: SatTokenVerification
  /** The service account token the agent sent. */
  readonly token: string
  /** A fresh UUID v4 for the agent's ID (`crypto.randomUUID()`). */
  readonly uuid: string
}

/**
 * k8s_sat node attestation, as SPIRE's: the token decodes → it is verified (TokenReview, with
 * the reviewed service account UID compared to the token's claim, or the local keys with
 * issuer and time checks) → the service account is allowed → a new ID
 * `…/k8s_sat/<cluster>/<UUID>`.
 *
 * Unlike SPIRE, a SAT token attests only once: the result carries the token's fingerprint
 * (see {@link tokenFingerprint}) for the caller to claim after its own remaining checks, so that a refused
 * attempt does not spend the token but a replayed one is refused.
 *
 * @throws {AttestError} naming the failed check.
 */
export async function attestSat(input: SatAttestationInput): Promise<AttestedAgent> {
  const { trustDomain, cluster, verification, token } = input
  const claimed = decodeServiceAccountTokenUnverified(token)
  let serviceAccount: ServiceAccountName
  if (verification.kind === 'token-review') {
    // No audiences: SPIRE's k8s_sat asks for the API server's own, which this server does not
    // know, so no audience check can run before the review (checkClaimedAudiences decides
    // nothing for an empty list); a projected token for another audience is refused by the
    // review as not authenticated.
    const status = await verification.client.reviewToken(token, [])
    const reviewed = interpretTokenReview(status, { audiences: [], cluster })
    checkServiceAccountUid(reviewed, claimed, cluster)
    serviceAccount = reviewed
  } else {
    await verification.verifier.verify(token, claimed.header.alg)
    // The signature is now verified, so the decoded claims can be trusted.
    serviceAccount = claimed.serviceAccount
  }
  checkServiceAccountAllowed(
    input.serviceAccountAllowList,
    serviceAccount.namespace,
    serviceAccount.name,
    cluster,
  )

  const expiry = claimed.claims.exp
  return {
    attestor: 'k8s_sat',
    cluster,
    spiffeId: satAgentId({ trustDomain, cluster, uuid: input.uuid }),
    selectors: satSelectors({
      cluster,
      namespace: serviceAccount.namespace,
      serviceAccountName: serviceAccount.name,
    }),
    serviceAccount: formatServiceAccountName(serviceAccount),
    reattestable: false,
    singleUseToken: {
      fingerprint: tokenFingerprint(token),
      // A token is still accepted for a while after `exp` (this server's leeway, the API
      // server's, clock skew between them): its claim must outlive that, or pruning it
      // would let the token attest again.
      ...(typeof expiry === 'number'
        ? { expiresAt: new Date((expiry + SAT_CLOCK_LEEWAY_SECONDS) * 1000) }
        : {}),
    },
  }
}

/**
 * What a SAT token is claimed under: SHA-256 (lowercase hex) of its signed part, `header.payload`,
 * not of the whole token. The signature's spelling is malleable without any key — lenient
 * base64url decoders (Node's, Go's) ignore the unused bits of its last character, and an ECDSA
 * signature `(r, s)` is as valid as `(r, n − s)` — so a fingerprint over the whole token would
 * let one token attest again under another spelling. The signed part has exactly one spelling
 * here because core's decoder, which every token passes first, refuses non-canonical base64url
 * in header and payload (a lenient verifier would otherwise accept a respelled signed part).
 * The token itself is never stored.
 */
export function tokenFingerprint(token: string): string {
  const signedPart = token.slice(0, token.lastIndexOf('.'))
  return createHash('sha256').update(signedPart).digest('hex')
}
