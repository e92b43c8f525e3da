import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type KubeTestApi, seedDemoCluster, startKubeTestApi } from '@k8s-attest/kube-test-api'
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openBenchCluster } from '../src/bench/bench-cluster.ts'

/*
 * The clusters `pnpm bench` attests against: the embedded test API (with as many agent pods as
 * asked), or, with --kubeconfig, whatever cluster the file names — here the test API reached
 * only through an admin kubeconfig, as a real cluster would be.
 */

let root: string
let api: KubeTestApi
let kubeconfigPath: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'k8s-attest-bench-cluster-'))
  api = await startKubeTestApi()
  seedDemoCluster(api)
  kubeconfigPath = await api.writeKubeconfig({ path: join(root, 'admin.kubeconfig') })
})

afterAll(async () => {
  await api?.stop()
  await rm(root, { recursive: true, force: true })
})

/** The claims of a service account token (a JWT), unverified. */
function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'))
}

describe('openBenchCluster', () => {
  it('embedded: adds nodes up to --agents, a bound token for each pod, and the counting test API', async () => {
    const bench = await openBenchCluster({ agents: 5 }, () => {})
    try {
      expect(bench.cluster.agentNodes).toHaveLength(5)
      expect(bench.tokens).toHaveLength(5)
      expect(bench.testApi).toBeDefined()
      expect(bench.cluster.description).toContain('(5 nodes, namespace spire)')
    } finally {
      await bench.cluster.stop()
    }
  })

  it('--kubeconfig: sets up in that cluster, one pod and TokenRequest token per node, and removes it all', async () => {
    const core = new KubeConfig()
    core.loadFromFile(kubeconfigPath)
    const client = core.makeApiClient(CoreV1Api)
    const nodes = (await client.listNode()).items
    const namespacesBefore = (await client.listNamespace()).items.map((ns) => ns.metadata?.name).sort()
    const lines: string[] = []

    const bench = await openBenchCluster({ agents: 64, kubeconfig: kubeconfigPath }, (line) =>
      lines.push(line),
    )
    const { namespace } = bench.cluster
    try {
      expect(bench.testApi).toBeUndefined()
      expect(namespace).toMatch(/^k8s-attest-demo-[0-9a-f]{6}$/)
      expect(bench.cluster.agentNodes.map((node) => node.nodeName).sort()).toEqual(
        nodes.map((node) => node.metadata?.name).sort(),
      )
      expect(bench.tokens).toHaveLength(nodes.length)
      bench.tokens.forEach((token, index) => {
        const kubernetes = claimsOf(token)['kubernetes.io'] as Record<string, { name?: string }>
        expect(kubernetes.namespace).toBe(namespace)
        expect(kubernetes.pod?.name).toBe(bench.cluster.agentNodes[index]?.podName)
      })
      expect(lines.join('\n')).toContain(`namespace ${namespace}`)
    } finally {
      await bench.cluster.stop()
    }
    expect((await client.listNamespace()).items.map((ns) => ns.metadata?.name).sort()).toEqual(
      namespacesBefore,
    )
  })
})
