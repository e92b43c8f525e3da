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
 * The ClusterRole rules that grant `permissions`, one rule per resource (or non-resource URL)
 * with its verbs, as YAML to paste under `rules:` of the server's ClusterRole, e.g.
 *
 * ```yaml
 * - apiGroups: ["authentication.k8s.io"]
 *   resources: ["tokenreviews"]
 *   verbs: ["create"]
 * - apiGroups: [""]
 *   resources: ["pods"]
 *   verbs: ["get", "list", "watch"]
 * ```
 */
export function rbacRuleSnippet(permissions: readonly Permission[]): string {
  const rules = new Map<string, { target: string; verbs: string[] }>()
  for (const permission of permissions) {
    const target =
      'path' in permission
        ? `nonResourceURLs: [${JSON.stringify(permission.path)}]`
        : `apiGroups: [${JSON.stringify(permission.group)}]\n  resources: [${JSON.stringify(permission.resource)}]`
    const rule = rules.get(target) ?? { target, verbs: [] }
    if (!rule.verbs.includes(permission.verb)) rule.verbs.push(permission.verb)
    rules.set(target, rule)
  }
  return [...rules.values()]
    .map(
      ({ target, verbs }) =>
        `- ${target}\n  verbs: [${verbs.map((verb) => JSON.stringify(verb)).join(', ')}]`,
    )
    .join('\n')
}
