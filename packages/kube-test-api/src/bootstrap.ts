import type { JsonObject } from './json.ts'
import { RBAC_GROUP } from './resources/rbac.ts'
import {
  AUTHENTICATED_GROUP,
  MASTERS_GROUP,
  SERVICE_ACCOUNTS_GROUP,
  UNAUTHENTICATED_GROUP,
} from './user-info.ts'

/**
 * What kube-apiserver creates when it starts on an empty etcd: the system
 * namespaces, and the part of the bootstrap RBAC policy that decides who may
 * reach what this package serves. In particular anonymous callers may read
 * `/version` and the health checks but not the service account issuer
 * discovery, which only service accounts (and admins) may read.
 */

/** The namespaces every cluster has. */
export const SYSTEM_NAMESPACES: readonly string[] = [
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
]

const BOOTSTRAP_METADATA = {
  labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
  annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
}

function clusterRole(name: string, rules: JsonObject[]): JsonObject {
  return { metadata: { name, ...BOOTSTRAP_METADATA }, rules }
}

function groupBinding(name: string, groups: string[]): JsonObject {
  return {
    metadata: { name, ...BOOTSTRAP_METADATA },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name },
    subjects: groups.map((group) => ({ kind: 'Group', apiGroup: RBAC_GROUP, name: group })),
  }
}

/** The bootstrap ClusterRoles this package relies on. */
export const BOOTSTRAP_CLUSTER_ROLES: readonly JsonObject[] = [
  clusterRole('cluster-admin', [
    { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
    { verbs: ['*'], nonResourceURLs: ['*'] },
  ]),
  clusterRole('system:auth-delegator', [
    { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'] },
    { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'] },
  ]),
  clusterRole('system:basic-user', [
    {
      verbs: ['create'],
      apiGroups: ['authorization.k8s.io'],
      resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
    },
    { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
  ]),
  clusterRole('system:discovery', [
    {
      verbs: ['get'],
      nonResourceURLs: [
        '/api',
        '/api/*',
        '/apis',
        '/apis/*',
        '/healthz',
        '/livez',
        '/openapi',
        '/openapi/*',
        '/readyz',
        '/version',
        '/version/',
      ],
    },
  ]),
  clusterRole('system:public-info-viewer', [
    { verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] },
  ]),
  clusterRole('system:service-account-issuer-discovery', [
    {
      verbs: ['get'],
      nonResourceURLs: [
        '/.well-known/openid-configuration',
        '/.well-known/openid-configuration/',
        '/openid/v1/jwks',
        '/openid/v1/jwks/',
      ],
    },
  ]),
]

/** The bootstrap ClusterRoleBindings that grant them. */
export const BOOTSTRAP_CLUSTER_ROLE_BINDINGS: readonly JsonObject[] = [
  groupBinding('cluster-admin', [MASTERS_GROUP]),
  groupBinding('system:basic-user', [AUTHENTICATED_GROUP]),
  groupBinding('system:discovery', [AUTHENTICATED_GROUP]),
  groupBinding('system:public-info-viewer', [AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP]),
  groupBinding('system:service-account-issuer-discovery', [SERVICE_ACCOUNTS_GROUP]),
]
