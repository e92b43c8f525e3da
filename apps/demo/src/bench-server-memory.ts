import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { importCosts, printImportCosts, SERVER_IMPORTS } from './bench/agent-memory.ts'
import { agentCsrPem, psatAttestations } from './bench/attestation-figures.ts'
import { openBenchCluster } from './bench/bench-cluster.ts'
import { startBenchServer } from './bench/bench-server.ts'
import { benchOptionsOrExit, serverProcessHeader } from './bench/command-line.ts'
import { againstTarget, Figures } from './bench/figures.ts'
import { runSeries } from './bench/load-series.ts'
import { rssMiB } from './bench/process-stats.ts'
import { heapAllocatedDuring, heapProbe, SERVER_MEMORY_TARGETS } from './bench/server-memory.ts'
import { parseServerMemoryOptions, SERVER_MEMORY_USAGE } from './bench/server-memory-options.ts'

/*
 * `pnpm bench:server-memory`: the server's RSS at start, after a warm-up and after 10,000
 * attestations (16 concurrent, each on a fresh TLS connection, as pnpm bench sends them), and
 * the heap it allocates per attestation over a window after the warm-up, counted inside the
 * server process (bench/heap-allocation.preload.ts says how). `--heap-profile FILE` writes a
 * sampling heap profile of that window to FILE (a `.heapprofile` for Chrome DevTools).
 * `--server-v8-flags="--max-semi-space-size=4 …"` runs the server with those V8 options instead
 * of the image's, `--server-code built|source` runs the workspace build or the sources instead
 * of the image's bundle; `--help` lists
 * every flag (bench/server-memory-options.ts).
 * Then what the server's largest libraries add to an empty process, one at a time.
 */

const options = benchOptionsOrExit('pnpm bench:server-memory', SERVER_MEMORY_USAGE, parseServerMemoryOptions)
const { total: TOTAL, warmup: WARMUP, window: WINDOW } = options
const CONCURRENCY = 16

const figures = new Figures()
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0)
const workDir = await mkdtemp(join(tmpdir(), 'k8s-attest-server-memory-'))
try {
  const cluster = await openBenchCluster({ agents: options.agents }, (line) => figures.say(line))
  try {
    const probe = heapProbe(workDir, options.heapProfile)
    const server = await startBenchServer(join(workDir, 'server'), cluster.cluster, {
      serverProcess: options,
      nodeFlags: probe.nodeFlags,
      env: probe.env,
    })
    const { pid } = server
    const attest = psatAttestations(server, cluster, await agentCsrPem())
    let sent = 0
    /** `count` attestations, 16 at a time, each on a fresh TLS connection. */
    const attestations = async (count: number) => {
      await runSeries(count, CONCURRENCY, pid, (index) => attest(sent + index))
      sent += count
    }
    try {
      figures.say(
        `server memory, ${CONCURRENCY} concurrent attestations on fresh TLS connections, Node ${process.version}`,
      )
      figures.say(serverProcessHeader(options))
      figures.record('server RSS at start (MiB)', rssMiB(pid).toFixed(0))
      await attestations(WARMUP)
      figures.record(`server RSS after ${sent} attestations (MiB)`, rssMiB(pid).toFixed(0))
      const heap = await heapAllocatedDuring(pid, probe, () => attestations(WINDOW))
      figures.record(
        `heap allocated per attestation, over ${WINDOW} (KB)`,
        againstTarget(heap.allocatedBytes / WINDOW / 1000, SERVER_MEMORY_TARGETS.heapKBPerAttestation, ' KB'),
      )
      figures.record(
        '  collections, GC pause per attestation, live after the last',
        `${heap.collections}, ${(heap.gcPauseMs / WINDOW).toFixed(3)} ms, ${mib(heap.liveAfterLastGcBytes)} MiB`,
      )
      figures.record(
        `live heap after a full GC, after ${sent} attestations (MiB)`,
        mib(heap.liveAfterFullGcBytes),
      )
      await attestations(Math.max(0, TOTAL - sent))
      const end = await heapAllocatedDuring(pid, probe, async () => {})
      figures.record(
        `live heap after a full GC, after ${sent} attestations (MiB)`,
        mib(end.liveAfterFullGcBytes),
      )
      figures.record(
        `server RSS after ${sent} attestations (MiB)`,
        sent >= 10_000
          ? againstTarget(rssMiB(pid), SERVER_MEMORY_TARGETS.rssMiBAfter10k, ' MiB')
          : rssMiB(pid).toFixed(0),
      )
    } finally {
      await server.server.stop()
    }
  } finally {
    await cluster.cluster.stop()
  }
  figures.say()
  printImportCosts(figures, importCosts(SERVER_IMPORTS))
} finally {
  await rm(workDir, { recursive: true, force: true })
}
