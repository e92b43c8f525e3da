import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { importCosts, SERVER_IMPORTS } from './bench/agent-memory.ts'
import { heapAllocatedDuring, heapProbe, rssMiB, SERVER_MEMORY_TARGETS } from './bench/server-memory.ts'
import { type AgentNode, startTestCluster } from './system/cluster.ts'
import { installServer, startServer } from './system/server-process.ts'

/*
 * `pnpm bench:server-memory`: the server's RSS at start, after a warm-up and after 10,000
 * attestations (16 concurrent, each on a fresh TLS connection, as pnpm bench sends them), and
 * the heap it allocates per attestation over a window after the warm-up, counted inside the
 * server process (bench/heap-allocation.preload.ts says how). `--heap-profile FILE` writes a
 * sampling heap profile of that window to FILE (a `.heapprofile` for Chrome DevTools);
 * Then what the server's largest libraries add to an empty process, one at a time.
 * `--server-node-flags "--max-semi-space-size=2 …"` adds Node options to the server process.
 */

const { values: flags } = parseArgs({
  options: {
    total: { type: 'string', default: '10000' },
    warmup: { type: 'string', default: '1000' },
    window: { type: 'string', default: '2000' },
    agents: { type: 'string', default: '64' },
    'heap-profile': { type: 'string' },
    'server-node-flags': { type: 'string', default: '' },
  },
})
const TOTAL = Number(flags.total)
const WARMUP = Number(flags.warmup)
const WINDOW = Number(flags.window)
const CONCURRENCY = 16
const say = (line = '') => process.stdout.write(`${line}\n`)

const workDir = await mkdtemp(join(tmpdir(), 'k8s-attest-server-memory-'))
const cluster = await startTestCluster()
try {
  const nodes: AgentNode[] = [...cluster.seededNodes]
  for (let index = nodes.length; index < Number(flags.agents); index++)
    nodes.push(cluster.addAgentNode(`bench-node-${index}`))
  const tokens = nodes.map((node) => cluster.issueProjectedToken(node))
  const csr = execFileSync(
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
  const probe = heapProbe(workDir, flags['heap-profile'])
  const serverFlags = (flags['server-node-flags'] ?? '').split(' ').filter((flag) => flag !== '')
  const server = await startServer(installation, {
    nodeFlags: [...serverFlags, ...probe.nodeFlags],
    env: probe.env,
  })
  const pid = server.process.pid
  const ca = await readFile(installation.bundlePath, 'utf8')
  let sent = 0
  /** `count` attestations, 16 at a time, each on a fresh TLS connection. */
  const attestations = async (count: number) => {
    const end = sent + count
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sent < end) await attest(sent++)
      }),
    )
  }
  const attest = (index: number) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({
        attestation: {
          type: 'k8s_psat',
          payload: { cluster: 'bench', token: tokens[index % tokens.length] },
        },
        csr,
      })
      const req = httpsRequest(
        `${installation.url}/v1/attest`,
        { method: 'POST', agent: false, ca, headers: { 'content-type': 'application/json' } },
        (res) => {
          res.resume()
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`attestation answered ${res.statusCode}`)),
          )
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  try {
    say(
      `server memory, ${CONCURRENCY} concurrent attestations on fresh TLS connections, Node ${process.version}`,
    )
    say(`  server RSS at start (MiB)                                  ${rssMiB(pid).toFixed(0)}`)
    await attestations(WARMUP)
    say(
      `  server RSS after ${sent} attestations (MiB)${' '.repeat(Math.max(0, 19 - String(sent).length))}${rssMiB(pid).toFixed(0)}`,
    )
    const heap = await heapAllocatedDuring(pid, probe, () => attestations(WINDOW))
    say(
      `  heap allocated per attestation, over ${WINDOW} (KB; target ≤ ${SERVER_MEMORY_TARGETS.heapKBPerAttestation})    ${(heap.allocatedBytes / WINDOW / 1000).toFixed(0)}`,
    )
    say(
      `    ${heap.collections} collections, ${(heap.gcPauseMs / WINDOW).toFixed(3)} ms of GC pause per attestation, ${(heap.liveAfterLastGcBytes / 2 ** 20).toFixed(0)} MiB live after the last`,
    )
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0)
    say(`  live heap after a full GC, after ${sent} attestations (MiB)    ${mib(heap.liveAfterFullGcBytes)}`)
    await attestations(Math.max(0, TOTAL - sent))
    const end = await heapAllocatedDuring(pid, probe, async () => {})
    say(`  live heap after a full GC, after ${sent} attestations (MiB)   ${mib(end.liveAfterFullGcBytes)}`)
    say(
      `  server RSS after ${sent} attestations (MiB; target ≤ ${SERVER_MEMORY_TARGETS.rssMiBAfter10k} after 10,000) ${rssMiB(pid).toFixed(0)}`,
    )
  } finally {
    await server.stop()
  }
  say()
  say('one import at a time, in an empty process after a full GC (RSS / heap used, MiB):')
  for (const cost of importCosts(SERVER_IMPORTS)) {
    say(
      `  ${cost.module.padEnd(40)} ${cost.rssMiB.toFixed(1).padStart(6)} ${cost.heapUsedMiB.toFixed(1).padStart(6)}`,
    )
  }
} finally {
  await cluster.stop()
  await rm(workDir, { recursive: true, force: true })
}
