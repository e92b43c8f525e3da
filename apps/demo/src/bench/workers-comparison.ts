import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { PsatClusterSpec } from '../system/server-config.ts'
import { installServer, startServer } from '../system/server-process.ts'
import type { AttestLoad } from './attest-load-thread.ts'

/** What {@link compareWorkers} needs from the bench: a cluster to attest against, and where to write. */
export interface WorkersComparisonOptions {
  /** A directory of its own; one server installation per run goes below it. */
  readonly dir: string
  readonly trustDomain: string
  readonly psatCluster: PsatClusterSpec
  /** A request body per index: a k8s_psat attestation of one of the bench's agent pods. */
  readonly attestBody: (index: number) => string
  /** How many distinct bodies to send (one per agent pod). */
  readonly bodies: number
  /** Attestations per measured series. */
  readonly requests: number
  /** Attestations per worker before measuring (JIT, caches, the informers' lists): each worker warms up alike. */
  readonly warmup: number
  /** Concurrent clients. */
  readonly concurrency: number
  /** Prints one figure. */
  readonly record: (name: string, value: string) => void
}

/** One run's figures. */
export interface WorkersRun {
  readonly workers: number
  readonly perSecond: number
  /** Server CPU, the primary and every worker summed, per attestation. */
  readonly cpuMsPerAttestation: number
}

/** The target issue 11 sets: two workers serve at least 1.3 × the attestations of one. */
export const TWO_WORKERS_TARGET = 1.3

const CLOCK_TICKS_PER_SECOND = 100

/**
 * "Two workers vs one": the same series of attestations, each on a fresh TLS connection, against
 * a server with `workers = 1` and then a fresh one with `workers = 2`, in the same run. Prints
 * attestations per second and server CPU per attestation for each, and the throughput ratio
 * against {@link TWO_WORKERS_TARGET}. CPU is utime + stime from /proc of the server process and
 * of its children (the workers), so the primary's share of the round-robin hand-off is counted.
 *
 * On a machine with as few cores as workers, the load generator and the test API compete with
 * the workers for them: the ratio then understates what two workers give on a host of their own.
 */
export async function compareWorkers(options: WorkersComparisonOptions): Promise<readonly WorkersRun[]> {
  const runs: WorkersRun[] = []
  const bodies = Array.from({ length: options.bodies }, (_, index) => options.attestBody(index))
  for (const workers of [1, 2]) {
    const installation = await installServer({
      dir: join(options.dir, `workers-${workers}`),
      trustDomain: options.trustDomain,
      agentTtl: '1h',
      psatClusters: [options.psatCluster],
      workers,
    })
    // Two workers load the server's modules side by side: on a busy machine that takes a while.
    const server = await startServer(installation, { readyTimeoutMs: 120_000 })
    try {
      const ca = await readFile(installation.bundlePath, 'utf8')
      const load = (count: number) =>
        loadOnThreads({ url: installation.url, ca, bodies, count, concurrency: options.concurrency })
      await load(options.warmup * workers)
      const pid = server.process.pid
      const cpuBefore = treeCpuTicks(pid)
      const primaryBefore = cpuTicks(pid)
      const benchBefore = process.cpuUsage()
      const started = performance.now()
      await load(options.requests)
      const seconds = (performance.now() - started) / 1000
      const bench = process.cpuUsage(benchBefore)
      const msPerAttestation = (ticks: number) => (ticks * 1000) / CLOCK_TICKS_PER_SECOND / options.requests
      const run = {
        workers,
        perSecond: options.requests / seconds,
        cpuMsPerAttestation: msPerAttestation(treeCpuTicks(pid) - cpuBefore),
      }
      runs.push(run)
      options.record(
        `  workers = ${workers}: attestations/s, server CPU per attestation (ms)`,
        `${run.perSecond.toFixed(0)}/s, ${run.cpuMsPerAttestation.toFixed(2)}`,
      )
      // This process: the load threads and the test API. With the server's, how many cores were busy.
      const benchCpuSeconds = (bench.user + bench.system) / 1e6
      const serverCpuSeconds = (run.cpuMsPerAttestation * options.requests) / 1000
      options.record(
        `  workers = ${workers}: cores busy, server + load + test API (of ${availableParallelism()})`,
        `${(serverCpuSeconds / seconds).toFixed(2)} + ${(benchCpuSeconds / seconds).toFixed(2)}`,
      )
      if (workers > 1) {
        // The primary accepts every connection and hands it to a worker over IPC (round-robin).
        options.record(
          `  workers = ${workers}: of which the primary (ms)`,
          msPerAttestation(cpuTicks(pid) - primaryBefore).toFixed(2),
        )
      }
    } finally {
      await server.stop()
    }
  }
  const [one, two] = runs
  if (one !== undefined && two !== undefined) {
    options.record(
      `  two workers / one, attestations/s (target ≥ ${TWO_WORKERS_TARGET})`,
      `${(two.perSecond / one.perSecond).toFixed(2)}×`,
    )
  }
  return runs
}

/** Threads the load runs on: the main thread serves the test API. */
const LOAD_THREADS = 2

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

/** utime + stime of `pid` and of its live children, in clock ticks (/proc/<pid>/stat fields 14, 15). */
function treeCpuTicks(pid: number): number {
  return [pid, ...childrenOf(pid)].reduce((sum, id) => sum + cpuTicks(id), 0)
}

/** The children of every thread of `pid` (/proc/<pid>/task/<tid>/children). */
function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
    readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
      .split(' ')
      .filter((id) => id !== '')
      .map(Number),
  )
}

function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    // A worker that exited between the listing and the read: its CPU is in the parent's cutime
    // only once reaped, so it is lost here; the runs restart none.
    return 0
  }
}
