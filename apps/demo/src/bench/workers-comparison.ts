import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { AttestLoad } from './attest-load-thread.ts'
import { agentCsrPem, psatAttestBody } from './attestation-figures.ts'
import type { BenchContext } from './bench-context.ts'
import { startBenchServer } from './bench-server.ts'
import { atLeastTarget } from './figures.ts'
import { cpuTicks, ticksToMs, treeCpuTicks } from './process-stats.ts'

/** The target issue 11 sets: two workers serve at least 1.3 × the attestations of one. */
export const TWO_WORKERS_TARGET = 1.3

/** Concurrent clients: c64, where one process comes closest to saturating its core. */
const CONCURRENCY = 64

/** Threads the load runs on: the main thread serves the test API. */
const LOAD_THREADS = 2

/** One run's figures. */
export interface WorkersRun {
  readonly workers: number
  readonly perSecond: number
  /** Server CPU, the primary and every worker summed, per attestation. */
  readonly cpuMsPerAttestation: number
}

/**
 * "Two workers vs one": the same series of attestations, each on a fresh TLS connection, against
 * a server with `workers = 1` and then a fresh one with `workers = 2`, in the same run. Prints
 * attestations per second and server CPU per attestation for each, and the throughput ratio
 * against {@link TWO_WORKERS_TARGET}. CPU is utime + stime from /proc of the server process and
 * of its children (the workers), so the primary's share of the round-robin hand-off is counted.
 *
 * On a machine with as few cores as workers, the load generator and the test API compete with
 * the workers for them: the ratio then understates what two workers give on a host of their own,
 * which is why the cores each side kept busy are printed too.
 */
export async function compareWorkers(context: BenchContext): Promise<readonly WorkersRun[]> {
  const { options, figures, cluster, workDir } = context
  const csrPem = await agentCsrPem()
  const bodies = cluster.tokens.map((_, index) => psatAttestBody(cluster, csrPem, index))
  const runs: WorkersRun[] = []
  figures.say(`two workers vs one (c${CONCURRENCY}):`)
  for (const workers of [1, 2]) {
    // Two workers load the server's modules side by side: on a busy machine that takes a while.
    const server = await startBenchServer(join(workDir, `workers-${workers}`), cluster.cluster, {
      workers,
      readyTimeoutMs: 120_000,
      serverProcess: options,
    })
    try {
      const ca = await readFile(server.installation.bundlePath, 'utf8')
      const load = (count: number) =>
        loadOnThreads({ url: server.installation.url, ca, bodies, count, concurrency: CONCURRENCY })
      // Each worker warms up alike (JIT, caches, the informers' lists).
      await load(options.warmup * workers)
      const { pid } = server
      const cpuBefore = treeCpuTicks(pid)
      const primaryBefore = cpuTicks(pid)
      const benchBefore = process.cpuUsage()
      const started = performance.now()
      await load(options.requests)
      const seconds = (performance.now() - started) / 1000
      const bench = process.cpuUsage(benchBefore)
      const msPerAttestation = (ticks: number) => ticksToMs(ticks) / options.requests
      const run = {
        workers,
        perSecond: options.requests / seconds,
        cpuMsPerAttestation: msPerAttestation(treeCpuTicks(pid) - cpuBefore),
      }
      runs.push(run)
      figures.record(
        `  workers = ${workers}: attestations/s, server CPU each (ms)`,
        `${run.perSecond.toFixed(0)}/s, ${run.cpuMsPerAttestation.toFixed(2)}`,
      )
      // This process: the load threads and the test API. With the server's, how many cores were busy.
      const benchCpuSeconds = (bench.user + bench.system) / 1e6
      const serverCpuSeconds = (run.cpuMsPerAttestation * options.requests) / 1000
      figures.record(
        `  workers = ${workers}: cores busy, server + bench (of ${availableParallelism()})`,
        `${(serverCpuSeconds / seconds).toFixed(2)} + ${(benchCpuSeconds / seconds).toFixed(2)}`,
      )
      if (workers > 1) {
        // The primary accepts every connection and hands it to a worker over IPC (round-robin).
        figures.record(
          `  workers = ${workers}: of which the primary (ms)`,
          msPerAttestation(cpuTicks(pid) - primaryBefore).toFixed(2),
        )
      }
    } finally {
      await server.server.stop()
    }
  }
  const [one, two] = runs
  if (one !== undefined && two !== undefined) {
    figures.record(
      '  two workers / one, attestations/s',
      atLeastTarget(two.perSecond / one.perSecond, TWO_WORKERS_TARGET, '×'),
    )
  }
  return runs
}

/** `count` attestations split over {@link LOAD_THREADS} threads, `concurrency` in all. */
async function loadOnThreads(options: Omit<AttestLoad, 'offset'>): Promise<void> {
  const share = Math.ceil(options.count / LOAD_THREADS)
  await Promise.all(
    Array.from({ length: LOAD_THREADS }, async (_, thread) => {
      const count = Math.max(0, Math.min(share, options.count - thread * share))
      const workerData: AttestLoad = {
        ...options,
        offset: thread * share,
        count,
        concurrency: Math.max(1, Math.round(options.concurrency / LOAD_THREADS)),
      }
      const worker = new Worker(new URL('./attest-load-thread.ts', import.meta.url), { workerData })
      const [message] = (await Promise.race([
        once(worker, 'message'),
        once(worker, 'error').then(([error]) => Promise.reject(error)),
      ])) as unknown[]
      await worker.terminate()
      if (message !== 'done') throw new Error(`the load thread answered ${String(message)}`)
    }),
  )
}
