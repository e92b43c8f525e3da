/**
 * Loaded with `node --import` into the server process by the benchmark (never by the server
 * itself): counts the bytes the process allocates on the V8 heap between two SIGWINCH signals.
 *
 * V8 exposes no running total of allocated bytes, and `process.memoryUsage()` is what is live,
 * not what was allocated. Over a window, though, every allocated byte is either still in use at
 * its end or was freed by a collection in between, so
 *
 *     allocated = (used heap at the end − used heap at the start)
 *               + Σ over the window's collections (used heap before − used heap after)
 *
 * with `v8.GCProfiler` reporting the used heap before and after each collection. Counted so,
 * an object promoted from the young generation is counted once, when allocated. The profiler
 * adds no cost to allocation itself, only a record per collection.
 *
 * Signalled with SIGWINCH, which a daemon without a terminal never receives otherwise and whose
 * default action is to ignore it (SIGUSR2 would not do: the server's close-with-grace shuts the
 * server down on it; SIGUSR1 starts Node's inspector). The first SIGWINCH opens the window; the second closes it and writes
 * `{ "allocatedBytes", "collections", "gcPauseMs", "liveAfterLastGcBytes", "liveAfterFullGcBytes" }`
 * (the used heap after the window's last collection, and after a full one when the server runs
 * with `--expose-gc`) to the file `K8S_ATTEST_BENCH_HEAP_REPORT`
 * names. With `K8S_ATTEST_BENCH_HEAP_PROFILE` set, the first window also runs V8's sampling heap
 * profiler (every 32 KiB allocated on average, objects collected meanwhile included) and writes
 * a `.heapprofile` there (Chrome DevTools opens it), to see which code allocates.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { GCProfiler, getHeapStatistics } from 'node:v8'

const reportPath = process.env.K8S_ATTEST_BENCH_HEAP_REPORT
if (reportPath === undefined) throw new Error('heap-allocation.preload: set K8S_ATTEST_BENCH_HEAP_REPORT')

const profilePath = process.env.K8S_ATTEST_BENCH_HEAP_PROFILE
// Only the first window is profiled: a later one (the benchmark's closing read of the live
// heap) would overwrite the profile with an empty one.
let inspector: Session | undefined
if (profilePath !== undefined) {
  inspector = new Session()
  inspector.connect()
}

let window: { readonly profiler: GCProfiler; readonly usedAtStart: number } | undefined
process.on('SIGWINCH', () => {
  if (window === undefined) {
    inspector?.post('HeapProfiler.startSampling', {
      samplingInterval: 32 * 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    })
    const profiler = new GCProfiler()
    profiler.start()
    window = { profiler, usedAtStart: getHeapStatistics().used_heap_size }
    return
  }
  const usedAtEnd = getHeapStatistics().used_heap_size
  const { statistics } = window.profiler.stop() ?? { statistics: [] }
  let freed = 0
  let pauseUs = 0
  let liveAfterLastGc = Number.NaN
  for (const gc of statistics) {
    freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize
    pauseUs += gc.cost
    liveAfterLastGc = gc.afterGC.heapStatistics.usedHeapSize
  }
  // With --expose-gc, a full collection after the count: what is really live (a leak shows
  // here as growth from one window to the next; the used heap after a scavenge still holds
  // old-generation garbage).
  let liveAfterFullGc = Number.NaN
  if (typeof globalThis.gc === 'function') {
    globalThis.gc()
    liveAfterFullGc = getHeapStatistics().used_heap_size
  }
  const report = {
    allocatedBytes: usedAtEnd - window.usedAtStart + freed,
    collections: statistics.length,
    gcPauseMs: pauseUs / 1000,
    liveAfterLastGcBytes: liveAfterLastGc,
    liveAfterFullGcBytes: liveAfterFullGc,
  }
  window = undefined
  const profiling = inspector
  if (profiling === undefined || profilePath === undefined) {
    writeFileSync(reportPath, JSON.stringify(report))
    return
  }
  inspector = undefined
  profiling.post('HeapProfiler.stopSampling', (error, result) => {
    if (error === null) writeFileSync(profilePath, JSON.stringify(result.profile))
    writeFileSync(reportPath, JSON.stringify(report))
  })
})
