/**
 * The audience check that runs BEFORE the TokenReview, on the token's own
 * (unverified) `aud` claim.
 *
 * Why it exists: kube-apiserver refuses a token issued for another audience
 * inside the review — `status: { user: {}, error: "[invalid bearer token,
 * token audiences [\"other\"] is invalid for the target audiences
 * [\"spire-server\"]]" }`, no `authenticated` key — so the `status.audiences`
 * cross-check after the review never sees such a token, and the refusal would
 * read "not authenticated". The reason is only in the API server's prose,
 * which is not a contract. The token's claim says the same thing without
 * parsing anything.
 *
 * Why an unverified claim may decide this: the check can only *refuse*. A
 * forged claim naming the right audience gains nothing (the review still
 * checks the signed claim, and `status.audiences` is still cross-checked
 * after it); a forged claim naming a wrong one only gets its own token
 * refused. It also saves a TokenReview for every such token.
 */
import { AttestError } from './errors.ts'
import { quote } from './internal/quote.ts'
import type { DecodedServiceAccountToken } from './service-account-token.ts'

/**
 * Refuses a token none of whose claimed audiences (`aud`) is one of the
 * `requested` audiences, before any TokenReview is spent on it.
 *
 * Nothing is decided when either side is empty: with no requested audiences
 * the API server's own audiences apply (k8s_sat), which this server does not
 * know; a token without `aud` (a legacy token) counts for the API server's
 * audiences, likewise unknown here. The TokenReview decides those.
 *
 * @param token The token, decoded by `decodeServiceAccountTokenUnverified`.
 * @param requested The audiences the TokenReview will ask for (the cluster's `audience`).
 * @param cluster The cluster's name, for the message and details.
 * @throws {AttestError} `ATT_ERR_AUDIENCE_MISMATCH`, `details.check: "token_audiences"`,
 *   `value` the claimed audiences, `expected` the requested ones (comma-separated).
 * @see {@link https://www.rfc-editor.org/rfc/rfc7519#section-4.1.3 | RFC 7519 §4.1.3 ("aud")}
 * @example
 * ```ts
 * const claimed = decodeServiceAccountTokenUnverified(token) // aud: ["other"]
 * checkClaimedAudiences(claimed, ['spire-server'], 'demo')
 * // throws ATT_ERR_AUDIENCE_MISMATCH: the token is for audiences ["other"] …
 * ```
 */
export function checkClaimedAudiences(
  token: Pick<DecodedServiceAccountToken, 'audiences'>,
  requested: readonly string[],
  cluster: string,
): void {
  const claimed = token.audiences
  if (requested.length === 0 || claimed.length === 0) return
  if (requested.some((audience) => claimed.includes(audience))) return
  throw new AttestError(
    'ATT_ERR_AUDIENCE_MISMATCH',
    `the token is for audiences ${JSON.stringify(claimed)} (its "aud" claim), none of the audiences ${JSON.stringify(requested)} of cluster ${quote(cluster)}; ` +
      'request the projected token with one of them (serviceAccountToken.audience)',
    { check: 'token_audiences', cluster, value: claimed.join(','), expected: requested.join(',') },
  )
}
