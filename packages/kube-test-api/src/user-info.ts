/**
 * Who a request or a reviewed token is: `user.Info` of k8s.io/apiserver.
 */

/** The authenticated (or anonymous) user. */
export interface UserInfo {
  readonly username: string
  /** For service accounts, the service account's UID. */
  readonly uid?: string
  readonly groups: readonly string[]
  /** `authentication.kubernetes.io/pod-name` and friends, for bound service account tokens. */
  readonly extra?: Readonly<Record<string, readonly string[]>>
}

/** The group every authenticated user is in. */
export const AUTHENTICATED_GROUP = 'system:authenticated'
/** The group of requests without credentials. */
export const UNAUTHENTICATED_GROUP = 'system:unauthenticated'
/** The group of all service accounts. */
export const SERVICE_ACCOUNTS_GROUP = 'system:serviceaccounts'
/** The group whose members kube-apiserver lets do anything. */
export const MASTERS_GROUP = 'system:masters'

/** The user of a request without credentials. */
export const ANONYMOUS_USER: UserInfo = { username: 'system:anonymous', groups: [UNAUTHENTICATED_GROUP] }

/** `system:serviceaccount:<namespace>:<name>`. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`
}

/** The namespace and name of a service account username, or `undefined` for other users. */
export function parseServiceAccountUsername(
  username: string,
): { namespace: string; name: string } | undefined {
  const parts = username.split(':')
  if (parts.length !== 4 || parts[0] !== 'system' || parts[1] !== 'serviceaccount') return undefined
  const [, , namespace, name] = parts as [string, string, string, string]
  return namespace !== '' && name !== '' ? { namespace, name } : undefined
}
