import { describe, expect, it } from 'vitest'
import { FakeClusterClient } from '../../test/fake-cluster-client.ts'
import type { KubeWorld } from '../../test/kube-world.ts'
import { harnessConfig } from '../../test/server-harness.ts'
import { AttestorClusters } from './attestor-clusters.ts'

function build(client: FakeClusterClient): AttestorClusters {
  const world = { kubeconfigPath: '/etc/kubeconfig' } as KubeWorld
  const { nodeAttestors } = harnessConfig({ clusters: { psat: { demo: { world } } } }, '/data')
  return AttestorClusters.build({
    nodeAttestors,
    clusterClients: { k8sPsat: new Map([['demo', client]]), k8sSat: new Map() },
  })
}

describe('AttestorClusters', () => {
  it('closes its clients on retirement only once every lease is released', async () => {
    const client = new FakeClusterClient()
    const clusters = build(client)
    const first = clusters.lease()
    const second = clusters.lease()
    expect(clusters.psat?.get('demo')?.client).toBe(client)
    const retired = clusters.retire()
    first.release()
    first.release() // a second release of the same lease counts once
    await Promise.resolve()
    expect(clusters.inFlight).toBe(1)
    expect(client.closed).toBe(false)
    second.release()
    await retired
    expect(client.closed).toBe(true)
    expect(() => clusters.lease()).toThrow(TypeError)
  })

  it('closes at once when retired with nothing in flight', async () => {
    const client = new FakeClusterClient()
    await build(client).retire()
    expect(client.closed).toBe(true)
  })

  it('refuses a configuration whose API cluster has no client', () => {
    const world = { kubeconfigPath: '/etc/kubeconfig' } as KubeWorld
    const { nodeAttestors } = harnessConfig({ clusters: { psat: { demo: { world } } } }, '/data')
    expect(() =>
      AttestorClusters.build({ nodeAttestors, clusterClients: { k8sPsat: new Map(), k8sSat: new Map() } }),
    ).toThrow('no ClusterClient for k8s_psat cluster "demo"')
  })
})
