import { join } from 'node:path'
import { agentCsrPem, psatAttestations } from './attestation-figures.ts'
import type { BenchContext } from './bench-context.ts'
import { startBenchServer } from './bench-server.ts'
import { againstTarget } from './figures.ts'
import { countKubeCalls } from './kube-api-calls.ts'
import { runSeries } from './load-series.ts'

/** The concurrencies of the JWKS-mode series: the TokenReview series' ones, for comparison. */
const CONCURRENCY = [1, 16, 64] as const

/**
 * JWKS mode (`token_verification = "jwks"`) on a server of its own: the API calls its first
 * attestation makes (issuer discovery and keys), then after the warm-up, at each concurrency,
 * attestations per second, latencies, server CPU per attestation, and the Kubernetes API calls
 * and connections a series costs (target: zero calls).
 */
export async function measureJwksMode(context: BenchContext): Promise<void> {
  const { options, figures, cluster, workDir } = context
  const server = await startBenchServer(join(workDir, 'server-jwks'), cluster.cluster, {
    tokenVerification: 'jwks',
    serverProcess: options,
  })
  try {
    const attest = psatAttestations(server, cluster, await agentCsrPem())
    figures.say('JWKS mode (token_verification = "jwks"), a server of its own:')
    const firstCalls = await countKubeCalls(server.server, cluster.testApi)
    figures.record('  first attestation after start (ms)', (await attest(0)).toFixed(1))
    const first = await firstCalls.stop()
    figures.record(
      '  API calls of the first attestation (discovery + keys)',
      String(first.byTestApi ?? first.byServer),
    )
    await runSeries(options.warmup, 16, server.pid, attest)
    for (const concurrency of CONCURRENCY) {
      const calls = await countKubeCalls(server.server, cluster.testApi)
      const run = await runSeries(options.requests, concurrency, server.pid, attest)
      const counted = await calls.stop()
      figures.say(`  jwks c${concurrency}:`)
      figures.record(
        '    attestations/s, p50 / p99 (ms)',
        `${run.perSecond.toFixed(0)}/s, ${run.p50.toFixed(1)} / ${run.p99.toFixed(1)}`,
      )
      figures.record('    server CPU per attestation (ms)', run.cpuMsPerRequest.toFixed(2))
      figures.record(
        '    Kubernetes API calls per attestation',
        againstTarget((counted.byTestApi ?? counted.byServer) / options.requests, 0, ''),
      )
      figures.record(
        '    connections opened to the API server',
        counted.connections === undefined
          ? 'n/a (a real API server does not say)'
          : String(counted.connections),
      )
    }
  } finally {
    await server.server.stop()
  }
}
