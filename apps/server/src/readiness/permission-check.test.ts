import { describe, expect, it } from 'vitest'
import { FakeClusterClient } from '../../test/fake-cluster-client.ts'
import { REQUIRED_PERMISSIONS } from '../kubernetes/cluster-client.ts'
import { checkPermissions, rbacRuleSnippet } from './permission-check.ts'

describe('checkPermissions', () => {
  it('reports the missing permissions', async () => {
    const client = new FakeClusterClient()
    client.deniedPermissions.add('get pods')
    const result = await checkPermissions({
      attestor: 'k8s_psat',
      cluster: 'demo',
      client,
      permissions: REQUIRED_PERMISSIONS.k8s_psat,
    })
    expect(result).toEqual({
      outcome: 'missing',
      missing: [{ verb: 'get', resource: 'pods', group: '', allowed: false, reason: 'RBAC: no rule' }],
    })
  })

  it('reports an API that cannot be asked', async () => {
    const client = new FakeClusterClient()
    const failure = new Error('connect ECONNREFUSED')
    client.failures.set('checkPermission', failure)
    expect(
      await checkPermissions({
        attestor: 'k8s_sat',
        cluster: 'c',
        client,
        permissions: REQUIRED_PERMISSIONS.k8s_sat,
      }),
    ).toEqual({
      outcome: 'failed',
      error: failure,
    })
  })
})

describe('rbacRuleSnippet', () => {
  it('writes ClusterRole rules to paste', () => {
    expect(rbacRuleSnippet(REQUIRED_PERMISSIONS.k8s_sat)).toBe(
      '- apiGroups: ["authentication.k8s.io"]\n  resources: ["tokenreviews"]\n  verbs: ["create"]',
    )
  })

  it('writes one rule per resource, its verbs together', () => {
    expect(rbacRuleSnippet(REQUIRED_PERMISSIONS.k8s_psat)).toBe(
      [
        '- apiGroups: ["authentication.k8s.io"]\n  resources: ["tokenreviews"]\n  verbs: ["create"]',
        '- apiGroups: [""]\n  resources: ["pods"]\n  verbs: ["get", "list", "watch"]',
        '- apiGroups: [""]\n  resources: ["nodes"]\n  verbs: ["get", "list", "watch"]',
      ].join('\n'),
    )
  })

  it('writes non-resource URLs as their own rules (JWKS mode)', () => {
    expect(rbacRuleSnippet(REQUIRED_PERMISSIONS.k8s_psat_jwks)).toBe(
      [
        '- nonResourceURLs: ["/.well-known/openid-configuration"]\n  verbs: ["get"]',
        '- nonResourceURLs: ["/openid/v1/jwks"]\n  verbs: ["get"]',
        '- apiGroups: [""]\n  resources: ["pods"]\n  verbs: ["get", "list", "watch"]',
        '- apiGroups: [""]\n  resources: ["nodes"]\n  verbs: ["get", "list", "watch"]',
        '- apiGroups: [""]\n  resources: ["serviceaccounts"]\n  verbs: ["get", "list", "watch"]',
      ].join('\n'),
    )
  })
})
