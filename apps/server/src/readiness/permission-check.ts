import type { AttestorType } from '@k8s-attest/core'
import type { ClusterClient, Permission, PermissionCheck } from '../kubernetes/cluster-client.ts'

/** One cluster the server calls, with what it must be allowed to do there. */
export interface PermissionTarget {
  readonly attestor: AttestorType
  readonly cluster: string
  readonly client: ClusterClient
  readonly permissions: readonly Permission[]
}

/** The outcome of checking one {@link PermissionTarget}. */
export type PermissionCheckResult =
  | { readonly outcome: 'granted' }
  /** The API answered; some permissions are missing. */
  | { readonly outcome: 'missing'; readonly missing: readonly PermissionCheck[] }
  /** The API could not be asked (unreachable, credentials refused). */
  | { readonly outcome: 'failed'; readonly error: unknown }

/**
 * Asks SelfSubjectAccessReview, once per permission, whether the server's own identity in the
 * target cluster may do what attestation needs. SPIRE only finds out at the first attestation;
 * checking at startup turns a missing ClusterRole rule into a clear message before any agent
 * is refused.
 */
export async function checkPermissions(target: PermissionTarget): Promise<PermissionCheckResult> {
  let checks: PermissionCheck[]
  try {
    checks = await Promise.all(
      target.permissions.map((permission) => target.client.checkPermission(permission)),
    )
  } catch (error) {
    return { outcome: 'failed', error }
  }
  const missing = checks.filter((check) => !check.allowed)
  return missing.length === 0 ? { outcome: 'granted' } : { outcome: 'missing', missing }
}

/**
 * The RBAC rules that grant `permissions`, one rule per resource (or non-resource URL) with its
 * verbs, as YAML to paste under `rules:`: cluster-wide permissions into the server's
 * ClusterRole, namespaced ones into a Role of that namespace bound to the server. With
 * namespaced ones, each group is headed by a comment saying where it goes, e.g.
 *
 * ```yaml
 * # ClusterRole
 * - apiGroups: ["authentication.k8s.io"]
 *   resources: ["tokenreviews"]
 *   verbs: ["create"]
 * # Role in namespace spire
 * - apiGroups: [""]
 *   resources: ["pods"]
 *   verbs: ["get", "list", "watch"]
 * ```
 */
export function rbacRuleSnippet(permissions: readonly Permission[]): string {
  const groups = new Map<string, Map<string, { target: string; verbs: string[] }>>()
  for (const permission of permissions) {
    const where = 'path' in permission || permission.namespace === undefined ? '' : permission.namespace
    const target =
      'path' in permission
        ? `nonResourceURLs: [${JSON.stringify(permission.path)}]`
        : `apiGroups: [${JSON.stringify(permission.group)}]\n  resources: [${JSON.stringify(permission.resource)}]`
    const rules = groups.get(where) ?? new Map<string, { target: string; verbs: string[] }>()
    const rule = rules.get(target) ?? { target, verbs: [] }
    if (!rule.verbs.includes(permission.verb)) rule.verbs.push(permission.verb)
    rules.set(target, rule)
    groups.set(where, rules)
  }
  const headed = [...groups.keys()].some((where) => where !== '')
  return [...groups]
    .sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : 0))
    .flatMap(([where, rules]) => [
      ...(headed ? [where === '' ? '# ClusterRole' : `# Role in namespace ${where}`] : []),
      ...[...rules.values()].map(
        ({ target, verbs }) =>
          `- ${target}\n  verbs: [${verbs.map((verb) => JSON.stringify(verb)).join(', ')}]`,
      ),
    ])
    .join('\n')
}

/** Where {@link rbacRuleSnippet}'s rules go: the server's ClusterRole, or RBAC of several kinds. */
export function rbacRuleDestination(permissions: readonly Permission[]): string {
  const namespaced = permissions.some(
    (permission) => !('path' in permission) && permission.namespace !== undefined,
  )
  return namespaced
    ? "the server's RBAC (a ClusterRole, and a Role per namespace bound to it)"
    : "the server's ClusterRole"
}
