import type { NodeAttestorsConfig } from '../config/server-config.ts'
import { CachedClusterClient } from './cached-cluster-client.ts'
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
  /** Called when a k8s_psat cluster's pod or node informer fails (it restarts by itself). */
  readonly onCacheError?: (cluster: string, what: string, error: unknown) => void
}

/**
 * One {@link KubeClusterClient} (one connection pool) per configured cluster that calls its API
 * server: every k8s_psat cluster, and k8s_sat clusters in TokenReview mode. A k8s_psat
 * cluster's client answers pod and node lookups from informer caches (a
 * {@link CachedClusterClient}, which owns the pool and the informers: closing it stops both);
 * in JWKS mode its informers also watch the allow-listed service accounts.
 * Each call that reaches the API server has the cluster's deadline (`kube_api_timeout`, see
 * {@link withCallDeadline}).
 */
export function createClusterClients(
  attestors: NodeAttestorsConfig,
  options: CreateClusterClientsOptions = {},
): ClusterClients {
  const kubeFor = (cluster: string, kubeconfigFile: string | undefined) =>
    KubeClusterClient.fromKubeconfig({
      cluster,
      ...(kubeconfigFile === undefined ? {} : { kubeconfigFile }),
      ...(options.onCall === undefined ? {} : { onCall: (call) => options.onCall?.(cluster, call) }),
    })
  const k8sPsat = new Map<string, ClusterClient>()
  for (const cluster of attestors.k8sPsat?.clusters.values() ?? []) {
    const kube = kubeFor(cluster.name, cluster.kubeConfigFile)
    const caches = kube.startCaches({
      serviceAccounts: cluster.serviceAccountAllowList,
      watchServiceAccounts: cluster.tokenVerification === 'jwks',
      ...(options.onCacheError === undefined
        ? {}
        : { onError: (what, error) => options.onCacheError?.(cluster.name, what, error) }),
    })
    // The deadline sits between the cache and the API server: a lookup the cache answers
    // pays no timer, a GET fallback has its deadline like every other call.
    const deadlined = withCallDeadline(kube, { cluster: cluster.name, timeoutMs: cluster.kubeApiTimeoutMs })
    k8sPsat.set(cluster.name, new CachedClusterClient(deadlined, caches))
  }
  const k8sSat = new Map<string, ClusterClient>()
  for (const cluster of attestors.k8sSat?.clusters.values() ?? []) {
    const { validation } = cluster
    if (validation.kind === 'token-review') {
      k8sSat.set(
        cluster.name,
        withCallDeadline(kubeFor(cluster.name, validation.kubeConfigFile), {
          cluster: cluster.name,
          timeoutMs: validation.kubeApiTimeoutMs,
        }),
      )
    }
  }
  return { k8sPsat, k8sSat }
}

/** Closes every client's connection pool. */
export async function closeClusterClients(clients: ClusterClients): Promise<void> {
  await Promise.all([...clients.k8sPsat.values(), ...clients.k8sSat.values()].map((client) => client.close()))
}
