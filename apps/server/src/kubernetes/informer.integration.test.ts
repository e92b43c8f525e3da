import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest'
import { KubeWorld } from '../../test/kube-world.ts'
import type { ClusterCaches } from './cached-cluster-client.ts'
import { withCallDeadline } from './call-deadline.ts'
import { KubeClusterClient } from './kube-cluster-client.ts'

/*
 * The informers behind the caches (`informer.ts`), against the test API: what they do when a
 * watch breaks and cannot be reopened at once, when a relist fails, and that their watches
 * leave the request pool to the attestations.
 */

let world: KubeWorld
let client: KubeClusterClient
let caches: ClusterCaches | undefined
const errors: string[] = []

/** The informers restart after 1 s, then 2, 4…: long enough for a test to wait. */
const RECOVERY = { timeout: 15_000, interval: 50 }

beforeAll(async () => {
  world = await KubeWorld.start()
  client = KubeClusterClient.fromKubeconfig({ cluster: 'demo', kubeconfigFile: world.kubeconfigPath })
})

afterEach(async () => {
  await caches?.close()
  caches = undefined
  errors.length = 0
  await world.api.faults.clear()
})

afterAll(async () => {
  await client?.close()
  await world?.stop()
})

/** Caches of the `spire:spire-agent` pods and the nodes, once both watches are open. */
async function watchingCaches(options: { resyncMs?: number } = {}): Promise<ClusterCaches> {
  world.api.counters.reset()
  caches = client.startCaches({
    serviceAccounts: ['spire:spire-agent'],
    ...options,
    onError: (what, error) =>
      errors.push(`${what}: ${error instanceof Error ? error.message : String(error)}`),
  })
  await caches.synced()
  await vi.waitFor(() => {
    expect(world.api.counters.requests({ verb: 'watch', resource: 'pods' })).toBeGreaterThanOrEqual(1)
    expect(world.api.counters.requests({ verb: 'watch', resource: 'nodes' })).toBeGreaterThanOrEqual(1)
  })
  return caches
}

it('reopens watches the API server cut and then refused with 500s, and follows changes again', async () => {
  const gone = world.newAgentPod()
  const cache = await watchingCaches()
  expect(cache.pod('spire', gone.podName)).toBeDefined()

  const refusal = world.api.faults.inject({ verb: 'watch', error: { status: 500 }, times: 2 })
  expect(world.api.faults.destroyConnections()).toBeGreaterThan(0)
  await vi.waitFor(() => expect(refusal.hits).toBe(2), RECOVERY)
  await vi.waitFor(() =>
    expect(errors.filter((error) => error.includes('Internal Server Error'))).toHaveLength(2),
  )

  // While the watches were down: a pod deleted, another created, on a new node.
  world.api.deleteObject('pods', gone.podName, { namespace: 'spire', gracePeriodSeconds: 0 })
  const fresh = world.newAgentPod()
  await vi.waitFor(() => {
    expect(cache.pod('spire', gone.podName)).toBeUndefined()
    expect(cache.pod('spire', fresh.podName)).toMatchObject({ uid: fresh.podUid })
    expect(cache.node(fresh.nodeName)).toMatchObject({ uid: fresh.nodeUid })
  }, RECOVERY)
})

it('relists when a watch resumes from a version the API server compacted away (410 Gone), and follows changes', async () => {
  const cache = await watchingCaches()
  const lists = () => ({
    pods: world.api.counters.requests({ verb: 'list', resource: 'pods' }),
    nodes: world.api.counters.requests({ verb: 'list', resource: 'nodes' }),
  })
  const before = lists()
  // Writes the watches do not see move the cluster's resourceVersion past theirs; then the
  // history is compacted, and the API server ends the watches as at their timeout.
  for (const name of ['unrelated-1', 'unrelated-2']) {
    world.api.createObject('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } }, 'spire')
  }
  world.api.compactWatchHistory()
  expect(world.api.faults.endWatches()).toBeGreaterThanOrEqual(2)

  await vi.waitFor(() => {
    expect(lists().pods).toBe(before.pods + 1)
    expect(lists().nodes).toBe(before.nodes + 1)
  }, RECOVERY)
  const fresh = world.newAgentPod()
  await vi.waitFor(() => {
    expect(cache.pod('spire', fresh.podName)).toMatchObject({ uid: fresh.podUid })
    expect(cache.node(fresh.nodeName)).toMatchObject({ uid: fresh.nodeUid })
  }, RECOVERY)
  // A 410 is the informer's ordinary relist, not a failure to report.
  expect(errors).toEqual([])
})

it('reopens watches after the API server refused connections for a while', async () => {
  const cache = await watchingCaches()
  await world.api.faults.stopListening()
  world.api.faults.destroyConnections()
  await vi.waitFor(() => expect(errors.some((error) => error.startsWith('pods'))).toBe(true), RECOVERY)
  await vi.waitFor(() => expect(errors.some((error) => error.startsWith('nodes'))).toBe(true), RECOVERY)
  await world.api.faults.resumeListening()

  const fresh = world.newAgentPod()
  await vi.waitFor(() => {
    expect(cache.pod('spire', fresh.podName)).toMatchObject({ uid: fresh.podUid })
    expect(cache.node(fresh.nodeName)).toMatchObject({ uid: fresh.nodeUid })
  }, RECOVERY)
})

it('retries a relist that failed, reports it, and keeps relisting after it', async () => {
  await watchingCaches({ resyncMs: 200 })
  const failure = world.api.faults.inject({
    verb: 'list',
    resource: 'pods',
    error: { status: 500 },
    times: 1,
  })
  await vi.waitFor(() => expect(failure.hits).toBe(1), RECOVERY)
  const listsAtFailure = world.api.counters.requests({ verb: 'list', resource: 'pods' })
  expect(errors.some((error) => error.startsWith('pods spire/spire-agent: '))).toBe(true)
  // The failed relist is tried again (after the restart delay), and relisting goes on.
  await vi.waitFor(
    () =>
      expect(world.api.counters.requests({ verb: 'list', resource: 'pods' })).toBeGreaterThan(
        listsAtFailure + 2,
      ),
    RECOVERY,
  )
})

it('gives up on a list the API server never answers, and lists again once it does', async () => {
  const hang = world.api.faults.inject({ verb: 'list', resource: 'nodes', hang: true, times: 1 })
  caches = client.startCaches({
    serviceAccounts: ['spire:spire-agent'],
    listTimeoutMs: 300,
    onError: (what, error) => errors.push(`${what}: ${error instanceof Error ? error.name : String(error)}`),
  })
  await vi.waitFor(() => expect(errors).toContain('nodes: TimeoutError'), RECOVERY)
  await caches.synced()
  expect(hang.hits).toBe(1)
  const pod = world.newAgentPod()
  await vi.waitFor(() => expect(caches?.node(pod.nodeName)).toMatchObject({ uid: pod.nodeUid }), RECOVERY)
})

it('keeps the request pool for requests: eleven watches, and reviews still answer', async () => {
  const serviceAccounts = Array.from({ length: 10 }, (_, index) => `spire:agent-${index}`)
  world.api.counters.reset()
  caches = client.startCaches({ serviceAccounts })
  await caches.synced()
  await vi.waitFor(() => expect(world.api.counters.requests({ verb: 'watch' })).toBeGreaterThanOrEqual(11))
  const pod = world.newAgentPod()
  const guarded = withCallDeadline(client, { cluster: 'demo', timeoutMs: 5_000 })
  const reviews = await Promise.all(
    Array.from({ length: 16 }, () => guarded.reviewToken(pod.token, ['spire-server'])),
  )
  expect(reviews.map((review) => review.authenticated)).toEqual(reviews.map(() => true))
})
