import { generateKeyAndCsr } from '@k8s-attest/agent/csr'
import type { BenchCluster } from './bench-cluster.ts'
import type { BenchContext } from './bench-context.ts'
import { BENCH_CLUSTER, type BenchServer } from './bench-server.ts'
import { warmBenchClient } from './client-warm-up.ts'
import { againstTarget } from './figures.ts'
import { countKubeCalls } from './kube-api-calls.ts'
import { runAlternatingSeries, runSeries } from './load-series.ts'
import { rssMiB } from './process-stats.ts'
import { heapAllocatedDuring, SERVER_MEMORY_TARGETS } from './server-memory.ts'

/** Attestations after the warm-up over which the heap allocated per attestation is counted. */
const HEAP_WINDOW = 500

/** The concurrencies of the attestation series. */
export const CONCURRENCY = [1, 16, 64] as const

/**
 * The attestation figures: the first attestation after start (of this server, loaded with the
 * heap probe; `measureFirstAttestations` holds the target over several starts), the warm-up,
 * the heap the server allocates per attestation over 500 more, then at each concurrency, a
 * series of bare `GET /live` and a series of PSAT attestations in alternating blocks, each
 * request on a fresh TLS connection; server CPU per request and their ratio (the headline),
 * latencies, Kubernetes API calls, server RSS. Returns the warm c1 p50, which the first
 * attestation is measured against.
 */
export async function measureAttestations(context: BenchContext): Promise<{ readonly warmP50: number }> {
  const { options, figures, server, cluster } = context
  const { client, pid } = server
  const { requests, warmup } = options
  const attest = psatAttestations(server, cluster, await agentCsrPem())
  const bare = () => client.time('GET', '/live')

  figures.record('server RSS at start (MiB)', rssMiB(pid).toFixed(0))
  await warmBenchClient()
  const first = await attest(0)
  figures.record('first attestation after start (ms)', first.toFixed(1))

  await runSeries(warmup, 16, pid, attest)
  // The heap is counted over attestations after the warm-up, as bench:server-memory counts it:
  // the first ones after start also allocate what V8 builds while it compiles and tiers up the
  // path (measured: 213 KB each over attestations 501–1,000, 198 over 1,001–1,500).
  const heap = await heapAllocatedDuring(pid, context.heapProbe, async () => {
    await runSeries(HEAP_WINDOW, 16, pid, (index) => attest(warmup + index))
  })
  figures.record(
    `heap allocated per attestation, ${HEAP_WINDOW} after the warm-up (KB)`,
    againstTarget(
      heap.allocatedBytes / HEAP_WINDOW / 1000,
      SERVER_MEMORY_TARGETS.heapKBPerAttestation,
      ' KB',
    ),
  )
  figures.record(`server RSS after ${warmup + HEAP_WINDOW + 1} attestations (MiB)`, rssMiB(pid).toFixed(0))

  let warmP50 = 0
  for (const concurrency of CONCURRENCY) {
    const calls = await countKubeCalls(server.server, cluster.testApi)
    // Alternating blocks: the ratio compares CPU measured over the same minute of the machine.
    const { bare: bareRun, attest: run } = await runAlternatingSeries(requests, concurrency, pid, {
      bare,
      attest,
    })
    const counted = await calls.stop()
    figures.say(`c${concurrency}:`)
    figures.record(
      '  attestations/s, p50 / p99 (ms)',
      `${run.perSecond.toFixed(0)}/s, ${run.p50.toFixed(1)} / ${run.p99.toFixed(1)}`,
    )
    figures.record('  server CPU per attestation (ms)', run.cpuMsPerRequest.toFixed(2))
    figures.record('  server CPU per bare GET /live, fresh TLS (ms)', bareRun.cpuMsPerRequest.toFixed(2))
    figures.record('  ratio', againstTarget(run.cpuMsPerRequest / bareRun.cpuMsPerRequest, 2.5, '×'))
    if (counted.byTestApi !== undefined) {
      figures.record(
        '  Kubernetes API calls per attestation, test API',
        againstTarget(counted.byTestApi / requests, 1, ''),
      )
    }
    figures.record(
      '  Kubernetes API calls per attestation, server metrics',
      againstTarget(counted.byServer / requests, 1, ''),
    )
    figures.record(
      '  connections opened to the API server',
      counted.connections === undefined
        ? 'n/a (a real API server does not say)'
        : String(counted.connections),
    )
    if (concurrency === 64) figures.record('  p99 / p50', againstTarget(run.p99 / run.p50, 3, '×'))
    if (concurrency === 1) warmP50 = run.p50
  }
  figures.record('first attestation / warm p50 at c1, this server', `${(first / warmP50).toFixed(2)}×`)
  figures.record('server RSS after the runs (MiB)', rssMiB(pid).toFixed(0))
  return { warmP50 }
}

/**
 * One PSAT attestation to `server` per call, with the `index`-th agent pod's token (round-robin)
 * and `csrPem`, on a fresh TLS connection; resolves its latency (ms).
 */
export function psatAttestations(
  server: BenchServer,
  cluster: BenchCluster,
  csrPem: string,
): (index: number) => Promise<number> {
  return (index) => server.client.time('POST', '/v1/attest', psatAttestBody(cluster, csrPem, index))
}

/** The `/v1/attest` body of the `index`-th agent pod (round-robin): its token and `csrPem`. */
export function psatAttestBody(cluster: BenchCluster, csrPem: string, index: number): string {
  return JSON.stringify({
    attestation: {
      type: 'k8s_psat',
      payload: { cluster: BENCH_CLUSTER, token: cluster.tokens[index % cluster.tokens.length] },
    },
    csr: csrPem,
  })
}

/**
 * A CSR as an agent sends it, made by the agent's own code (P-256, an empty subject, no SAN):
 * every bench attestation sends the same one. Its shape matters to the figures: a subject of
 * one CN made the server's CSR parse allocate a fifth more heap.
 */
export async function agentCsrPem(): Promise<string> {
  return (await generateKeyAndCsr()).csrPem
}
