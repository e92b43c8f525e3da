import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import {
  REQUIRED_PERMISSIONS,
  type ResourcePermission,
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

interface PolicyRule {
  readonly apiGroups?: readonly string[]
  readonly resources?: readonly string[]
  readonly verbs?: readonly string[]
  readonly resourceNames?: readonly string[]
  readonly nonResourceURLs?: readonly string[]
}

function renderedClusterRoleRules(directory: string): readonly PolicyRule[] {
  const rendered = execFileSync('kubectl', ['kustomize', resolve(REPO_ROOT, directory)], { encoding: 'utf8' })
  const roles = parseAllDocuments(rendered)
    .map(
      (document) =>
        document.toJSON() as { kind?: string; metadata?: { name?: string }; rules?: PolicyRule[] },
    )
    .filter((object) => object.kind === 'ClusterRole' && object.metadata?.name === 'k8s-attest-server')
  expect(roles, `ClusterRole k8s-attest-server in ${directory}`).toHaveLength(1)
  return roles[0]?.rules ?? []
}

/** `group/resource verb`, one per permission a rule grants. */
function grantsOf(rules: readonly PolicyRule[]): string[] {
  return rules.flatMap((rule) =>
    (rule.apiGroups ?? []).flatMap((group) =>
      (rule.resources ?? []).flatMap((resource) =>
        (rule.verbs ?? []).map((verb) => `${group}/${resource} ${verb}`),
      ),
    ),
  )
}

function nameOf({ group, resource, verb }: ResourcePermission): string {
  return `${group}/${resource} ${verb}`
}

describe.each(KUSTOMIZATIONS)('the server ClusterRole of %s', (directory) => {
  const rules = renderedClusterRoleRules(directory)

  it("grants exactly the self-check's permissions (every attestor's), no more", () => {
    // Every attestor's list: the ClusterRole serves whichever attestor the ConfigMap configures.
    const required = new Set(
      [...Object.values(REQUIRED_PERMISSIONS).flat(), SELF_CHECK_PERMISSION].map(nameOf),
    )
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
