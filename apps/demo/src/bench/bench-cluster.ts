import type { KubeTestApi } from '@k8s-attest/kube-test-api'
import { type DemoCluster, embeddedCluster } from '../demo-cluster.ts'
import type { AgentNode } from '../system/cluster.ts'
import { startTestCluster } from '../system/cluster.ts'

/** The cluster a bench run attests against, with a token for each of its agent pods. */
export interface BenchCluster {
  /** `agentNodes` are the pods the bench attests with. */
  readonly cluster: DemoCluster
  /** A projected token per agent pod, bound to it (TokenRequest). */
  readonly tokens: readonly string[]
  /**
   * The embedded test API, whose counters count every call the server makes; absent against
   * a real cluster, whose API server tells nobody else.
   */
  readonly testApi?: KubeTestApi
}

/**
 * Without `kubeconfig`: the embedded Kubernetes test API, with `agents` nodes and an agent
 * pod on each (the seeded three, and more added). With it: the cluster it names, set up by
 * the demo's own `connectCluster` (namespace, service accounts, RBAC, one agent pod per node,
 * all removed by `cluster.stop()`); a real cluster has the nodes it has, so `agents` is not used.
 */
export async function openBenchCluster(
  options: { readonly agents: number; readonly kubeconfig?: string },
  say: (line: string) => void,
): Promise<BenchCluster> {
  if (options.kubeconfig !== undefined) {
    const { connectCluster } = await import('../kubeconfig-cluster.ts')
    const cluster = await connectCluster(options.kubeconfig, { say: (line) => say(`  ${line}`) })
    try {
      const tokens: string[] = []
      for (const node of cluster.agentNodes) tokens.push(await cluster.issueAgentToken(node))
      return { cluster, tokens }
    } catch (error) {
      await cluster.stop().catch(() => undefined)
      throw error
    }
  }
  const test = await startTestCluster()
  const nodes: AgentNode[] = [...test.seededNodes]
  for (let index = nodes.length; index < options.agents; index++)
    nodes.push(test.addAgentNode(`bench-node-${index}`))
  return {
    cluster: {
      ...embeddedCluster(test),
      description: `embedded Kubernetes test API ${test.api.url} (${nodes.length} nodes, namespace ${test.namespace})`,
      agentNodes: nodes,
    },
    tokens: nodes.map((node) => test.issueProjectedToken(node)),
    testApi: test.api,
  }
}
