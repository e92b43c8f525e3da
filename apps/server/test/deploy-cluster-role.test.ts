import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import {
  type Permission,
  permissionsFor,
  REQUIRED_PERMISSIONS,
  SELF_CHECK_PERMISSION,
} from '../src/kubernetes/cluster-client.ts'

/**
 * The RBAC users apply (deploy/, rendered as `kubectl apply -k` renders it) grants exactly what
 * the server's startup self-check asks for — the one list in cluster-client.ts, for the
 * allow-list of deploy/base/server.conf — plus the SelfSubjectAccessReview the check asks with:
 * cluster-wide permissions in the ClusterRole, the ones needed in the agents' namespace (pods,
 * and service accounts in JWKS mode) in a Role there, each bound to the server's service
 * account. A permission added to the code without the manifest (or the other way round) fails
 * here, before any cluster sees it.
 */

const REPO_ROOT = resolve(import.meta.dirname, '../../..')
const KUSTOMIZATIONS = ['deploy/base', 'deploy/overlays/kind']
/** The component a JWKS-mode deployment adds (a Component cannot be rendered alone). */
const JWKS_RBAC = 'deploy/components/jwks-verification/server-rbac-jwks.yaml'
const SERVER = { kind: 'ServiceAccount', name: 'spire-server', namespace: 'spire' }

interface PolicyRule {
  readonly apiGroups?: readonly string[]
  readonly resources?: readonly string[]
  readonly verbs?: readonly string[]
  readonly resourceNames?: readonly string[]
  readonly nonResourceURLs?: readonly string[]
}

interface RbacObject {
  readonly kind?: string
  readonly metadata?: { readonly name?: string; readonly namespace?: string }
  readonly rules?: PolicyRule[]
  readonly roleRef?: { readonly kind: string; readonly name: string }
  readonly subjects?: readonly unknown[]
}

/** The allow-list of the base's server.conf: the namespaces the Role must cover. */
const ALLOW_LIST = (() => {
  const conf = readFileSync(resolve(REPO_ROOT, 'deploy/base/server.conf'), 'utf8')
  const list = /service_account_allow_list\s*=\s*\[([^\]]*)\]/.exec(conf)?.[1] ?? ''
  return [...list.matchAll(/"([^"]+)"/g)].map((match) => match[1] as string)
})()

function objectsOf(yaml: string): RbacObject[] {
  return parseAllDocuments(yaml).map((document) => document.toJSON() as RbacObject)
}

function rendered(directory: string): RbacObject[] {
  return objectsOf(
    execFileSync('kubectl', ['kustomize', resolve(REPO_ROOT, directory)], { encoding: 'utf8' }),
  )
}

function find(objects: readonly RbacObject[], kind: string, name: string, where: string): RbacObject {
  const found = objects.filter((object) => object.kind === kind && object.metadata?.name === name)
  expect(found, `${kind} ${name} in ${where}`).toHaveLength(1)
  return found[0] as RbacObject
}

/** The rules of `kind` `name`, after checking a binding of the same name grants it to the server. */
function boundRules(
  objects: readonly RbacObject[],
  kind: 'ClusterRole' | 'Role',
  name: string,
  where: string,
) {
  const binding = find(objects, `${kind}Binding`, name, where)
  expect(binding.roleRef, `${kind}Binding ${name}`).toMatchObject({ kind, name })
  expect(binding.subjects, `${kind}Binding ${name}`).toEqual([SERVER])
  return find(objects, kind, name, where).rules ?? []
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

/** The names of `permissions` needed cluster-wide (`namespace` undefined) or in `namespace`. */
function namesIn(permissions: readonly Permission[], namespace: string | undefined): Set<string> {
  return new Set(
    permissions
      .filter((permission) => ('path' in permission ? undefined : permission.namespace) === namespace)
      .map(nameOf),
  )
}

function expectExactly(rules: readonly PolicyRule[], required: Set<string>): void {
  const granted = grantsOf(rules)
  expect([...new Set(granted)].sort()).toEqual([...required].sort())
  expect(granted, 'no permission granted twice').toHaveLength(new Set(granted).size)
}

/** What the base grants: every attestor's permissions in its default mode. */
const BASE_PERMISSIONS = [
  ...permissionsFor(REQUIRED_PERMISSIONS.k8s_psat, ALLOW_LIST),
  ...REQUIRED_PERMISSIONS.k8s_sat,
  SELF_CHECK_PERMISSION,
]

it("reads the agents' namespace from the base's allow-list", () => {
  expect(ALLOW_LIST).toEqual(['spire:spire-agent'])
})

describe.each(KUSTOMIZATIONS)('the server RBAC of %s', (directory) => {
  const objects = rendered(directory)

  it("grants cluster-wide exactly the self-check's cluster-wide permissions (every attestor's)", () => {
    // Every attestor's list: the ClusterRole serves whichever attestor the ConfigMap configures.
    expectExactly(
      boundRules(objects, 'ClusterRole', 'k8s-attest-server', directory),
      namesIn(BASE_PERMISSIONS, undefined),
    )
  })

  it("grants in the agents' namespace, and only there, exactly what the self-check asks there", () => {
    const role = find(objects, 'Role', 'k8s-attest-server', directory)
    expect(role.metadata?.namespace).toBe('spire')
    expectExactly(
      boundRules(objects, 'Role', 'k8s-attest-server', directory),
      namesIn(BASE_PERMISSIONS, 'spire'),
    )
  })

  it('names every permission outright: no wildcards, resource names or non-resource URLs', () => {
    const rules = [
      ...boundRules(objects, 'ClusterRole', 'k8s-attest-server', directory),
      ...boundRules(objects, 'Role', 'k8s-attest-server', directory),
    ]
    for (const rule of rules) {
      expect(rule.resourceNames ?? [], JSON.stringify(rule)).toEqual([])
      expect(rule.nonResourceURLs ?? [], JSON.stringify(rule)).toEqual([])
      expect([...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...(rule.verbs ?? [])]).not.toContain('*')
    }
  })
})

describe('the JWKS-mode RBAC of deploy/components/jwks-verification', () => {
  const objects = objectsOf(readFileSync(resolve(REPO_ROOT, JWKS_RBAC), 'utf8'))
  const jwks = permissionsFor(REQUIRED_PERMISSIONS.k8s_psat_jwks, ALLOW_LIST)
  const beyondBase = (namespace: string | undefined) => {
    const base = namesIn(BASE_PERMISSIONS, namespace)
    return new Set([...namesIn(jwks, namespace)].filter((name) => !base.has(name)))
  }

  it('grants cluster-wide exactly what JWKS mode needs beyond the base', () => {
    expectExactly(
      boundRules(objects, 'ClusterRole', 'k8s-attest-server-jwks', JWKS_RBAC),
      beyondBase(undefined),
    )
  })

  it("grants in the agents' namespace exactly what JWKS mode needs there beyond the base", () => {
    // An overlay's namespace does not reach a component's objects: they must name it themselves.
    expect(find(objects, 'Role', 'k8s-attest-server-jwks', JWKS_RBAC).metadata?.namespace).toBe('spire')
    expect(find(objects, 'RoleBinding', 'k8s-attest-server-jwks', JWKS_RBAC).metadata?.namespace).toBe(
      'spire',
    )
    expectExactly(boundRules(objects, 'Role', 'k8s-attest-server-jwks', JWKS_RBAC), beyondBase('spire'))
  })
})
