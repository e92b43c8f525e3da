import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { request as httpsRequest } from 'node:https'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { compareWorkers } from './bench/workers-comparison.ts'
import { installAgent, startAgent } from './system/agent-process.ts'
import { type AgentNode, startTestCluster } from './system/cluster.ts'
import { installServer, startServer } from './system/server-process.ts'

/*
 * `pnpm bench`: the performance figures of issue 11, printed in one run (a script that prints
 * figures, not a test). The server runs as its own process (the real CLI) against the embedded
 * Kubernetes test API; its CPU comes from /proc/<pid>/stat, so the load generator's own cost
 * (a Node TLS client pays more per handshake than the server) is not counted. Every request
 * opens a fresh TLS connection, as an agent attesting at half its SVID lifetime does, and the
 * headline is a ratio against a bare route measured the same way in the same run.
 */

const { values: flags } = parseArgs({
  options: {
    requests: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '1000' },
    agents: { type: 'string', default: '64' },
  },
})
const REQUESTS = Number(flags.requests)
const WARMUP = Number(flags.warmup)
const AGENT_PODS = Number(flags.agents)
const CONCURRENCY = [1, 16, 64] as const
const CLOCK_TICKS_PER_SECOND = 100

const say = (line = '') => process.stdout.write(`${line}\n`)

const workDir = await mkdtemp(join(tmpdir(), 'k8s-attest-bench-'))
const cluster = await startTestCluster()
const nodes: AgentNode[] = [...cluster.seededNodes]
for (let index = nodes.length; index < AGENT_PODS; index++)
  nodes.push(cluster.addAgentNode(`bench-node-${index}`))
const tokens = nodes.map((node) => cluster.issueProjectedToken(node))
const csrPem = execFileSync(
  'openssl',
  [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    '/dev/null',
    '-subj',
    '/CN=bench',
  ],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
)
const installation = await installServer({
  dir: join(workDir, 'server'),
  trustDomain: 'bench.k8s-attest.test',
  agentTtl: '1h',
  psatClusters: [
    { name: 'bench', kubeconfigPath: await cluster.writeServerKubeconfig(join(workDir, 'kubeconfig')) },
  ],
})
const server = await startServer(installation)
const pid = server.process.pid
const ca = await readFile(installation.bundlePath, 'utf8')
const figures: [string, string][] = []
const record = (name: string, value: string) => {
  figures.push([name, value])
  say(`  ${name.padEnd(58)} ${value}`)
}

try {
  say(
    `k8s-attest bench: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  )
  say(
    `${REQUESTS} requests per series, each on a fresh TLS connection; ${WARMUP} warm-up attestations; ${AGENT_PODS} agent pods`,
  )
  say()
  record('server RSS at start (MiB)', (rssKiB(pid) / 1024).toFixed(0))

  const attestBody = (index: number) =>
    JSON.stringify({
      attestation: { type: 'k8s_psat', payload: { cluster: 'bench', token: tokens[index % tokens.length] } },
      csr: csrPem,
    })
  const attest = (index: number) => send('POST', '/v1/attest', attestBody(index))
  const bare = () => send('GET', '/live')

  const first = await attest(0)
  record('first attestation after start (ms)', first.toFixed(1))

  await series(WARMUP, 16, attest)
  record(`server RSS after ${WARMUP + 1} attestations (MiB)`, (rssKiB(pid) / 1024).toFixed(0))

  let warmP50 = 0
  for (const concurrency of CONCURRENCY) {
    cluster.api.counters.reset()
    const bareRun = await series(REQUESTS, concurrency, bare)
    const run = await series(REQUESTS, concurrency, attest)
    const calls = cluster.api.counters
    const apiCalls =
      calls.requests({ verb: 'create' }) + calls.requests({ verb: 'get' }) + calls.requests({ verb: 'list' })
    say(`c${concurrency}:`)
    record(
      `  attestations/s, p50 / p99 (ms)`,
      `${run.perSecond.toFixed(0)}/s, ${run.p50.toFixed(1)} / ${run.p99.toFixed(1)}`,
    )
    record(`  server CPU per attestation (ms)`, run.cpuMsPerRequest.toFixed(2))
    record(`  server CPU per bare GET /live, fresh TLS (ms)`, bareRun.cpuMsPerRequest.toFixed(2))
    record(`  ratio (target ≤ 2.5)`, `${(run.cpuMsPerRequest / bareRun.cpuMsPerRequest).toFixed(2)}×`)
    record(`  Kubernetes API calls per attestation (target ≤ 1)`, (apiCalls / REQUESTS).toFixed(2))
    record(`  connections opened to the API server`, String(calls.tlsConnections))
    if (concurrency === 64) record(`  p99 / p50 (target ≤ 3)`, `${(run.p99 / run.p50).toFixed(2)}×`)
    if (concurrency === 1) warmP50 = run.p50
  }
  record('first attestation / warm p50 at c1 (target ≤ 3)', `${(first / warmP50).toFixed(2)}×`)
  record('server RSS after the runs (MiB)', (rssKiB(pid) / 1024).toFixed(0))

  const node = nodes[0] as AgentNode
  const agentInstall = await installAgent({
    dir: join(workDir, 'agent'),
    trustDomain: 'bench.k8s-attest.test',
    serverPort: installation.port,
    trustBundlePath: installation.bundlePath,
    attestor: 'k8s_psat',
    cluster: 'bench',
    token: cluster.issueProjectedToken(node),
  })
  const agent = await startAgent(agentInstall)
  try {
    await agent.waitForLog((entry) => entry.msg === 'SVID obtained', 'the agent to attest')
    record('agent RSS once attested, idle (MiB; target ≤ 50)', (rssKiB(agent.process.pid) / 1024).toFixed(0))
  } finally {
    await agent.stop()
  }
  say('two workers vs one (c64):')
  await compareWorkers({
    dir: join(workDir, 'workers'),
    trustDomain: 'bench.k8s-attest.test',
    psatCluster: { name: 'bench', kubeconfigPath: join(workDir, 'kubeconfig') },
    attestBody,
    bodies: tokens.length,
    requests: REQUESTS,
    warmup: WARMUP,
    concurrency: 64,
    record,
  })
  say()
  say('not measured by this script yet: JWKS mode, heap allocated per attestation,')
  say('`agent list` over 100,000 agents, --kubeconfig for a real cluster (see docs/performance.md)')
} finally {
  await server.stop()
  await cluster.stop()
  await rm(workDir, { recursive: true, force: true })
}

interface SeriesResult {
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
  readonly cpuMsPerRequest: number
}

/** `count` requests, `concurrency` at a time; latencies, throughput and the server's CPU. */
async function series(
  count: number,
  concurrency: number,
  run: (index: number) => Promise<number>,
): Promise<SeriesResult> {
  const latencies: number[] = []
  let next = 0
  const cpuBefore = cpuTicks(pid)
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) latencies.push(await run(next++))
    }),
  )
  const seconds = (performance.now() - started) / 1000
  const cpuMs = ((cpuTicks(pid) - cpuBefore) * 1000) / CLOCK_TICKS_PER_SECOND
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0
  return { perSecond: count / seconds, p50: at(0.5), p99: at(0.99), cpuMsPerRequest: cpuMs / count }
}

/** One request on a connection of its own (no keep-alive, no session resumption); its latency in ms. */
function send(method: 'GET' | 'POST', path: string, body?: string): Promise<number> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${installation.url}${path}`,
      {
        method,
        agent: false,
        ca,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume()
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${method} ${path} answered ${res.statusCode}`))
          else resolve(performance.now() - started)
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
function cpuTicks(processId: number): number {
  const stat = readFileSync(`/proc/${processId}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

/** VmRSS of a process, KiB. */
function rssKiB(processId: number): number {
  const status = readFileSync(`/proc/${processId}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN)
}
