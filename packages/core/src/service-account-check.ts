/**
 * The checks the server runs after a successful TokenReview, before it mints
 * an ID: is this service account allowed to attest agents in this cluster,
 * and is it the same service account the token claims to be?
 */
import { AttestError } from './errors.ts'
import { quote } from './internal/quote.ts'
import type { DecodedServiceAccountToken } from './service-account-token.ts'
import type { ReviewedServiceAccount } from './token-review.ts'

/**
 * Refuses a service account that is not on the cluster's allow-list. Entries
 * are `namespace:name`, as in SPIRE's `service_account_allow_list`, and match
 * exactly (no wildcards, no case folding: Kubernetes names are case-sensitive).
 *
 * @param allowList The cluster's allowed service accounts, e.g. `["spire:spire-agent"]`.
 * @param namespace The reviewed namespace (from the TokenReview, never from unverified claims).
 * @param serviceAccountName The reviewed service account name.
 * @param cluster The cluster's name, for the message.
 * @throws {AttestError} `ATT_ERR_SA_NOT_ALLOWED`, `details.check: "service_account_allow_list"`.
 * @example
 * ```ts
 * checkServiceAccountAllowed(['spire:spire-agent'], 'spire', 'spire-agent', 'demo') // passes
 * checkServiceAccountAllowed(['spire:spire-agent'], 'spire', 'default', 'demo')
 * // throws: service account "spire:default" is not allowed for cluster "demo"
 * ```
 */
export function checkServiceAccountAllowed(
  allowList: ReadonlySet<string> | readonly string[],
  namespace: string,
  serviceAccountName: string,
  cluster: string,
): void {
  const qualifiedName = `${namespace}:${serviceAccountName}`
  const allowed = isList(allowList) ? allowList.includes(qualifiedName) : allowList.has(qualifiedName)
  if (!allowed) {
    throw new AttestError(
      'ATT_ERR_SA_NOT_ALLOWED',
      `service account ${quote(qualifiedName)} is not allowed for cluster ${quote(cluster)}`,
      { check: 'service_account_allow_list', cluster, value: qualifiedName },
    )
  }
}

/**
 * Refuses a token whose claimed service account UID differs from the UID the
 * TokenReview confirmed. A legacy token and a projected token both carry the
 * UID; when a token carries none there is nothing to compare, and the check
 * passes.
 *
 * Kubernetes itself refuses a token whose service account was deleted and
 * recreated under the same name ("service account UID (…) does not match
 * claim (…)"); repeating the comparison here keeps an answer for one token
 * from being applied to another.
 *
 * @param reviewed What the TokenReview confirmed.
 * @param token The same token, decoded without verification.
 * @param cluster The cluster's name, for the message.
 * @throws {AttestError} `ATT_ERR_SA_UID_MISMATCH`, `details.check: "service_account_uid"`.
 * @example
 * ```ts
 * checkServiceAccountUid(interpretTokenReview(status, options),
 *   decodeServiceAccountTokenUnverified(token), 'demo')
 * ```
 */
export function checkServiceAccountUid(
  reviewed: Pick<ReviewedServiceAccount, 'namespace' | 'name' | 'uid'>,
  token: Pick<DecodedServiceAccountToken, 'serviceAccount'>,
  cluster: string,
): void {
  const claimedUid = token.serviceAccount.uid
  if (claimedUid !== undefined && claimedUid !== reviewed.uid) {
    throw new AttestError(
      'ATT_ERR_SA_UID_MISMATCH',
      `service account ${quote(`${reviewed.namespace}:${reviewed.name}`)} in cluster ${quote(cluster)} has UID ${quote(reviewed.uid)} according to the TokenReview, but the token claims UID ${quote(claimedUid)}`,
      { check: 'service_account_uid', cluster, value: claimedUid, expected: reviewed.uid },
    )
  }
}

function isList(allowList: ReadonlySet<string> | readonly string[]): allowList is readonly string[] {
  return Array.isArray(allowList)
}
