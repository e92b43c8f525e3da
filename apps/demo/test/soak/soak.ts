/**
 * `pnpm soak` (scripts/soak.ts starts this; it lives here to reach the demo's system modules
 * and undici): many agents against one server for a long time (not in CI). Starts the embedded
 * Kubernetes test API and the real `k8s-attest-server run` as its own process (SVIDs of
 * `--svid-ttl`), then runs `--agents` agents in this process, each on its own node with its own
 * connection, as the agent does: a fresh P-256 key and CSR and the pod's current projected
 * token on every attestation, again at half the SVID's lifetime. Prints the figures and writes
 * them into docs/failure-modes.md. Exits 1 on any failed attestation, on an agent record lost,
 * or when the server's RSS grows by 10 % or more after warm-up.
 *
 *   pnpm soak [--agents 200] [--minutes 10] [--svid-ttl 1m] [--no-docs]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { Agent, request } from 'undici'
import { markdownTable, writeGeneratedSection } from '../../../../scripts/support/failure-modes-doc.ts'
import { createTestCsr } from '../../../server/src/ca/test-support/csr.ts'
import { type AgentNode, startTestCluster } from '../../src/system/cluster.ts'
import { installServer, startServer } from '../../src/system/server-process.ts'

const MAX_RSS_GROWTH = 0.1

const { values: flags } = parseArgs({
  options: {
    agents: { type: 'string', default: '200' },
    minutes: { type: 'string', default: '10' },
    'svid-ttl': { type: 'string', default: '1m' },
    'no-docs': { type: 'boolean', default: false },
  },
})
const agentCount = Number(flags.agents)
const minutes = Number(flags.minutes)
if (!Number.isSafeInteger(agentCount) || agentCount < 1)
  throw new Error(`--agents must be a positive whole number, got ${flags.agents}`)
if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, got ${flags.minutes}`)
const durationMs = minutes * 60_000
/** Warm-up: the first fifth of the run, at most two minutes (every agent attests in its first 30 s). */
const warmUpMs = Math.min(120_000, durationMs / 5)
const progress = (line: string) => process.stderr.write(`soak: ${line}\n`)

const workDir = await mkdtemp(join(tmpdir(), 'k8s-attest-soak-'))
const probeFile = join(workDir, 'server-probe.jsonl')
const cluster = await startTestCluster()
const installation = await installServer({
  dir: join(workDir, 'server'),
  trustDomain: 'soak.k8s-attest.test',
  agentTtl: flags['svid-ttl'],
  psatClusters: [
    { name: 'soak', kubeconfigPath: await cluster.writeServerKubeconfig(join(workDir, 'kubeconfig')) },
  ],
})
// The server process inherits these: the probe reports its RSS and event-loop delay.
process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${new URL('../../../../scripts/support/process-probe.ts', import.meta.url).pathname}`
process.env.K8S_ATTEST_PROBE_FILE = probeFile
const server = await startServer(installation)
delete process.env.NODE_OPTIONS
// Ctrl-C stops the server process and the cluster too, instead of leaving the server running.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.allSettled([server.stop(), cluster.stop()]).then(() => process.exit(130))
  })
}
const bundle = await readFile(installation.bundlePath, 'utf8')
progress(
  `server ${installation.url} (pid ${server.process.pid}); ${agentCount} agents for ${minutes} min, SVID TTL ${flags['svid-ttl']}`,
)

interface Attempt {
  readonly at: number
  readonly ms: number
  readonly ok: boolean
  readonly detail?: string
}
const attempts: Attempt[] = []
const started = Date.now()
const deadline = started + durationMs

/** One agent: attest, then again at half the SVID's remaining lifetime, until the deadline. */
async function runAgent(node: AgentNode, startDelayMs: number): Promise<string | undefined> {
  const dispatcher = new Agent({ connect: { ca: bundle }, headersTimeout: 30_000, bodyTimeout: 30_000 })
  let spiffeId: string | undefined
  /** Consecutive failures, for the agent's backoff: 1 s doubling to 30 s, with jitter. */
  let failuresInARow = 0
  await sleepUntil(Date.now() + startDelayMs)
  try {
    while (Date.now() < deadline) {
      const csr = await createTestCsr()
      const token = cluster.issueProjectedToken(node)
      const t0 = performance.now()
      let ok = false
      let nextAt = Date.now()
      try {
        const response = await request(`${installation.url}/v1/attest`, {
          method: 'POST',
          dispatcher,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            attestation: { type: 'k8s_psat', payload: { cluster: 'soak', token } },
            csr: csr.pem,
          }),
        })
        const text = await response.body.text()
        const ms = performance.now() - t0
        if (response.statusCode === 200) {
          const answer = JSON.parse(text) as { spiffe_id: string; expires_at: string }
          spiffeId = answer.spiffe_id
          attempts.push({ at: Date.now(), ms, ok: true })
          ok = true
          nextAt = Date.now() + (Date.parse(answer.expires_at) - Date.now()) / 2
        } else {
          attempts.push({
            at: Date.now(),
            ms,
            ok: false,
            detail: `${response.statusCode} ${text.slice(0, 200)}`,
          })
        }
      } catch (error) {
        attempts.push({ at: Date.now(), ms: performance.now() - t0, ok: false, detail: String(error) })
      }
      if (ok) failuresInARow = 0
      else {
        failuresInARow++
        const base = Math.min(30_000, 1000 * 2 ** (failuresInARow - 1))
        nextAt = Date.now() + base / 2 + Math.random() * (base / 2)
      }
      await sleepUntil(Math.min(nextAt, deadline))
    }
  } finally {
    await dispatcher.close()
  }
  return spiffeId
}

/** The lifetime of the SVIDs the server issues, from one attestation of an extra agent. */
async function firstSvidLifetimeMs(): Promise<number> {
  const node = cluster.addAgentNode('soak-probe-node')
  const dispatcher = new Agent({ connect: { ca: bundle } })
  try {
    const response = await request(`${installation.url}/v1/attest`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        attestation: {
          type: 'k8s_psat',
          payload: { cluster: 'soak', token: cluster.issueProjectedToken(node) },
        },
        csr: (await createTestCsr()).pem,
      }),
    })
    const answer = (await response.body.json()) as { expires_at?: string }
    if (answer.expires_at === undefined)
      throw new Error(`the first attestation failed: ${JSON.stringify(answer)}`)
    return Date.parse(answer.expires_at) - Date.now()
  } finally {
    await dispatcher.close()
  }
}

function sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())))
}

const nodes = Array.from({ length: agentCount }, (_, i) => cluster.addAgentNode(`soak-node-${i}`))
const ticker = setInterval(() => {
  const failed = attempts.filter((a) => !a.ok).length
  progress(
    `${((Date.now() - started) / 60_000).toFixed(1)} min: ${attempts.length} attestations, ${failed} failed`,
  )
}, 60_000)
// Steady state from the start: the first attestations spread over one rotation interval (half
// the SVID lifetime), as the agents' rotations are spread in a long-running cluster.
const rotationMs = (await firstSvidLifetimeMs()) / 2
const ids = await Promise.all(nodes.map((node, i) => runAgent(node, (i * rotationMs) / agentCount)))
clearInterval(ticker)

const recorded = await server.admin.list()
const recordedIds = new Set(recorded.map((agent) => agent.spiffe_id))
const lost = ids.filter((id) => id === undefined || !recordedIds.has(id)).length
const serverLog = await readFile(installation.logPath, 'utf8')
const errorLines = serverLog.split('\n').filter((line) => /"level":(50|60)/.test(line)).length
await server.stop()
await cluster.stop()
const probes = (await readFile(probeFile, 'utf8'))
  .split('\n')
  .filter((line) => line !== '')
  .map(
    (line) =>
      JSON.parse(line) as {
        at: number
        rss: number
        eventLoopDelayMs: { p50: number; p99: number; max: number }
      },
  )
await rm(workDir, { recursive: true, force: true })

const afterWarmUp = probes.filter((p) => p.at >= started + warmUpMs)
const rssAtWarmUp = afterWarmUp[0]?.rss ?? Number.NaN
const rssAtEnd = afterWarmUp.at(-1)?.rss ?? Number.NaN
const rssMax = Math.max(...afterWarmUp.map((p) => p.rss))
const rssGrowth = (rssAtEnd - rssAtWarmUp) / rssAtWarmUp
const loopP99s = afterWarmUp.map((p) => p.eventLoopDelayMs.p99).sort((a, b) => a - b)
const loopMax = Math.max(...afterWarmUp.map((p) => p.eventLoopDelayMs.max))
const latencies = attempts
  .filter((a) => a.ok)
  .map((a) => a.ms)
  .sort((a, b) => a - b)
const failures = attempts.filter((a) => !a.ok)
const passed = failures.length === 0 && lost === 0 && rssGrowth < MAX_RSS_GROWTH

const ms = (value: number | undefined) => (value === undefined ? 'n/a' : `${value.toFixed(1)} ms`)
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`
const report = [
  `Run ${new Date(started).toISOString()} on ${cpus().length} cores (shared with other work), Node ${process.version}: ` +
    `\`pnpm soak --agents ${agentCount} --minutes ${minutes} --svid-ttl ${flags['svid-ttl']}\` — **${passed ? 'passed' : 'FAILED'}**.`,
  '',
  markdownTable(
    ['figure', 'value'],
    [
      ['agents (one node, one connection each)', agentCount],
      ['duration, of which warm-up', `${minutes} min, ${(warmUpMs / 60_000).toFixed(1)} min`],
      ['attestations (each agent at half its SVID lifetime)', attempts.length],
      ['failed attestations', failures.length],
      ['agent records missing at the end', lost],
      ['server log lines at error level', errorLines],
      [
        'attestation latency p50 / p90 / p99 / max',
        [...[50, 90, 99].map((p) => ms(percentile(latencies, p))), ms(latencies.at(-1))].join(' / '),
      ],
      [
        'server event-loop delay p99 (median / worst 5-s interval after warm-up)',
        `${ms(percentile(loopP99s, 50))} / ${ms(loopP99s.at(-1))}`,
      ],
      ['server event-loop delay max after warm-up', ms(loopMax)],
      ['server RSS after warm-up → end (max)', `${mib(rssAtWarmUp)} → ${mib(rssAtEnd)} (${mib(rssMax)})`],
      [
        'server RSS growth after warm-up',
        `${(rssGrowth * 100).toFixed(1)} % (limit ${MAX_RSS_GROWTH * 100} %)`,
      ],
    ],
  ),
  ...(failures.length === 0
    ? []
    : [
        '',
        'First failures:',
        '',
        ...failures.slice(0, 5).map((f) => `- \`${(f.detail ?? '').replaceAll('`', "'")}\``),
      ]),
].join('\n')

process.stdout.write(`${report}\n`)
if (!flags['no-docs']) {
  writeGeneratedSection('soak', report)
  progress('figures written into docs/failure-modes.md')
}
process.exitCode = passed ? 0 : 1

function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}
