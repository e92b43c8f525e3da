import { describe, expect, it } from 'vitest'
import { createTestCluster } from '../test/support/test-cluster.ts'
import { createSelfSubjectAccessReview } from './access-review.ts'
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
})
