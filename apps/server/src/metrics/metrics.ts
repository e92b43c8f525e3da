import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { AgentCounts } from '../datastore/agent-store.ts'
import type { KubeApiCall } from '../kubernetes/kube-cluster-client.ts'

/** How many attestations had one result and code ("" on success), for {@link ServerMetrics.attestationTotals}. */
export interface AttestationTotal {
  readonly result: AttestationResult
  readonly code: string
  readonly count: number
}

/** Result label of the attestation metrics. */
export type AttestationResult = 'success' | 'refused' | 'error'

/** The name of the attestations counter, which the primary of `server.workers` reads from the aggregate. */
export const ATTESTATIONS_TOTAL = 'k8s_attest_attestations_total'

/** The values of `k8s_attest_attestations_total`, summed over attestors, by result and code. */
export function attestationTotalsOf(
  values: readonly { readonly labels: Partial<Record<string, string | number>>; readonly value: number }[],
): AttestationTotal[] {
  const totals = new Map<string, AttestationTotal>()
  for (const { labels, value } of values) {
    const result = labels.result as AttestationResult
    const code = String(labels.code ?? '')
    const key = `${result}\u0000${code}`
    totals.set(key, { result, code, count: (totals.get(key)?.count ?? 0) + value })
  }
  return [...totals.values()]
}

/**
 * The server's Prometheus metrics, in a registry of its own (not prom-client's global one), so
 * that several servers in one process — tests — never share counters.
 *
 * - `k8s_attest_attestations_total{attestor,result,code}`
 * - `k8s_attest_attestation_duration_seconds{attestor,result}`
 * - `k8s_attest_renewals_total{result,code}`
 * - `k8s_attest_kube_api_calls_total{cluster,verb,resource,code}` and its duration histogram
 * - `k8s_attest_agents{state}`: agents by state, counted by the datastore at scrape time
 */
export class ServerMetrics {
  readonly registry = new Registry()
  readonly #attestations = new Counter({
    name: ATTESTATIONS_TOTAL,
    help: 'Node attestations by attestor, result and error code ("" on success)',
    labelNames: ['attestor', 'result', 'code'] as const,
    registers: [this.registry],
  })
  readonly #attestationSeconds = new Histogram({
    name: 'k8s_attest_attestation_duration_seconds',
    help: 'Time to answer an attestation, by attestor and result',
    labelNames: ['attestor', 'result'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  })
  readonly #renewals = new Counter({
    name: 'k8s_attest_renewals_total',
    help: 'SVID renewals over mTLS by result and error code ("" on success)',
    labelNames: ['result', 'code'] as const,
    registers: [this.registry],
  })
  readonly #kubeCalls = new Counter({
    name: 'k8s_attest_kube_api_calls_total',
    help: 'Kubernetes API calls by cluster, verb, resource and HTTP status ("error" when no answer came)',
    labelNames: ['cluster', 'verb', 'resource', 'code'] as const,
    registers: [this.registry],
  })
  readonly #kubeCallSeconds = new Histogram({
    name: 'k8s_attest_kube_api_call_duration_seconds',
    help: 'Kubernetes API call latency by cluster, verb and resource',
    labelNames: ['cluster', 'verb', 'resource'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  })
  #countAgents: (() => Promise<AgentCounts>) | undefined

  constructor() {
    const metrics = this
    new Gauge({
      name: 'k8s_attest_agents',
      help: 'Attested agents by state (active, expired, banned), counted at scrape time',
      labelNames: ['state'] as const,
      registers: [this.registry],
      // Every worker of `server.workers` counts the same datastore: aggregated, take one count, not the sum.
      aggregator: 'first',
      async collect() {
        if (metrics.#countAgents === undefined) return
        const counts = await metrics.#countAgents()
        for (const state of ['active', 'expired', 'banned'] as const) this.set({ state }, counts[state])
      },
    })
  }

  /** Where the agents gauge gets its numbers (the datastore's `countAgents`). */
  countAgentsWith(count: () => Promise<AgentCounts>): void {
    this.#countAgents = count
  }

  /** Records one answered attestation. */
  recordAttestation(
    attestor: string,
    result: AttestationResult,
    code: string,
    durationSeconds: number,
  ): void {
    this.#attestations.inc({ attestor, result, code })
    this.#attestationSeconds.observe({ attestor, result }, durationSeconds)
  }

  /**
   * Attestations answered so far by result and code, summed over attestors: what
   * `k8s_attest_attestations_total` holds now. The dashboard's chart samples it.
   */
  async attestationTotals(): Promise<AttestationTotal[]> {
    return attestationTotalsOf((await this.#attestations.get()).values)
  }

  /** Records one answered renewal. */
  recordRenewal(result: AttestationResult, code: string): void {
    this.#renewals.inc({ result, code })
  }

  /** `KubeClusterClient`'s `onCall` hook. */
  recordKubeApiCall(cluster: string, call: KubeApiCall): void {
    const { verb, resource, code, durationMs } = call
    this.#kubeCalls.inc({ cluster, verb, resource, code })
    this.#kubeCallSeconds.observe({ cluster, verb, resource }, durationMs / 1000)
  }
}
