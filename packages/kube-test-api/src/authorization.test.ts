import { describe, expect, it } from 'vitest'
import { createTestCluster } from '../test/support/test-cluster.ts'
import { forbiddenReason, ruleAllows } from './authorization.ts'
import type { RequestInfo } from './request-info.ts'
import { clusterRoleBindings, clusterRoles } from './resources/rbac.ts'
import { ANONYMOUS_USER } from './user-info.ts'

const getPod: RequestInfo = {
  resourceRequest: true,
  path: '/api/v1/namespaces/spire/pods/p',
  verb: 'get',
  apiGroup: '',
  apiVersion: 'v1',
  resource: 'pods',
  subresource: '',
  namespace: 'spire',
  name: 'p',
}
const serviceAccount = {
  username: 'system:serviceaccount:spire:spire-server',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:spire', 'system:authenticated'],
}

describe('ruleAllows', () => {
  it('matches verbs, groups, resources, subresources, names and non-resource paths', () => {
    expect(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods'] }, getPod)).toBe(true)
    expect(ruleAllows({ verbs: ['get'], resources: ['pods'] }, getPod)).toBe(true)
    expect(ruleAllows({ verbs: ['list'], resources: ['pods'] }, getPod)).toBe(false)
    expect(ruleAllows({ verbs: ['*'], apiGroups: ['apps'], resources: ['pods'] }, getPod)).toBe(false)
    expect(ruleAllows({ verbs: ['get'], resources: ['pods'], resourceNames: ['q'] }, getPod)).toBe(false)
    expect(
      ruleAllows(
        { verbs: ['create'], resources: ['serviceaccounts/token'] },
        { ...getPod, verb: 'create', resource: 'serviceaccounts', subresource: 'token' },
      ),
    ).toBe(true)
    expect(
      ruleAllows(
        { verbs: ['get'], nonResourceURLs: ['/healthz/*'] },
        { resourceRequest: false, path: '/healthz/ping', verb: 'get' },
      ),
    ).toBe(true)
  })
})

describe('Authorizer', () => {
  it('allows system:masters without a reason, and denies others without one', () => {
    const { cluster } = createTestCluster()
    expect(cluster.authorizer.authorize({ username: 'root', groups: ['system:masters'] }, getPod)).toEqual({
      allowed: true,
      reason: '',
    })
    expect(cluster.authorizer.authorize(serviceAccount, getPod)).toEqual({ allowed: false, reason: '' })
  })

  it('allows through ClusterRoleBindings with RBAC reasons, bootstrap bindings included', () => {
    const { cluster } = createTestCluster()
    const write = { manager: 'test' }
    cluster.registry.create(
      clusterRoles,
      '',
      { metadata: { name: 'reader' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }] },
      write,
    )
    cluster.registry.create(
      clusterRoleBindings,
      '',
      {
        metadata: { name: 'read-pods' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'spire-server', namespace: 'spire' }],
      },
      write,
    )
    expect(cluster.authorizer.authorize(serviceAccount, getPod)).toEqual({
      allowed: true,
      reason:
        'RBAC: allowed by ClusterRoleBinding "read-pods" of ClusterRole "reader" to ServiceAccount "spire-server/spire"',
    })
    expect(
      cluster.authorizer.authorize(ANONYMOUS_USER, { resourceRequest: false, path: '/version', verb: 'get' }),
    ).toEqual({
      allowed: true,
      reason:
        'RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:unauthenticated"',
    })
    expect(
      cluster.authorizer.authorize(ANONYMOUS_USER, {
        resourceRequest: false,
        path: '/openid/v1/jwks',
        verb: 'get',
      }).allowed,
    ).toBe(false)
  })

  it('allows a static identity by its own rules', () => {
    const { cluster } = createTestCluster()
    const identity = cluster.identities.add({
      name: 'alice',
      rules: [{ verbs: ['get'], resources: ['pods'] }],
    })
    const user = { username: 'alice', groups: identity.groups }
    expect(cluster.authorizer.authorize(user, getPod, identity)).toEqual({
      allowed: true,
      reason: 'allowed by the rules of test identity "alice"',
    })
    expect(cluster.authorizer.authorize(user, { ...getPod, verb: 'delete' }, identity).allowed).toBe(false)
  })
})

describe('forbiddenReason', () => {
  it('words refusals as kube-apiserver does', () => {
    expect(forbiddenReason(serviceAccount, getPod)).toBe(
      'User "system:serviceaccount:spire:spire-server" cannot get resource "pods" in API group "" in the namespace "spire"',
    )
    expect(
      forbiddenReason(ANONYMOUS_USER, { resourceRequest: false, path: '/openid/v1/jwks', verb: 'get' }),
    ).toBe('User "system:anonymous" cannot get path "/openid/v1/jwks"')
  })
})
