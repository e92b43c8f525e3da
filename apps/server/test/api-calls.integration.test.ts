import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { MAX_API_SERVER_CONNECTIONS } from '../src/kubernetes/pooled-kube-config.ts'
import { type AgentPod, KubeWorld } from './kube-world.ts'
import { newAgentKey, type RunningServer, startServer } from './server-harness.ts'

/*
 * What an attestation costs the API server, counted by the Kubernetes test API: SPIRE's
 * k8s_psat makes three calls (TokenReview, GET pod, GET node); with the pod and node informer
 * caches, k8s-attest makes one.
 */

let world: KubeWorld
let server: RunningServer
let agents: AgentPod[]

/** Polls `condition` until it holds, failing after `deadlineMs`. */
async function until(what: string, condition: () => boolean, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await delay(10)
  }
}

beforeAll(async () => {
  world = await KubeWorld.start()
  // Pods and nodes that exist before the server starts: its informers list them.
  agents = Array.from({ length: 8 }, () => world.newAgentPod())
  server = await startServer({ clusters: { psat: { demo: { world } } } })
  // An informer opens its watch right after its list has loaded.
  await until('the pod and node informers to list and watch', () => {
    const watching = (resource: string) => world.api.counters.requests({ verb: 'watch', resource }) >= 1
    return watching('pods') && watching('nodes')
  })
})

afterAll(async () => {
  await server?.close()
  await world?.stop()
})

it('costs one API call per k8s_psat attestation, the TokenReview: pods and nodes come from the informers', async () => {
  world.api.counters.reset()
  for (const agent of agents) {
    const response = await server.attest(
      'k8s_psat',
      'demo',
      world.tokenFor(agent),
      (await newAgentKey()).csrPem,
    )
    expect(response.status).toBe(200)
  }
  expect(world.api.counters.requests({ verb: 'create', resource: 'tokenreviews' })).toBe(agents.length)
  expect(world.api.counters.requests({ verb: 'get' })).toBe(0)
  expect(world.api.counters.requests({ verb: 'list' })).toBe(0)
  // The pool's connections serve every call, none opened per attestation: at most the pool's
  // bound (which the informers' watches share), not one per attestation.
  expect(world.api.counters.tlsConnections).toBeLessThan(agents.length)
  expect(world.api.counters.tlsConnections).toBeLessThanOrEqual(MAX_API_SERVER_CONNECTIONS)
})

it('bounds the connections to the API server by the pool, whatever the concurrency', async () => {
  world.api.counters.reset()
  const csrs = await Promise.all(agents.map(() => newAgentKey()))
  const responses = await Promise.all(
    [...agents, ...agents].map((agent, index) =>
      server.attest(
        'k8s_psat',
        'demo',
        world.tokenFor(agent),
        (csrs[index % agents.length] as { csrPem: string }).csrPem,
      ),
    ),
  )
  expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200))
  expect(world.api.counters.requests({ verb: 'create', resource: 'tokenreviews' })).toBe(2 * agents.length)
  expect(world.api.counters.requests({ verb: 'get' })).toBe(0)
  expect(world.api.counters.tlsConnections).toBeLessThanOrEqual(MAX_API_SERVER_CONNECTIONS)
})

it('falls back to GETs for a pod and node the informers have not seen yet, and attests', async () => {
  const late = world.newAgentPod()
  world.api.counters.reset()
  const response = await server.attest('k8s_psat', 'demo', late.token, (await newAgentKey()).csrPem)
  expect(response.status).toBe(200)
  expect(world.api.counters.requests({ verb: 'create', resource: 'tokenreviews' })).toBe(1)
  // Zero when the watch events arrived first, one GET each when the attestation was quicker.
  expect(world.api.counters.requests({ verb: 'get', resource: 'pods' })).toBeLessThanOrEqual(1)
  expect(world.api.counters.requests({ verb: 'get', resource: 'nodes' })).toBeLessThanOrEqual(1)
})
