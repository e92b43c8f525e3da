import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { MAX_API_SERVER_CONNECTIONS } from '../src/kubernetes/pooled-kube-config.ts'
import { type AgentPod, KubeWorld } from './kube-world.ts'
import { newAgentKey, type RunningServer, startServer } from './server-harness.ts'

/*
 * JWKS mode against the Kubernetes test API (which serves service account issuer discovery as
 * kube-apiserver does: the JWKS only as application/jwk-set+json): the issuer keys are read
 * once, the pods, nodes and service accounts come from the informers, and an attestation costs
 * the API server nothing — counted by the test API, not timed.
 */

let world: KubeWorld
let server: RunningServer
let agents: AgentPod[]

/** Polls `condition` until it holds, failing after `deadlineMs`. */
async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  deadlineMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + deadlineMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await delay(10)
  }
}

async function attest(token: string) {
  return server.attest('k8s_psat', 'demo', token, (await newAgentKey()).csrPem)
}

beforeAll(async () => {
  world = await KubeWorld.start()
  agents = Array.from({ length: 8 }, () => world.newAgentPod())
  server = await startServer({
    clusters: { psat: { demo: { world, config: { tokenVerification: 'jwks' } } } },
  })
  await until('the pod, node and service account informers to list and watch', () => {
    const watching = (resource: string) => world.api.counters.requests({ verb: 'watch', resource }) >= 1
    return watching('pods') && watching('nodes') && watching('serviceaccounts')
  })
})

afterAll(async () => {
  await server?.close()
  await world?.stop()
})

it('reads the issuer discovery document and JWKS once, at the first attestation', async () => {
  world.api.counters.reset()
  expect((await attest(world.tokenFor(agents[0] as AgentPod))).status).toBe(200)
  expect(world.api.counters.requests({ verb: 'get', resource: '/.well-known/openid-configuration' })).toBe(1)
  expect(world.api.counters.requests({ verb: 'get', resource: '/openid/v1/jwks' })).toBe(1)
  expect(world.api.counters.requests({ verb: 'create' })).toBe(0)
})

it('costs zero API calls per k8s_psat attestation after that, sequential or concurrent', async () => {
  world.api.counters.reset()
  for (const agent of agents) expect((await attest(world.tokenFor(agent))).status).toBe(200)
  const responses = await Promise.all([...agents, ...agents].map((agent) => attest(world.tokenFor(agent))))
  expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200))
  expect(world.api.counters.requests({ verb: 'create' })).toBe(0)
  expect(world.api.counters.requests({ verb: 'get' })).toBe(0)
  expect(world.api.counters.requests({ verb: 'list' })).toBe(0)
  // No connection opened per attestation: the informers' watches keep theirs.
  expect(world.api.counters.tlsConnections).toBe(0)
})

it('bounds the connections to the API server by the pool, the first key read included', async () => {
  // A fresh server: its informers and key reads open all the connections it will use.
  world.api.counters.reset()
  const fresh = await startServer({
    clusters: { psat: { demo: { world, config: { tokenVerification: 'jwks' } } } },
  })
  try {
    const csrs = await Promise.all(agents.map(() => newAgentKey()))
    const responses = await Promise.all(
      agents.map((agent, index) =>
        fresh.attest('k8s_psat', 'demo', world.tokenFor(agent), (csrs[index] as { csrPem: string }).csrPem),
      ),
    )
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200))
    // Concurrent first attestations share one key read.
    expect(world.api.counters.requests({ verb: 'get', resource: '/openid/v1/jwks' })).toBe(1)
    // The pool's connections, and one per watch (pods, nodes, service accounts), which holds its own.
    const watches = world.api.counters.requests({ verb: 'watch' })
    expect(watches).toBe(3)
    expect(world.api.counters.tlsConnections).toBeLessThanOrEqual(MAX_API_SERVER_CONNECTIONS + watches)
  } finally {
    await fresh.close()
  }
})

it('refuses a token whose pod is gone (from the watched deletion, or the GET a cache miss makes)', async () => {
  const agent = world.newAgentPod()
  expect((await attest(agent.token)).status).toBe(200)
  world.api.deleteObject('pods', agent.podName, { namespace: 'spire', gracePeriodSeconds: 0 })
  const response = await attest(agent.token)
  expect(response.body.code).toBe('ATT_ERR_POD_NOT_FOUND')
})

it('refuses tokens of a service account deleted and recreated under the same name', async () => {
  const agent = agents[1] as AgentPod
  const token = world.tokenFor(agent)
  expect((await attest(token)).status).toBe(200)
  world.api.deleteObject('serviceaccounts', 'spire-agent', { namespace: 'spire' })
  world.api.createServiceAccount('spire', 'spire-agent')
  await until('the server to refuse the old service account UID', async () => {
    const response = await attest(token)
    return response.body.code === 'ATT_ERR_SA_UID_MISMATCH'
  })
})
