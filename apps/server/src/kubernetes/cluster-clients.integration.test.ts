import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KubeWorld } from '../../test/kube-world.ts'
import { psatClusterConfig } from '../../test/psat-cluster-config.ts'
import type { NodeAttestorsConfig } from '../config/server-config.ts'
import { CachedClusterClient } from './cached-cluster-client.ts'
import { type ClusterClients, closeClusterClients, createClusterClients } from './cluster-clients.ts'

let world: KubeWorld
let clients: ClusterClients

beforeAll(async () => {
  world = await KubeWorld.start()
  const attestors: NodeAttestorsConfig = {
    k8sPsat: {
      clusters: new Map([
        [
          'psat',
          psatClusterConfig({ name: 'psat', kubeConfigFile: world.kubeconfigPath, kubeApiTimeoutMs: 1_000 }),
        ],
      ]),
    },
    k8sSat: {
      clusters: new Map([
        [
          'sat',
          {
            name: 'sat',
            serviceAccountAllowList: ['spire:spire-agent'],
            validation: {
              kind: 'token-review',
              kubeConfigFile: world.kubeconfigPath,
              kubeApiTimeoutMs: 2_000,
            },
          },
        ],
      ]),
    },
  }
  clients = createClusterClients(attestors)
})

afterAll(async () => {
  if (clients !== undefined) await closeClusterClients(clients)
  await world?.stop()
})

describe('createClusterClients', () => {
  it.each([
    ['k8s_psat', 'psat', '1s'],
    ['k8s_sat in TokenReview mode', 'sat', '2s'],
  ])('gives every call of a %s cluster its kube_api_timeout', async (_attestor, cluster, timeout) => {
    const client = (cluster === 'psat' ? clients.k8sPsat : clients.k8sSat).get(cluster)
    // An answered call first: the hung one then travels on an open connection.
    expect(await client?.reviewToken('x', [])).toMatchObject({ error: 'invalid bearer token' })
    const fault = world.api.faults.inject({ resource: 'tokenreviews', hang: true, times: 1 })
    try {
      const error = await client?.reviewToken('x', []).catch((thrown: unknown) => thrown)
      expect(fault.hits).toBe(1)
      expect(error).toMatchObject({
        code: 'ATT_ERR_KUBE_API_UNAVAILABLE',
        details: { check: 'kube_api_timeout', cluster, value: timeout },
      })
    } finally {
      fault.remove()
    }
  })

  it('answers a cached k8s_psat lookup without the API server, and gives a GET fallback its deadline', async () => {
    const client = clients.k8sPsat.get('psat')
    if (!(client instanceof CachedClusterClient)) throw new Error('expected the k8s_psat client to be cached')
    const watched = world.newAgentPod()
    // Not allow-listed, so not watched: its lookup is a GET.
    const unwatched = world.newAgentPod({ serviceAccount: 'intruder' })
    await client.synced()
    // Every GET of a pod hangs: an answer can only come from the cache.
    const fault = world.api.faults.inject({ verb: 'get', resource: 'pods', hang: true })
    try {
      await expect
        .poll(
          () =>
            client.getPod('spire', watched.podName).then(
              (pod) => pod?.uid,
              () => 'no answer',
            ),
          {
            timeout: 5_000,
          },
        )
        .toBe(watched.podUid)
      const hitsBefore = fault.hits
      const error = await client.getPod('spire', unwatched.podName).catch((thrown: unknown) => thrown)
      expect(fault.hits).toBe(hitsBefore + 1)
      expect(error).toMatchObject({
        code: 'ATT_ERR_KUBE_API_UNAVAILABLE',
        details: { check: 'kube_api_timeout', cluster: 'psat', value: '1s' },
      })
    } finally {
      fault.remove()
    }
  })
})
