import type { NodeAttestorsConfig } from '../config/server-config.ts'
import { withCallDeadline } from './call-deadline.ts'
import type { ClusterClient } from './cluster-client.ts'
import { type KubeApiCall, KubeClusterClient } from './kube-cluster-client.ts'

/**
 * The API client of every cluster that needs one, by attestor and cluster name. The two
 * attestors are kept apart because each configures its clusters separately: a cluster named in
 * both may use different kubeconfigs. k8s_sat clusters verifying with local keys have none.
 */
export interface ClusterClients {
  readonly k8sPsat: ReadonlyMap<string, ClusterClient>
  readonly k8sSat: ReadonlyMap<string, ClusterClient>
}

/** Options of {@link createClusterClients}. */
export interface CreateClusterClientsOptions {
  /** Called after every Kubernetes API call, with the cluster's name (for metrics). */
  readonly onCall?: (cluster: string, call: KubeApiCall) => void
}

/**
 * One {@link KubeClusterClient} (one connection pool) per configured cluster that calls its API
 * server: every k8s_psat cluster, and k8s_sat clusters in TokenReview mode. Each call has the
 * cluster's deadline (`kube_api_timeout`, see {@link withCallDeadline}).
 */
export function createClusterClients(
  attestors: NodeAttestorsConfig,
  options: CreateClusterClientsOptions = {},
): ClusterClients {
  const clientFor = (cluster: string, kubeconfigFile: string | undefined, timeoutMs: number) =>
    withCallDeadline(
      KubeClusterClient.fromKubeconfig({
        cluster,
        ...(kubeconfigFile === undefined ? {} : { kubeconfigFile }),
        ...(options.onCall === undefined ? {} : { onCall: (call) => options.onCall?.(cluster, call) }),
      }),
      { cluster, timeoutMs },
    )
  const k8sPsat = new Map<string, ClusterClient>()
  for (const cluster of attestors.k8sPsat?.clusters.values() ?? []) {
    k8sPsat.set(cluster.name, clientFor(cluster.name, cluster.kubeConfigFile, cluster.kubeApiTimeoutMs))
  }
  const k8sSat = new Map<string, ClusterClient>()
  for (const cluster of attestors.k8sSat?.clusters.values() ?? []) {
    const { validation } = cluster
    if (validation.kind === 'token-review') {
      k8sSat.set(
        cluster.name,
        clientFor(cluster.name, validation.kubeConfigFile, validation.kubeApiTimeoutMs),
      )
    }
  }
  return { k8sPsat, k8sSat }
}

/** Closes every client's connection pool. */
export async function closeClusterClients(clients: ClusterClients): Promise<void> {
  await Promise.all([...clients.k8sPsat.values(), ...clients.k8sSat.values()].map((client) => client.close()))
}
