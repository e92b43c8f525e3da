import { afterAll, beforeAll, expect, it } from 'vitest'
import { expectProblem } from './expect-problem.ts'
import { KubeWorld } from './kube-world.ts'
import { newAgentKey, type RunningServer, startServer } from './server-harness.ts'

let world: KubeWorld
let server: RunningServer

beforeAll(async () => {
  world = await KubeWorld.start()
  server = await startServer({
    clusters: { psat: { demo: { world } } },
    rateLimit: { enabled: true, attestationsPerSecond: 0.5 },
  })
})

afterAll(async () => {
  await server?.close()
  await world?.stop()
})

it('limits attestations per source address: 429 with Retry-After, nothing stored', async () => {
  const { csrPem } = await newAgentKey()
  expect((await server.attest('k8s_psat', 'demo', world.newAgentPod().token, csrPem)).status).toBe(200)
  const before = await server.agentCount()
  const limited = await server.attest('k8s_psat', 'demo', world.newAgentPod().token, csrPem)
  const problem = expectProblem(limited, 429, 'ATT_ERR_RATE_LIMITED')
  expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1)
  expect(problem).toMatchObject({ check: 'rate_limit', value: '127.0.0.1' })
  expect(await server.agentCount()).toBe(before)
  // Other routes are not limited.
  expect((await server.request('GET', '/v1/bundle')).status).toBe(200)
})
