import { describe, expect, it } from 'vitest'
import { createTestCluster } from '../test/support/test-cluster.ts'
import { createSelfSubjectAccessReview } from './access-review.ts'
import type { JsonObject } from './json.ts'
import { namespaces } from './resources/namespaces.ts'
import { roleBindings, roles } from './resources/rbac.ts'
import { ANONYMOUS_USER } from './user-info.ts'

describe('createSelfSubjectAccessReview', () => {
  it('answers resource and non-resource questions from the caller permissions', () => {
    const { cluster } = createTestCluster()
    const user = { username: 'bob', groups: ['system:authenticated'] }
    const resource = createSelfSubjectAccessReview(
      cluster,
      user,
      undefined,
      { spec: { resourceAttributes: { verb: 'get', resource: 'pods', group: '' } } },
      'test',
    )
    expect(resource.spec).toEqual({ resourceAttributes: { verb: 'get', resource: 'pods' } })
    expect(resource.status).toEqual({ allowed: false })
    const nonResource = createSelfSubjectAccessReview(
      cluster,
      ANONYMOUS_USER,
      undefined,
      { spec: { nonResourceAttributes: { path: '/healthz', verb: 'get' } } },
      'test',
    )
    expect(nonResource.status).toMatchObject({ allowed: true })
  })

  it('refuses a spec with neither or both kinds of attributes with 422', () => {
    const { cluster } = createTestCluster()
    expect(() =>
      createSelfSubjectAccessReview(cluster, ANONYMOUS_USER, undefined, { spec: {} }, 'test'),
    ).toThrow(
      'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
    )
  })

  it('answers namespaced questions through the RoleBindings of the namespace asked about', () => {
    const { cluster } = createTestCluster()
    const write = { manager: 'test' }
    cluster.registry.create(namespaces, '', { metadata: { name: 'spire' } }, write)
    cluster.registry.create(
      roles,
      'spire',
      {
        metadata: { name: 'cm-reader' },
        rules: [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'] }],
      },
      write,
    )
    cluster.registry.create(
      roleBindings,
      'spire',
      {
        metadata: { name: 'read-cm' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'spire-server', namespace: 'spire' }],
      },
      write,
    )
    const user = {
      username: 'system:serviceaccount:spire:spire-server',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:spire', 'system:authenticated'],
    }
    const ask = (resourceAttributes: JsonObject) =>
      createSelfSubjectAccessReview(cluster, user, undefined, { spec: { resourceAttributes } }, 'test').status
    expect(ask({ namespace: 'spire', verb: 'get', resource: 'configmaps' })).toEqual({
      allowed: true,
      reason:
        'RBAC: allowed by RoleBinding "read-cm/spire" of Role "cm-reader" to ServiceAccount "spire-server/spire"',
    })
    expect(ask({ namespace: 'other', verb: 'get', resource: 'configmaps' })).toEqual({ allowed: false })
    expect(ask({ verb: 'get', resource: 'configmaps' })).toEqual({ allowed: false })
  })
})
