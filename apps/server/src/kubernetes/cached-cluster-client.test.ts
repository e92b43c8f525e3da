import { describe, expect, it } from 'vitest'
import { FakeClusterClient } from '../../test/fake-cluster-client.ts'
import { CachedClusterClient, type ClusterCaches } from './cached-cluster-client.ts'
import type { NodeInfo, PodInfo } from './cluster-client.ts'

const POD: PodInfo = {
  namespace: 'spire',
  name: 'agent-1',
  uid: 'pod-uid-1',
  nodeName: 'node-a',
  serviceAccountName: 'spire-agent',
  hostIp: '10.0.0.7',
  labels: {},
}
const NODE: NodeInfo = { name: 'node-a', uid: 'node-uid-a', labels: {} }

/** Caches backed by maps the test fills, as informers would. */
function mapCaches(): ClusterCaches & {
  pods: Map<string, PodInfo>
  nodes: Map<string, NodeInfo>
  closed: boolean
} {
  return {
    pods: new Map(),
    nodes: new Map(),
    closed: false,
    pod(namespace, name) {
      return this.pods.get(`${namespace}/${name}`)
    },
    node(name) {
      return this.nodes.get(name)
    },
    serviceAccount() {
      return undefined
    },
    async synced() {},
    async close() {
      this.closed = true
    },
  }
}

describe('CachedClusterClient', () => {
  it('answers pods and nodes from the cache without calling the API', async () => {
    const inner = new FakeClusterClient()
    const caches = mapCaches()
    caches.pods.set('spire/agent-1', POD)
    caches.nodes.set('node-a', NODE)
    const client = new CachedClusterClient(inner, caches)
    expect(await client.getPod('spire', 'agent-1', { uid: 'pod-uid-1' })).toEqual(POD)
    expect(await client.getNode('node-a')).toEqual(NODE)
    expect(inner.calls).toEqual([])
  })

  it('falls back to a GET on a cache miss', async () => {
    const inner = new FakeClusterClient()
    inner.pods.set('spire/agent-1', POD)
    inner.nodes.set('node-a', NODE)
    const client = new CachedClusterClient(inner, mapCaches())
    expect(await client.getPod('spire', 'agent-1')).toEqual(POD)
    expect(await client.getNode('node-a')).toEqual(NODE)
    expect(await client.getNode('absent')).toBeUndefined()
    expect(inner.calls).toEqual(['getPod spire/agent-1', 'getNode node-a', 'getNode absent'])
  })

  it('asks the API when the cached pod has another UID than the token is bound to (recreated pod)', async () => {
    const inner = new FakeClusterClient()
    const recreated = { ...POD, uid: 'pod-uid-2' }
    inner.pods.set('spire/agent-1', recreated)
    const caches = mapCaches()
    caches.pods.set('spire/agent-1', POD)
    const client = new CachedClusterClient(inner, caches)
    expect(await client.getPod('spire', 'agent-1', { uid: 'pod-uid-2' })).toEqual(recreated)
    expect(inner.calls).toEqual(['getPod spire/agent-1'])
  })

  it('asks the API when the cached node has another UID than the token names (node re-registered)', async () => {
    const inner = new FakeClusterClient()
    const reregistered = { ...NODE, uid: 'node-uid-b' }
    inner.nodes.set('node-a', reregistered)
    const caches = mapCaches()
    caches.nodes.set('node-a', NODE)
    const client = new CachedClusterClient(inner, caches)
    expect(await client.getNode('node-a', { uid: 'node-uid-a' })).toEqual(NODE)
    expect(await client.getNode('node-a', { uid: 'node-uid-b' })).toEqual(reregistered)
    expect(inner.calls).toEqual(['getNode node-a'])
  })

  it('passes TokenReviews and permission checks through, and closes caches and client', async () => {
    const inner = new FakeClusterClient()
    const caches = mapCaches()
    const client = new CachedClusterClient(inner, caches)
    await client.reviewToken('t', ['spire-server'])
    await client.checkPermission({ verb: 'list', resource: 'pods', group: '' })
    expect(inner.calls).toEqual(['reviewToken [spire-server]', 'checkPermission list pods'])
    await client.close()
    expect(caches.closed).toBe(true)
    expect(inner.closed).toBe(true)
  })
})
