import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { TestCluster } from '../system/cluster.ts'
import { installServer, startServer } from '../system/server-process.ts'
import { sendFresh, series } from './fresh-tls-load.ts'

/** Options of {@link runJwksSeries}. */
export interface JwksSeriesOptions {
  readonly cluster: TestCluster
  /** A directory for the JWKS-mode server's installation. */
  readonly dir: string
  /** The server's kubeconfig (its own service account, with the JWKS-mode RBAC of the seed). */
  readonly kubeconfigPath: string
  /** Projected tokens of agent pods, used round-robin. */
  readonly tokens: readonly string[]
  readonly csrPem: string
  readonly requests: number
  readonly warmup: number
  readonly concurrency: readonly number[]
  /** Prints one figure. */
  readonly record: (name: string, value: string) => void
  readonly say: (line?: string) => void
}

/**
 * The JWKS-mode series of `pnpm bench`: a second server process, its k8s_psat cluster in
 * `token_verification = "jwks"`, attested at each concurrency on fresh TLS connections as the
 * TokenReview series are, printing attestations per second, latency, server CPU per attestation,
 * and the Kubernetes API calls and connections each series cost (target: zero calls).
 */
export async function runJwksSeries(options: JwksSeriesOptions): Promise<void> {
  const { cluster, record, say } = options
  const installation = await installServer({
    dir: options.dir,
    trustDomain: 'bench.k8s-attest.test',
    agentTtl: '1h',
    psatClusters: [{ name: 'bench', kubeconfigPath: options.kubeconfigPath, tokenVerification: 'jwks' }],
  })
  const server = await startServer(installation)
  try {
    const pid = server.process.pid
    const ca = await readFile(installation.bundlePath, 'utf8')
    const attest = (index: number) =>
      sendFresh(
        `${installation.url}/v1/attest`,
        ca,
        'POST',
        JSON.stringify({
          attestation: {
            type: 'k8s_psat',
            payload: { cluster: 'bench', token: options.tokens[index % options.tokens.length] },
          },
          csr: options.csrPem,
        }),
      )
    say('JWKS mode (token_verification = "jwks"), a server of its own:')
    cluster.api.counters.reset()
    record('  first attestation after start (ms)', (await attest(0)).toFixed(1))
    record(
      '  API calls of the first attestation (discovery + JWKS)',
      String(cluster.api.counters.requests({ verb: 'get' })),
    )
    await series(pid, options.warmup, 16, attest)
    for (const concurrency of options.concurrency) {
      cluster.api.counters.reset()
      const run = await series(pid, options.requests, concurrency, attest)
      const calls = cluster.api.counters
      const apiCalls =
        calls.requests({ verb: 'create' }) +
        calls.requests({ verb: 'get' }) +
        calls.requests({ verb: 'list' })
      say(`  jwks c${concurrency}:`)
      record(
        '    attestations/s, p50 / p99 (ms)',
        `${run.perSecond.toFixed(0)}/s, ${run.p50.toFixed(1)} / ${run.p99.toFixed(1)}`,
      )
      record('    server CPU per attestation (ms)', run.cpuMsPerRequest.toFixed(2))
      record('    Kubernetes API calls per attestation (target 0)', (apiCalls / options.requests).toFixed(2))
      record('    connections opened to the API server', String(calls.tlsConnections))
    }
  } finally {
    await server.stop()
  }
}

/** Where {@link runJwksSeries} installs its server under the bench's work directory. */
export function jwksServerDir(workDir: string): string {
  return join(workDir, 'server-jwks')
}
