import { afterAll, beforeAll, expect, it } from 'vitest'
import { expectProblem } from './expect-problem.ts'
import { KubeWorld } from './kube-world.ts'
import { newAgentKey, type RunningServer, startServer } from './server-harness.ts'

/*
 * The startup self-check: the server's identity in the cluster is a service account without
 * RBAC; /ready fails and the log says which ClusterRole rules to add, until they are granted.
 */

let world: KubeWorld
let server: RunningServer

beforeAll(async () => {
  world = await KubeWorld.start()
  const kubeconfigPath = await world.serverKubeconfig()
  // Every probe re-checks while not ready, so the test needs no clock: what a probe 5 s later does.
  server = await startServer({
    clusters: { psat: { demo: { world, kubeconfigPath } } },
    intervals: { failingPermissionRecheckMs: 0 },
  })
  await server.app.readiness.whenChecked()
})

afterAll(async () => {
  await server?.close()
  await world?.stop()
})

it('keeps /ready failing with the RBAC rule logged, and recovers once the rules are granted', async () => {
  expect((await server.request('GET', '/live')).status).toBe(200)
  const notReady = await server.request('GET', '/ready')
  expectProblem(notReady, 503, 'ATT_ERR_NOT_READY')
  const hint = server.logLines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((line) => line.check === 'rbac_permissions')
  expect(hint).toMatchObject({
    cluster: 'demo',
    attestor: 'k8s_psat',
    level: 'error',
    missing:
      'create tokenreviews, get pods in namespace spire, list pods in namespace spire, ' +
      'watch pods in namespace spire, get nodes, list nodes, watch nodes',
  })
  expect(hint?.rbac_rule).toBe(
    [
      '# ClusterRole',
      '- apiGroups: ["authentication.k8s.io"]\n  resources: ["tokenreviews"]\n  verbs: ["create"]',
      '- apiGroups: [""]\n  resources: ["nodes"]\n  verbs: ["get", "list", "watch"]',
      '# Role in namespace spire',
      '- apiGroups: [""]\n  resources: ["pods"]\n  verbs: ["get", "list", "watch"]',
    ].join('\n'),
  )

  // Exactly what the hint says, as deploy/base grants it: pods in the agents' namespace only.
  world.grantServer('k8s-attest-server', [
    { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
  ])
  world.grantServer(
    'k8s-attest-server',
    [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
    'spire',
  )
  // No waiting for the minute's re-check: the next probe asks again, and is answered ready.
  const ready = await server.request('GET', '/ready')
  expect(ready).toMatchObject({ status: 200, body: { status: 'ready' } })
  const agent = world.newAgentPod()
  expect((await server.attest('k8s_psat', 'demo', agent.token, (await newAgentKey()).csrPem)).status).toBe(
    200,
  )

  // Revoked: the first attestation the API server refuses makes /ready say so at once.
  world.api.deleteObject('clusterrolebindings.rbac.authorization.k8s.io', 'k8s-attest-server')
  const refused = await server.attest('k8s_psat', 'demo', world.tokenFor(agent), (await newAgentKey()).csrPem)
  expect(expectProblem(refused, 502, 'ATT_ERR_KUBE_API_FAILED').value).toBeUndefined()
  expectProblem(await server.request('GET', '/ready'), 503, 'ATT_ERR_NOT_READY')

  // Each change was logged once, however many probes saw it.
  for (let probe = 0; probe < 3; probe++) await server.request('GET', '/ready')
  const changes = server.logLines
    .map((line) => JSON.parse(line) as { msg: string; check?: string })
    .filter((line) => line.check === 'readiness')
    .map((line) => line.msg.split(':')[0])
  expect(changes).toEqual(['not ready', 'ready', 'not ready'])
})
