import fc from 'fast-check'
import type { App } from '../../src/app.ts'
import { fuzzViolation } from './fuzz-oracle.ts'
import { type FuzzRequest, type FuzzSeeds, fuzzRequestArbitrary } from './fuzz-requests.ts'

/** Options of {@link runInjectFuzz}. */
export interface InjectFuzzOptions {
  readonly app: App
  readonly seeds: FuzzSeeds
  readonly cases: number
  /** fast-check seed; the same seed replays the same cases. */
  readonly seed: number
  /**
   * Cases before the "before" RSS is taken (the heap and caches warm up first; measured flat
   * from about 10,000 on). Default 10 % of `cases`, at most 50,000.
   */
  readonly warmUpCases?: number
  /** Called every `progressEvery` cases (the large run prints a line). */
  readonly onProgress?: (done: number) => void
  readonly progressEvery?: number
  /**
   * `throw` (default): stop at the first violation, shrink it, throw. `collect`: keep going and
   * report each kind of violation with its first example (the large run's survey mode).
   */
  readonly onViolation?: 'throw' | 'collect'
  /** Stop after this long even if fewer cases ran (a shared machine's time budget). */
  readonly timeLimitMs?: number
}

/** What a fuzz run did, for the printed figures. */
export interface FuzzFigures {
  readonly cases: number
  readonly seed: number
  /** Answers by HTTP status. */
  readonly byStatus: Readonly<Record<string, number>>
  /** Answers by status, per generator family. */
  readonly byFamily: Readonly<Record<string, Readonly<Record<string, number>>>>
  readonly warmUpCases: number
  /**
   * Resident set size after warm-up and at the end, in bytes (after a GC when `--expose-gc`);
   * `NaN` after warm-up when the run stopped before it.
   */
  readonly rssAfterWarmUp: number
  readonly rssAtEnd: number
  readonly seconds: number
  /** In `collect` mode: each kind of violation, how often, and its first example. */
  readonly violations: Readonly<Record<string, { count: number; example: string }>>
}

/**
 * Sends `cases` generated requests to the app with `inject()` and checks every answer with
 * {@link fuzzViolation}. On the first violation fast-check shrinks it to the smallest request
 * that still shows it and throws with the seed and path to replay it.
 */
export async function runInjectFuzz(options: InjectFuzzOptions): Promise<FuzzFigures> {
  const { app, seeds, cases, seed } = options
  const warmUpCases = options.warmUpCases ?? Math.min(Math.floor(cases / 10), 50_000)
  const byStatus: Record<string, number> = {}
  const byFamily: Record<string, Record<string, number>> = {}
  let done = 0
  let rssAfterWarmUp = 0
  const violations: Record<string, { count: number; example: string }> = {}
  const started = performance.now()
  const property = fc.asyncProperty(fuzzRequestArbitrary(seeds), async (request: FuzzRequest) => {
    const response = await app.inject({
      method: request.method,
      url: request.url,
      headers: request.headers,
      ...(request.body === undefined ? {} : { payload: request.body }),
    })
    const violation = fuzzViolation(request, response, seeds)
    if (violation !== undefined) {
      const report = `${violation}\n  request: ${describe(request)}\n  answer: ${response.body.slice(0, 600)}`
      if (options.onViolation !== 'collect') throw new Error(report)
      const kind = violation.replace(/\d+ characters/, 'N characters')
      const entry = violations[kind] ?? { count: 0, example: report }
      violations[kind] = { ...entry, count: entry.count + 1 }
    }
    const status = String(response.statusCode)
    byStatus[status] = (byStatus[status] ?? 0) + 1
    const family = byFamily[request.family] ?? {}
    byFamily[request.family] = family
    family[status] = (family[status] ?? 0) + 1
    done++
    if (done === warmUpCases) rssAfterWarmUp = settledRss()
    if (options.onProgress !== undefined && done % (options.progressEvery ?? 50_000) === 0)
      options.onProgress(done)
  })
  await fc.assert(property, {
    numRuns: cases,
    seed,
    endOnFailure: false,
    ...(options.timeLimitMs === undefined
      ? {}
      : { interruptAfterTimeLimit: options.timeLimitMs, markInterruptAsFailure: false }),
  })
  // Fewer cases than the warm-up (a time budget ran out): no RSS trend to speak of.
  if (rssAfterWarmUp === 0) rssAfterWarmUp = Number.NaN
  return {
    cases: done,
    seed,
    byStatus,
    byFamily,
    warmUpCases,
    rssAfterWarmUp,
    rssAtEnd: settledRss(),
    seconds: (performance.now() - started) / 1000,
    violations,
  }
}

/** RSS after a full GC when the process allows one, so that garbage not yet collected is not counted. */
export function settledRss(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  return process.memoryUsage().rss
}

function describe(request: FuzzRequest): string {
  const body =
    request.body === undefined
      ? ''
      : typeof request.body === 'string'
        ? ` body ${JSON.stringify(request.body.slice(0, 400))}`
        : ` body <${request.body.length} bytes> ${request.body.subarray(0, 200).toString('hex')}`
  return `${request.family} ${request.method} ${request.url.slice(0, 300)} headers ${JSON.stringify(request.headers).slice(0, 300)}${body}`
}
