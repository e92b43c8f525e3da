/**
 * The Kubernetes username of a service account,
 * `system:serviceaccount:<namespace>:<name>`, as a token's `sub` claim and a
 * TokenReview's `status.user.username` carry it.
 *
 * @see {@link https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/ | Kubernetes: managing service accounts}
 */

/** The fixed start of every service account username. */
export const SERVICE_ACCOUNT_USERNAME_PREFIX = 'system:serviceaccount:'

/** A service account named by its namespace and name. */
export interface ServiceAccountName {
  /** The namespace, e.g. `"spire"`. */
  readonly namespace: string
  /** The service account's name, e.g. `"spire-agent"`. */
  readonly name: string
}

/** Why a string is not a service account username. */
export type ServiceAccountUsernameProblem = 'parts' | 'prefix' | 'namespace_empty' | 'name_empty'

/** The result of {@link parseServiceAccountUsername}. */
export type ParsedServiceAccountUsername =
  | ({ readonly ok: true } & ServiceAccountName)
  | { readonly ok: false; readonly problem: ServiceAccountUsernameProblem; readonly reason: string }

/**
 * Splits `system:serviceaccount:<ns>:<name>` strictly, as SPIRE's
 * `GetNamesFromTokenStatus` does: exactly four `:`-separated parts, the first
 * two fixed, the last two non-empty. It reports rather than throws, because the
 * callers raise different codes (a bad `sub` claim is a malformed token; a bad
 * TokenReview username is `ATT_ERR_USERNAME_INVALID`).
 *
 * @example
 * ```ts
 * parseServiceAccountUsername('system:serviceaccount:spire:spire-agent')
 * // { ok: true, namespace: "spire", name: "spire-agent" }
 * parseServiceAccountUsername('system:node:node-a')
 * // { ok: false, problem: "parts", reason: "…" }
 * ```
 */
export function parseServiceAccountUsername(username: string): ParsedServiceAccountUsername {
  const parts = username.split(':')
  if (parts.length !== 4) {
    return {
      ok: false,
      problem: 'parts',
      reason: `expected exactly four ":"-separated parts, system:serviceaccount:<namespace>:<name> (found ${parts.length})`,
    }
  }
  const [system, serviceAccount, namespace = '', name = ''] = parts
  if (`${system}:${serviceAccount}:` !== SERVICE_ACCOUNT_USERNAME_PREFIX) {
    return {
      ok: false,
      problem: 'prefix',
      reason: `expected it to start with "${SERVICE_ACCOUNT_USERNAME_PREFIX}"`,
    }
  }
  if (namespace === '')
    return { ok: false, problem: 'namespace_empty', reason: 'the namespace part is empty' }
  if (name === '')
    return { ok: false, problem: 'name_empty', reason: 'the service account name part is empty' }
  return { ok: true, namespace, name }
}

/**
 * `namespace:name`, the form of SPIRE's `service_account_allow_list` entries
 * and of this system's log fields.
 *
 * @example
 * ```ts
 * formatServiceAccountName({ namespace: 'spire', name: 'spire-agent' }) // "spire:spire-agent"
 * ```
 */
export function formatServiceAccountName(serviceAccount: ServiceAccountName): string {
  return `${serviceAccount.namespace}:${serviceAccount.name}`
}
