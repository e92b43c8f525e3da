import { afterAll, beforeAll, expect, it } from 'vitest'
import { expectProblem } from './expect-problem.ts'
import { KubeWorld } from './kube-world.ts'
import { newAgentKey, type RunningServer, startServer } from './server-harness.ts'

/*
 * The startup self-check of a k8s_psat cluster in JWKS mode, against the test API's RBAC and
 * SelfSubjectAccessReview (non-resource URLs included): it asks for the discovery URLs and the
 * service accounts, never for TokenReview, and is satisfied by the rules of
 * deploy/components/jwks-verification plus the base role's pods and nodes.
 */

let world: KubeWorld
let server: RunningServer

beforeAll(async () => {
  world = await KubeWorld.start()
  world.api.createServiceAccount('spire', 'spire-server')
  const { token } = world.api.requestToken({
    namespace: 'spire',
    serviceAccount: 'spire-server',
    expirationSeconds: 3600,
  })
  const kubeconfigPath = await world.api.writeKubeconfig({
    identity: { name: 'system:serviceaccount:spire:spire-server', token },
  })
  server = await startServer({
    clusters: { psat: { demo: { world, kubeconfigPath, config: { tokenVerification: 'jwks' } } } },
    intervals: { failingPermissionRecheckMs: 0 },
  })
  await server.app.readiness.whenChecked()
})

afterAll(async () => {
  await server?.close()
  await world?.stop()
})

it('asks for exactly the permissions of JWKS mode, and is ready once they are granted', async () => {
  expectProblem(await server.request('GET', '/ready'), 503, 'ATT_ERR_NOT_READY')
  const hint = server.logLines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((line) => line.check === 'rbac_permissions')
  // The discovery URLs are granted to every service account by Kubernetes' default
  // system:service-account-issuer-discovery binding; TokenReview is not asked for at all.
  expect(hint).toMatchObject({
    cluster: 'demo',
    attestor: 'k8s_psat',
    missing:
      'get pods in namespace spire, list pods in namespace spire, watch pods in namespace spire, ' +
      'get nodes, list nodes, watch nodes, get serviceaccounts in namespace spire, ' +
      'list serviceaccounts in namespace spire, watch serviceaccounts in namespace spire',
  })

  world.api.createObject('clusterroles.rbac.authorization.k8s.io', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'k8s-attest-server-jwks' },
    rules: [
      { nonResourceURLs: ['/.well-known/openid-configuration', '/openid/v1/jwks'], verbs: ['get'] },
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
    ],
  })
  // Pods and service accounts in the agents' namespace only, as deploy/ grants them.
  world.api.createObject(
    'roles.rbac.authorization.k8s.io',
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'k8s-attest-server-jwks' },
      rules: [{ apiGroups: [''], resources: ['pods', 'serviceaccounts'], verbs: ['get', 'list', 'watch'] }],
    },
    'spire',
  )
  world.api.createObject(
    'rolebindings.rbac.authorization.k8s.io',
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'k8s-attest-server-jwks' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'k8s-attest-server-jwks' },
      subjects: [{ kind: 'ServiceAccount', name: 'spire-server', namespace: 'spire' }],
    },
    'spire',
  )
  world.api.createObject('clusterrolebindings.rbac.authorization.k8s.io', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'k8s-attest-server-jwks' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'k8s-attest-server-jwks' },
    subjects: [{ kind: 'ServiceAccount', name: 'spire-server', namespace: 'spire' }],
  })
  expect(await server.request('GET', '/ready')).toMatchObject({ status: 200, body: { status: 'ready' } })
  const agent = world.newAgentPod()
  const response = await server.attest('k8s_psat', 'demo', agent.token, (await newAgentKey()).csrPem)
  expect(response.status).toBe(200)
  expect(world.api.counters.requests({ verb: 'create', resource: 'tokenreviews' })).toBe(0)
})
