import { describe, expect, it } from 'vitest'
import { FakeClusterClient } from '../../test/fake-cluster-client.ts'
import { permissionsFor, REQUIRED_PERMISSIONS } from '../kubernetes/cluster-client.ts'
import { checkPermissions, rbacRuleDestination, rbacRuleSnippet } from './permission-check.ts'

const ALLOW_LIST = ['spire:spire-agent', 'spire:other-agent', 'edge:spire-agent']
const PSAT = permissionsFor(REQUIRED_PERMISSIONS.k8s_psat, ALLOW_LIST)
const JWKS = permissionsFor(REQUIRED_PERMISSIONS.k8s_psat_jwks, ['spire:spire-agent'])

describe('checkPermissions', () => {
  it('reports the missing permissions', async () => {
    const client = new FakeClusterClient()
    client.deniedPermissions.add('get pods in namespace edge')
    const result = await checkPermissions({
      attestor: 'k8s_psat',
      cluster: 'demo',
      client,
      permissions: PSAT,
    })
    expect(result).toEqual({
      outcome: 'missing',
      missing: [
        {
          verb: 'get',
          resource: 'pods',
          group: '',
          namespace: 'edge',
          allowed: false,
          reason: 'RBAC: no rule',
        },
      ],
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

  it('asks for pods in each namespace of the allow-list once, and for nodes cluster-wide', () => {
    expect(PSAT.slice(1)).toEqual([
      { verb: 'get', resource: 'pods', group: '', namespace: 'spire' },
      { verb: 'get', resource: 'pods', group: '', namespace: 'edge' },
      { verb: 'list', resource: 'pods', group: '', namespace: 'spire' },
      { verb: 'list', resource: 'pods', group: '', namespace: 'edge' },
      { verb: 'watch', resource: 'pods', group: '', namespace: 'spire' },
      { verb: 'watch', resource: 'pods', group: '', namespace: 'edge' },
      { verb: 'get', resource: 'nodes', group: '' },
      { verb: 'list', resource: 'nodes', group: '' },
      { verb: 'watch', resource: 'nodes', group: '' },
    ])
  })

  it('writes one rule per resource, its verbs together, ClusterRole rules first, then each Role', () => {
    expect(rbacRuleSnippet(PSAT)).toBe(
      [
        '# ClusterRole',
        '- apiGroups: ["authentication.k8s.io"]\n  resources: ["tokenreviews"]\n  verbs: ["create"]',
        '- apiGroups: [""]\n  resources: ["nodes"]\n  verbs: ["get", "list", "watch"]',
        '# Role in namespace spire',
        '- apiGroups: [""]\n  resources: ["pods"]\n  verbs: ["get", "list", "watch"]',
        '# Role in namespace edge',
        '- apiGroups: [""]\n  resources: ["pods"]\n  verbs: ["get", "list", "watch"]',
      ].join('\n'),
    )
    expect(rbacRuleDestination(PSAT)).toBe(
      "the server's RBAC (a ClusterRole, and a Role per namespace bound to it)",
    )
    expect(rbacRuleDestination(REQUIRED_PERMISSIONS.k8s_sat)).toBe("the server's ClusterRole")
  })

  it('writes non-resource URLs as their own rules (JWKS mode)', () => {
    expect(rbacRuleSnippet(JWKS)).toBe(
      [
        '# ClusterRole',
        '- nonResourceURLs: ["/.well-known/openid-configuration"]\n  verbs: ["get"]',
        '- nonResourceURLs: ["/openid/v1/jwks"]\n  verbs: ["get"]',
        '- apiGroups: [""]\n  resources: ["nodes"]\n  verbs: ["get", "list", "watch"]',
        '# Role in namespace spire',
        '- apiGroups: [""]\n  resources: ["pods"]\n  verbs: ["get", "list", "watch"]',
        '- apiGroups: [""]\n  resources: ["serviceaccounts"]\n  verbs: ["get", "list", "watch"]',
      ].join('\n'),
    )
  })
})
