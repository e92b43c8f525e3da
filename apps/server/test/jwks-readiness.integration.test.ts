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
  const kubeconfigPath = await world.serverKubeconfig()
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

  world.grantServer('k8s-attest-server-jwks', [
    { nonResourceURLs: ['/.well-known/openid-configuration', '/openid/v1/jwks'], verbs: ['get'] },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
  ])
  // Pods and service accounts in the agents' namespace only, as deploy/ grants them.
  world.grantServer(
    'k8s-attest-server-jwks',
    [{ apiGroups: [''], resources: ['pods', 'serviceaccounts'], verbs: ['get', 'list', 'watch'] }],
    'spire',
  )
  expect(await server.request('GET', '/ready')).toMatchObject({ status: 200, body: { status: 'ready' } })
  const agent = world.newAgentPod()
  const response = await server.attest('k8s_psat', 'demo', agent.token, (await newAgentKey()).csrPem)
  expect(response.status).toBe(200)
  expect(world.api.counters.requests({ verb: 'create', resource: 'tokenreviews' })).toBe(0)
})
