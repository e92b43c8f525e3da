import type { AgentNode, TestCluster } from './system/cluster.ts'

/**
 * The cluster a demo runs against, as far as the demo needs it: nodes with an agent pod each,
 * projected tokens for those pods, and a kubeconfig for the server's own service account.
 * {@link embeddedCluster} wraps the Kubernetes test API; `connectCluster()`
 * (kubeconfig-cluster.ts) sets the same up in a cluster reached through a kubeconfig.
 */
export interface DemoCluster {
  /** One line for the person watching: what cluster this is and where. */
  readonly description: string
  /** The namespace of the agents' pods and service account. */
  readonly namespace: string
  /** `namespace:name` of the agents' service account, the server's allow-list entry. */
  readonly agentServiceAccount: string
  /** One per node, each with its agent pod. */
  readonly agentNodes: readonly AgentNode[]
  /** A projected token of the agents' service account bound to the node's agent pod (TokenRequest). */
  issueAgentToken(node: AgentNode): Promise<string>
  /** Writes a kubeconfig for the server's own service account, with only the RBAC it needs. */
  writeServerKubeconfig(path: string): Promise<string>
  /** Stops the embedded cluster, or removes from a real one what the demo created there. */
  stop(): Promise<void>
}

/** The embedded Kubernetes test API as a {@link DemoCluster}. */
export function embeddedCluster(cluster: TestCluster): DemoCluster {
  return {
    description: `embedded Kubernetes test API ${cluster.api.url} (${cluster.seededNodes.length} nodes, namespace ${cluster.namespace})`,
    namespace: cluster.namespace,
    agentServiceAccount: `${cluster.namespace}:${cluster.agentServiceAccount}`,
    agentNodes: cluster.seededNodes,
    issueAgentToken: async (node) => cluster.issueProjectedToken(node),
    writeServerKubeconfig: (path) => cluster.writeServerKubeconfig(path),
    stop: () => cluster.stop(),
  }
}
