import { describe, expect, it } from 'vitest'
import { createTestCluster } from '../test/support/test-cluster.ts'
import { forbiddenReason, ruleAllows } from './authorization.ts'
import type { RequestInfo } from './request-info.ts'
import { namespaces } from './resources/namespaces.ts'
import { clusterRoleBindings, clusterRoles, roleBindings, roles } from './resources/rbac.ts'
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

describe('Authorizer with RoleBindings', () => {
  const write = { manager: 'test' }
  const RBAC = 'rbac.authorization.k8s.io'
  const getConfigMap: RequestInfo = {
    ...getPod,
    path: '/api/v1/namespaces/spire/configmaps/settings',
    resource: 'configmaps',
    name: 'settings',
  }

  function clusterWithNamespaces(): ReturnType<typeof createTestCluster>['cluster'] {
    const { cluster } = createTestCluster()
    for (const name of ['spire', 'other'])
      cluster.registry.create(namespaces, '', { metadata: { name } }, write)
    return cluster
  }

  function bindRole(
    cluster: ReturnType<typeof createTestCluster>['cluster'],
    namespace: string,
    name: string,
    roleRef: { kind: 'Role' | 'ClusterRole'; name: string },
    subject: Record<string, string> = { kind: 'ServiceAccount', name: 'spire-server', namespace: 'spire' },
  ): void {
    cluster.registry.create(
      roleBindings,
      namespace,
      { metadata: { name }, roleRef: { apiGroup: RBAC, ...roleRef }, subjects: [subject] },
      write,
    )
  }

  /** A Role in `namespace`, or a ClusterRole for `''`, of the one `rule`. */
  function createRole(
    cluster: ReturnType<typeof createTestCluster>['cluster'],
    namespace: string,
    name: string,
    rule: Record<string, string[]>,
  ): void {
    const definition = namespace === '' ? clusterRoles : roles
    cluster.registry.create(definition, namespace, { metadata: { name }, rules: [rule] }, write)
  }

  const configMapReader = { verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'] }

  it('allows through a Role of the RoleBinding namespace, with the reason RBAC gives', () => {
    const cluster = clusterWithNamespaces()
    createRole(cluster, 'spire', 'cm-reader', configMapReader)
    bindRole(cluster, 'spire', 'read-cm', { kind: 'Role', name: 'cm-reader' })
    expect(cluster.authorizer.authorize(serviceAccount, getConfigMap)).toEqual({
      allowed: true,
      reason:
        'RBAC: allowed by RoleBinding "read-cm/spire" of Role "cm-reader" to ServiceAccount "spire-server/spire"',
    })
  })

  it('allows through a ClusterRole named by a RoleBinding, in that namespace only', () => {
    const cluster = clusterWithNamespaces()
    createRole(cluster, '', 'cm-reader', configMapReader)
    bindRole(cluster, 'spire', 'read-cm', { kind: 'ClusterRole', name: 'cm-reader' })
    expect(cluster.authorizer.authorize(serviceAccount, getConfigMap)).toEqual({
      allowed: true,
      reason:
        'RBAC: allowed by RoleBinding "read-cm/spire" of ClusterRole "cm-reader" to ServiceAccount "spire-server/spire"',
    })
    expect(cluster.authorizer.authorize(serviceAccount, { ...getConfigMap, namespace: 'other' })).toEqual({
      allowed: false,
      reason: '',
    })
  })

  it('refuses a request in another namespace than the RoleBinding', () => {
    const cluster = clusterWithNamespaces()
    createRole(cluster, 'spire', 'cm-reader', configMapReader)
    bindRole(cluster, 'spire', 'read-cm', { kind: 'Role', name: 'cm-reader' })
    expect(
      cluster.authorizer.authorize(serviceAccount, {
        ...getConfigMap,
        path: '/api/v1/namespaces/other/configmaps/settings',
        namespace: 'other',
      }),
    ).toEqual({ allowed: false, reason: '' })
  })

  it('refuses cluster-scoped requests and lists across namespaces, even for rules that name them', () => {
    const cluster = clusterWithNamespaces()
    cluster.registry.create(
      clusterRoles,
      '',
      {
        metadata: { name: 'broad' },
        rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps', 'nodes'] }],
      },
      write,
    )
    bindRole(cluster, 'spire', 'broad', { kind: 'ClusterRole', name: 'broad' })
    const listAll: RequestInfo = {
      ...getConfigMap,
      path: '/api/v1/configmaps',
      verb: 'list',
      namespace: '',
      name: '',
    }
    expect(cluster.authorizer.authorize(serviceAccount, listAll)).toEqual({ allowed: false, reason: '' })
    const getNode: RequestInfo = {
      ...getPod,
      path: '/api/v1/nodes/n',
      resource: 'nodes',
      namespace: '',
      name: 'n',
    }
    expect(cluster.authorizer.authorize(serviceAccount, getNode)).toEqual({ allowed: false, reason: '' })
    expect(cluster.authorizer.authorize(serviceAccount, { ...listAll, namespace: 'spire' }).allowed).toBe(
      true,
    )
  })

  it('honours resourceNames', () => {
    const cluster = clusterWithNamespaces()
    createRole(cluster, 'spire', 'one-cm', { ...configMapReader, resourceNames: ['settings'] })
    bindRole(cluster, 'spire', 'one-cm', { kind: 'Role', name: 'one-cm' })
    expect(cluster.authorizer.authorize(serviceAccount, getConfigMap).allowed).toBe(true)
    expect(
      cluster.authorizer.authorize(serviceAccount, { ...getConfigMap, name: 'secret-settings' }),
    ).toEqual({
      allowed: false,
      reason: '',
    })
  })

  it('reads a namespace-less ServiceAccount subject as one of the binding namespace', () => {
    const cluster = clusterWithNamespaces()
    createRole(cluster, 'spire', 'cm-reader', configMapReader)
    bindRole(
      cluster,
      'spire',
      'read-cm',
      { kind: 'Role', name: 'cm-reader' },
      { kind: 'ServiceAccount', name: 'spire-server' },
    )
    expect(cluster.authorizer.authorize(serviceAccount, getConfigMap).reason).toBe(
      'RBAC: allowed by RoleBinding "read-cm/spire" of Role "cm-reader" to ServiceAccount "spire-server/spire"',
    )
    bindRole(
      cluster,
      'other',
      'read-cm',
      { kind: 'Role', name: 'cm-reader' },
      { kind: 'ServiceAccount', name: 'spire-server' },
    )
    createRole(cluster, 'other', 'cm-reader', configMapReader)
    // In "other" the subject means system:serviceaccount:other:spire-server, not the caller.
    expect(
      cluster.authorizer.authorize(serviceAccount, { ...getConfigMap, namespace: 'other' }).allowed,
    ).toBe(false)
  })

  it('allows Group subjects of a RoleBinding', () => {
    const cluster = clusterWithNamespaces()
    createRole(cluster, 'spire', 'cm-reader', configMapReader)
    bindRole(
      cluster,
      'spire',
      'accounts',
      { kind: 'Role', name: 'cm-reader' },
      { kind: 'Group', name: 'system:serviceaccounts:spire' },
    )
    expect(cluster.authorizer.authorize(serviceAccount, getConfigMap).reason).toBe(
      'RBAC: allowed by RoleBinding "accounts/spire" of Role "cm-reader" to Group "system:serviceaccounts:spire"',
    )
  })

  it('looks a Role up in the binding namespace only, and reports the missing one when it refuses', () => {
    const cluster = clusterWithNamespaces()
    createRole(cluster, 'other', 'cm-reader', configMapReader)
    bindRole(cluster, 'spire', 'read-cm', { kind: 'Role', name: 'cm-reader' })
    expect(cluster.authorizer.authorize(serviceAccount, getConfigMap)).toEqual({
      allowed: false,
      reason: 'RBAC: role.rbac.authorization.k8s.io "cm-reader" not found',
    })
  })

  it('aggregates the missing roles of every matching binding, ClusterRoleBindings first', () => {
    const cluster = clusterWithNamespaces()
    cluster.registry.create(
      clusterRoleBindings,
      '',
      {
        metadata: { name: 'dangling' },
        roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'gone' },
        subjects: [{ kind: 'ServiceAccount', name: 'spire-server', namespace: 'spire' }],
      },
      write,
    )
    bindRole(cluster, 'spire', 'also-dangling', { kind: 'ClusterRole', name: 'gone' })
    bindRole(cluster, 'spire', 'dangling', { kind: 'Role', name: 'gone' })
    expect(cluster.authorizer.authorize(serviceAccount, getConfigMap)).toEqual({
      allowed: false,
      reason:
        'RBAC: [clusterrole.rbac.authorization.k8s.io "gone" not found, role.rbac.authorization.k8s.io "gone" not found]',
    })
    expect(forbiddenReason(serviceAccount, getConfigMap, 'RBAC: x')).toBe(
      'User "system:serviceaccount:spire:spire-server" cannot get resource "configmaps" in API group "" in the namespace "spire": RBAC: x',
    )
  })

  it('names the ClusterRoleBinding when both kinds of binding grant the request', () => {
    const cluster = clusterWithNamespaces()
    createRole(cluster, '', 'cm-reader', configMapReader)
    bindRole(cluster, 'spire', 'read-cm', { kind: 'ClusterRole', name: 'cm-reader' })
    cluster.registry.create(
      clusterRoleBindings,
      '',
      {
        metadata: { name: 'read-cm-everywhere' },
        roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'cm-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'spire-server', namespace: 'spire' }],
      },
      write,
    )
    expect(cluster.authorizer.authorize(serviceAccount, getConfigMap).reason).toBe(
      'RBAC: allowed by ClusterRoleBinding "read-cm-everywhere" of ClusterRole "cm-reader" to ServiceAccount "spire-server/spire"',
    )
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
