import type { ConfigReloadResponse } from '@k8s-attest/core'

/**
 * A configuration reload sent to every worker of `server.workers` (SIGHUP to the primary, or
 * `POST /v1/admin/reload` through any worker), with the workers as they are at that moment:
 * some may be starting, one may die while it reloads.
 *
 * - A worker that listens reloads now, and its answer counts.
 * - A worker still starting may have read the configuration file before it changed, so it is
 *   told to reload once it listens ({@link ReloadableWorker.reloadOnceListening}, before any
 *   other worker answers: it may begin listening meanwhile); its answer is not waited for.
 * - A worker that exits before it answers did not refuse anything: the worker forked in its
 *   place reads the configuration file as it starts.
 *
 * Only a refusal by a worker that is still running is a refusal.
 */

/** One worker, as the fan-out sees it. */
export interface ReloadableWorker {
  readonly id: number
  /** Whether it listens; one still starting is reloaded once it does. */
  readonly listening: boolean
  /** Whether it is still one of the primary's workers (false once it exited). */
  isRunning(): boolean
  /** Has it re-read the configuration file. */
  reload(): Promise<ConfigReloadResponse>
  /** Has it re-read the configuration file once it listens (called only while it does not). */
  reloadOnceListening(): void
}

/** What the workers did with one reload. */
export interface ReloadFanOut {
  /** The first answer of a worker that reloaded; undefined when none listened and stayed. */
  readonly answer: ConfigReloadResponse | undefined
  /** Workers that answered. */
  readonly reloaded: number
  /** Workers still starting, told to reload once they listen. */
  readonly deferred: readonly number[]
  /** Workers that exited before they answered. */
  readonly gone: number
}

/**
 * Reloads every listening worker at once.
 * @throws the first refusal of a worker that is still running (the others may have reloaded:
 *   they all read the same file, so a refusal of its content is everyone's).
 */
export async function reloadWorkers(workers: Iterable<ReloadableWorker>): Promise<ReloadFanOut> {
  const listening: ReloadableWorker[] = []
  const deferred: number[] = []
  for (const worker of workers) {
    if (worker.listening) listening.push(worker)
    else {
      worker.reloadOnceListening()
      deferred.push(worker.id)
    }
  }
  const outcomes = await Promise.allSettled(listening.map((worker) => worker.reload()))
  let answer: ConfigReloadResponse | undefined
  let reloaded = 0
  let gone = 0
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome.status === 'fulfilled') {
      reloaded++
      answer ??= outcome.value
    } else if (listening[index]?.isRunning() === false) {
      gone++
    } else {
      throw outcome.reason
    }
  }
  return { answer, reloaded, deferred, gone }
}
