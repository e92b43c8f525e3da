import type { KubeTestApi } from '@k8s-attest/kube-test-api'
import type { RunningServer } from '../system/server-process.ts'

/** The server's counter of the Kubernetes API calls it made (apps/server/src/metrics). */
export const KUBE_CALLS_METRIC = 'k8s_attest_kube_api_calls_total'

/** Kubernetes API calls over a stretch of the run, from whichever side can count them. */
export interface KubeCallCount {
  /** Calls the server says it made (its metrics): known against any cluster. */
  readonly byServer: number
  /** Calls the embedded test API answered (create, get, list); absent against a real cluster. */
  readonly byTestApi?: number
  /** TLS connections the test API accepted; absent against a real cluster. */
  readonly connections?: number
}

/**
 * Starts counting: resets the test API's counters (when there is one) and reads the server's
 * metric; `stop()` resolves the calls since.
 */
export async function countKubeCalls(
  server: RunningServer,
  testApi: KubeTestApi | undefined,
): Promise<{ stop(): Promise<KubeCallCount> }> {
  testApi?.counters.reset()
  const before = await serverKubeCalls(server)
  return {
    async stop() {
      const byServer = (await serverKubeCalls(server)) - before
      if (testApi === undefined) return { byServer }
      const calls = testApi.counters
      return {
        byServer,
        byTestApi:
          calls.requests({ verb: 'create' }) +
          calls.requests({ verb: 'get' }) +
          calls.requests({ verb: 'list' }),
        connections: calls.tlsConnections,
      }
    },
  }
}

/** The sum of the server's {@link KUBE_CALLS_METRIC} over every cluster, verb, resource and code. */
async function serverKubeCalls(server: RunningServer): Promise<number> {
  let total = 0
  for (const sample of await server.metrics()) if (sample.name === KUBE_CALLS_METRIC) total += sample.value
  return total
}
