import { beforeEach, describe, expect, it } from 'vitest'
import { createTestCluster, refusal } from '../../test/support/test-cluster.ts'
import type { JsonObject } from '../json.ts'
import type { Registry } from '../registry.ts'
import { namespaces } from './namespaces.ts'
import { clusterRoleBindings, clusterRoles, roleBindings, roles } from './rbac.ts'

/** Roles and RoleBindings (and the validation they share with the cluster-wide kinds), as `pkg/apis/rbac/validation` has it. */

const write = { manager: 'test' }
const RBAC = 'rbac.authorization.k8s.io'
let registry: Registry

beforeEach(() => {
  registry = createTestCluster().cluster.registry
  registry.create(namespaces, '', { metadata: { name: 'spire' } }, write)
})

/** The message and causes of a 422, the parts that differ from refusal to refusal. */
function invalidParts(status: JsonObject): { message: unknown; causes: unknown } {
  expect(status).toMatchObject({ reason: 'Invalid', code: 422 })
  return { message: status.message, causes: (status.details as JsonObject).causes }
}

const podReader = { verbs: ['get'], apiGroups: [''], resources: ['pods'] }

function roleBinding(extra: JsonObject = {}): JsonObject {
  return {
    metadata: { name: 'b' },
    roleRef: { apiGroup: RBAC, kind: 'Role', name: 'r' },
    subjects: [{ kind: 'ServiceAccount', name: 'spire-server' }],
    ...extra,
  }
}

describe('roles', () => {
  it('are stored namespaced in the RBAC group, with rules null when there are none', () => {
    const created = registry.create(roles, 'spire', { metadata: { name: 'r' } }, write)
    expect(created).toMatchObject({
      kind: 'Role',
      apiVersion: `${RBAC}/v1`,
      metadata: { name: 'r', namespace: 'spire' },
      rules: null,
    })
    expect(registry.list(roles, 'spire', [])).toMatchObject({ kind: 'RoleList', apiVersion: `${RBAC}/v1` })
  })

  it('are named by path segment: colons are fine, slashes and percent signs are not', () => {
    expect(registry.create(roles, 'spire', { metadata: { name: 'system:reader' } }, write)).toBeDefined()
    expect(
      invalidParts(refusal(() => registry.create(roles, 'spire', { metadata: { name: 'a/b%' } }, write))),
    ).toEqual({
      message: `Role.${RBAC} "a/b%" is invalid: [metadata.name: Invalid value: "a/b%": may not contain '/', metadata.name: Invalid value: "a/b%": may not contain '%']`,
      causes: [
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: "a/b%": may not contain '/'`,
          field: 'metadata.name',
        },
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: "a/b%": may not contain '%'`,
          field: 'metadata.name',
        },
      ],
    })
  })

  it('refuse a rule without verbs', () => {
    const body = { metadata: { name: 'r' }, rules: [{ ...podReader, verbs: [] }] }
    expect(invalidParts(refusal(() => registry.create(roles, 'spire', body, write))).message).toBe(
      `Role.${RBAC} "r" is invalid: rules[0].verbs: Required value: verbs must contain at least one value`,
    )
  })

  it('refuse a rule for non-resource URLs, which a namespace has none of', () => {
    const body = {
      metadata: { name: 'r' },
      rules: [podReader, { verbs: ['get'], nonResourceURLs: ['/healthz', '/livez'] }],
    }
    expect(invalidParts(refusal(() => registry.create(roles, 'spire', body, write)))).toEqual({
      message: `Role.${RBAC} "r" is invalid: rules[1].nonResourceURLs: Invalid value: []string{"/healthz", "/livez"}: namespaced rules cannot apply to non-resource URLs`,
      causes: [
        {
          reason: 'FieldValueInvalid',
          message:
            'Invalid value: []string{"/healthz", "/livez"}: namespaced rules cannot apply to non-resource URLs',
          field: 'rules[1].nonResourceURLs',
        },
      ],
    })
  })

  it('refuse a rule without API groups', () => {
    const body = { metadata: { name: 'r' }, rules: [{ verbs: ['get'], resources: ['pods'] }] }
    expect(invalidParts(refusal(() => registry.create(roles, 'spire', body, write))).causes).toEqual([
      {
        reason: 'FieldValueRequired',
        message: 'Required value: resource rules must supply at least one api group',
        field: 'rules[0].apiGroups',
      },
    ])
  })

  it('refuse a rule without resources', () => {
    const body = { metadata: { name: 'r' }, rules: [{ verbs: ['get'], apiGroups: [''] }] }
    expect(invalidParts(refusal(() => registry.create(roles, 'spire', body, write))).causes).toEqual([
      {
        reason: 'FieldValueRequired',
        message: 'Required value: resource rules must supply at least one resource',
        field: 'rules[0].resources',
      },
    ])
  })
})

describe('cluster roles', () => {
  it('allow non-resource rules, but not mixed with resources', () => {
    const allowed = {
      metadata: { name: 'health' },
      rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }],
    }
    expect(registry.create(clusterRoles, '', allowed, write)).toBeDefined()
    const mixed = { metadata: { name: 'mixed' }, rules: [{ ...podReader, nonResourceURLs: ['/healthz'] }] }
    expect(invalidParts(refusal(() => registry.create(clusterRoles, '', mixed, write))).message).toBe(
      `ClusterRole.${RBAC} "mixed" is invalid: rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: rules cannot apply to both regular resources and non-resource URLs`,
    )
  })
})

describe('role bindings', () => {
  it('default roleRef.apiGroup and the RBAC group of User and Group subjects, and keep ServiceAccounts groupless', () => {
    const created = registry.create(
      roleBindings,
      'spire',
      roleBinding({
        roleRef: { kind: 'ClusterRole', name: 'view' },
        subjects: [
          { kind: 'ServiceAccount', name: 'spire-server' },
          { kind: 'User', name: 'alice' },
          { kind: 'Group', name: 'admins' },
        ],
      }),
      write,
    )
    expect(created).toMatchObject({
      kind: 'RoleBinding',
      apiVersion: `${RBAC}/v1`,
      metadata: { name: 'b', namespace: 'spire' },
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' },
      subjects: [
        { kind: 'ServiceAccount', name: 'spire-server' },
        { kind: 'User', apiGroup: RBAC, name: 'alice' },
        { kind: 'Group', apiGroup: RBAC, name: 'admins' },
      ],
    })
  })

  it('refuse a roleRef kind other than Role or ClusterRole', () => {
    const body = roleBinding({ roleRef: { apiGroup: RBAC, kind: 'Pod', name: 'r' } })
    expect(invalidParts(refusal(() => registry.create(roleBindings, 'spire', body, write)))).toEqual({
      message: `RoleBinding.${RBAC} "b" is invalid: roleRef.kind: Unsupported value: "Pod": supported values: "Role", "ClusterRole"`,
      causes: [
        {
          reason: 'FieldValueNotSupported',
          message: 'Unsupported value: "Pod": supported values: "Role", "ClusterRole"',
          field: 'roleRef.kind',
        },
      ],
    })
  })

  it('refuse a roleRef in another API group', () => {
    const body = roleBinding({ roleRef: { apiGroup: 'example.com', kind: 'Role', name: 'r' } })
    expect(invalidParts(refusal(() => registry.create(roleBindings, 'spire', body, write))).message).toBe(
      `RoleBinding.${RBAC} "b" is invalid: roleRef.apiGroup: Unsupported value: "example.com": supported values: "${RBAC}"`,
    )
  })

  it('refuse a roleRef without a name', () => {
    const body = roleBinding({ roleRef: { kind: 'Role' } })
    expect(invalidParts(refusal(() => registry.create(roleBindings, 'spire', body, write))).message).toBe(
      `RoleBinding.${RBAC} "b" is invalid: roleRef.name: Required value`,
    )
  })

  it('refuse a roleRef name that is not a path segment', () => {
    const body = roleBinding({ roleRef: { kind: 'Role', name: '..' } })
    expect(invalidParts(refusal(() => registry.create(roleBindings, 'spire', body, write))).message).toBe(
      `RoleBinding.${RBAC} "b" is invalid: roleRef.name: Invalid value: "..": may not be '..'`,
    )
  })

  it('refuse a change of roleRef, showing the new one as Go prints the struct', () => {
    const created = registry.create(roleBindings, 'spire', roleBinding(), write)
    const changed = { ...created, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' } }
    expect(invalidParts(refusal(() => registry.update(roleBindings, 'spire', 'b', changed, write)))).toEqual({
      message: `RoleBinding.${RBAC} "b" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"${RBAC}", Kind:"ClusterRole", Name:"view"}: cannot change roleRef`,
      causes: [
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: rbac.RoleRef{APIGroup:"${RBAC}", Kind:"ClusterRole", Name:"view"}: cannot change roleRef`,
          field: 'roleRef',
        },
      ],
    })
    const relabelled = registry.patch(
      roleBindings,
      'spire',
      'b',
      'application/merge-patch+json',
      { metadata: { labels: { a: 'b' } }, subjects: [{ kind: 'User', name: 'bob' }] },
      write,
    )
    expect(relabelled.subjects).toEqual([{ kind: 'User', apiGroup: RBAC, name: 'bob' }])
  })
})

describe('binding subjects (RoleBindings and ClusterRoleBindings alike)', () => {
  it('refuse a subject without a name', () => {
    const body = roleBinding({ subjects: [{ kind: 'User' }] })
    expect(invalidParts(refusal(() => registry.create(roleBindings, 'spire', body, write))).message).toBe(
      `RoleBinding.${RBAC} "b" is invalid: subjects[0].name: Required value`,
    )
  })

  it('refuse a subject of an unknown kind', () => {
    const body = roleBinding({ subjects: [{ kind: 'Robot', name: 'r2' }] })
    expect(invalidParts(refusal(() => registry.create(roleBindings, 'spire', body, write))).message).toBe(
      `RoleBinding.${RBAC} "b" is invalid: subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"`,
    )
  })

  it('refuse a ServiceAccount subject in an API group', () => {
    const body = roleBinding({ subjects: [{ kind: 'ServiceAccount', apiGroup: RBAC, name: 'sa' }] })
    expect(invalidParts(refusal(() => registry.create(roleBindings, 'spire', body, write))).message).toBe(
      `RoleBinding.${RBAC} "b" is invalid: subjects[0].apiGroup: Unsupported value: "${RBAC}": supported values: ""`,
    )
  })

  it('refuse a ServiceAccount subject whose name is not a DNS-1123 subdomain', () => {
    const body = roleBinding({ subjects: [{ kind: 'ServiceAccount', name: 'Spire_Server' }] })
    expect(invalidParts(refusal(() => registry.create(roleBindings, 'spire', body, write))).message).toMatch(
      /^RoleBinding\.rbac\.authorization\.k8s\.io "b" is invalid: subjects\[0\]\.name: Invalid value: "Spire_Server": a lowercase RFC 1123 subdomain/,
    )
  })

  it('refuse a User or Group subject in another API group', () => {
    const body = roleBinding({ subjects: [{ kind: 'Group', apiGroup: 'example.com', name: 'g' }] })
    expect(invalidParts(refusal(() => registry.create(roleBindings, 'spire', body, write))).message).toBe(
      `RoleBinding.${RBAC} "b" is invalid: subjects[0].apiGroup: Unsupported value: "example.com": supported values: "${RBAC}"`,
    )
  })

  it('require a ServiceAccount subject namespace in a ClusterRoleBinding only', () => {
    const body = {
      metadata: { name: 'b' },
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'ServiceAccount', name: 'spire-server' }],
    }
    expect(invalidParts(refusal(() => registry.create(clusterRoleBindings, '', body, write))).message).toBe(
      `ClusterRoleBinding.${RBAC} "b" is invalid: subjects[0].namespace: Required value`,
    )
    expect(registry.create(roleBindings, 'spire', body, write)).toMatchObject({ subjects: body.subjects })
  })

  it('refuse a ClusterRoleBinding naming a Role', () => {
    const body = {
      metadata: { name: 'b' },
      roleRef: { apiGroup: RBAC, kind: 'Role', name: 'r' },
      subjects: [{ kind: 'User', name: 'alice' }],
    }
    expect(invalidParts(refusal(() => registry.create(clusterRoleBindings, '', body, write))).message).toBe(
      `ClusterRoleBinding.${RBAC} "b" is invalid: roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"`,
    )
  })
})

describe('delete', () => {
  it('answers with a success Status naming the group and resource', () => {
    const created = registry.create(roles, 'spire', { metadata: { name: 'r' }, rules: [podReader] }, write)
    expect(registry.delete(roles, 'spire', 'r', write).body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: 'r', group: RBAC, kind: 'roles', uid: (created.metadata as JsonObject).uid },
    })
  })
})
