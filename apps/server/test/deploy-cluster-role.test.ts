import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import {
  type Permission,
  REQUIRED_PERMISSIONS,
  SELF_CHECK_PERMISSION,
} from '../src/kubernetes/cluster-client.ts'

/**
 * The ClusterRole users apply (deploy/, rendered as `kubectl apply -k` renders it) grants exactly
 * what the server's startup self-check asks for — the one list in cluster-client.ts — plus the
 * SelfSubjectAccessReview the check asks with. A permission added to the code without the
 * manifest (or the other way round) fails here, before any cluster sees it.
 */

const REPO_ROOT = resolve(import.meta.dirname, '../../..')
const KUSTOMIZATIONS = ['deploy/base', 'deploy/overlays/kind']
/** The component a JWKS-mode deployment adds (a Component cannot be rendered alone). */
const JWKS_RBAC = 'deploy/components/jwks-verification/server-rbac-jwks.yaml'

interface PolicyRule {
  readonly apiGroups?: readonly string[]
  readonly resources?: readonly string[]
  readonly verbs?: readonly string[]
  readonly resourceNames?: readonly string[]
  readonly nonResourceURLs?: readonly string[]
}

function renderedClusterRoleRules(directory: string): readonly PolicyRule[] {
  const rendered = execFileSync('kubectl', ['kustomize', resolve(REPO_ROOT, directory)], { encoding: 'utf8' })
  return clusterRoleRules(rendered, 'k8s-attest-server', directory)
}

function clusterRoleRules(yaml: string, name: string, where: string): readonly PolicyRule[] {
  const roles = parseAllDocuments(yaml)
    .map(
      (document) =>
        document.toJSON() as { kind?: string; metadata?: { name?: string }; rules?: PolicyRule[] },
    )
    .filter((object) => object.kind === 'ClusterRole' && object.metadata?.name === name)
  expect(roles, `ClusterRole ${name} in ${where}`).toHaveLength(1)
  return roles[0]?.rules ?? []
}

/** `group/resource verb` or `/path verb`, one per permission a rule grants. */
function grantsOf(rules: readonly PolicyRule[]): string[] {
  return rules.flatMap((rule) => [
    ...(rule.apiGroups ?? []).flatMap((group) =>
      (rule.resources ?? []).flatMap((resource) =>
        (rule.verbs ?? []).map((verb) => `${group}/${resource} ${verb}`),
      ),
    ),
    ...(rule.nonResourceURLs ?? []).flatMap((path) => (rule.verbs ?? []).map((verb) => `${path} ${verb}`)),
  ])
}

function nameOf(permission: Permission): string {
  return 'path' in permission
    ? `${permission.path} ${permission.verb}`
    : `${permission.group}/${permission.resource} ${permission.verb}`
}

/** What the base ClusterRole grants: every attestor's permissions in its default mode. */
const BASE_PERMISSIONS = new Set(
  [...REQUIRED_PERMISSIONS.k8s_psat, ...REQUIRED_PERMISSIONS.k8s_sat, SELF_CHECK_PERMISSION].map(nameOf),
)

describe.each(KUSTOMIZATIONS)('the server ClusterRole of %s', (directory) => {
  const rules = renderedClusterRoleRules(directory)

  it("grants exactly the self-check's permissions (every attestor's), no more", () => {
    // Every attestor's list: the ClusterRole serves whichever attestor the ConfigMap configures.
    const required = BASE_PERMISSIONS
    const granted = grantsOf(rules)
    expect([...new Set(granted)].sort()).toEqual([...required].sort())
    expect(granted, 'no permission granted twice').toHaveLength(new Set(granted).size)
  })

  it('names every permission outright: no wildcards, resource names or non-resource URLs', () => {
    for (const rule of rules) {
      expect(rule.resourceNames ?? [], JSON.stringify(rule)).toEqual([])
      expect(rule.nonResourceURLs ?? [], JSON.stringify(rule)).toEqual([])
      expect([...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...(rule.verbs ?? [])]).not.toContain('*')
    }
  })
})

describe('the JWKS-mode ClusterRole of deploy/components/jwks-verification', () => {
  it('grants exactly what JWKS mode needs beyond the base ClusterRole', () => {
    const rules = clusterRoleRules(
      readFileSync(resolve(REPO_ROOT, JWKS_RBAC), 'utf8'),
      'k8s-attest-server-jwks',
      JWKS_RBAC,
    )
    const required = REQUIRED_PERMISSIONS.k8s_psat_jwks
      .map(nameOf)
      .filter((name) => !BASE_PERMISSIONS.has(name))
    const granted = grantsOf(rules)
    expect([...new Set(granted)].sort()).toEqual([...required].sort())
    expect(granted, 'no permission granted twice').toHaveLength(new Set(granted).size)
  })
})
