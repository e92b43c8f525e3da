/**
 * Loaded into a server process by `pnpm soak` (`NODE_OPTIONS=--import …`), never by production
 * code: every `K8S_ATTEST_PROBE_INTERVAL_MS` (default 5 s) it appends one JSON line to the file
 * named by `K8S_ATTEST_PROBE_FILE` with the process's RSS and the event-loop delay percentiles
 * of the interval just ended (then resets the histogram), so the soak reads the server's own
 * figures without the server exposing them.
 */
import { appendFileSync } from 'node:fs'
import { monitorEventLoopDelay } from 'node:perf_hooks'

const file = process.env.K8S_ATTEST_PROBE_FILE
if (file !== undefined && file !== '') {
  const intervalMs = Number(process.env.K8S_ATTEST_PROBE_INTERVAL_MS ?? 5000)
  const delay = monitorEventLoopDelay({ resolution: 10 })
  delay.enable()
  setInterval(() => {
    const sample = {
      at: Date.now(),
      rss: process.memoryUsage().rss,
      heapUsed: process.memoryUsage().heapUsed,
      eventLoopDelayMs: {
        p50: delay.percentile(50) / 1e6,
        p99: delay.percentile(99) / 1e6,
        max: delay.max / 1e6,
      },
    }
    delay.reset()
    appendFileSync(file, `${JSON.stringify(sample)}\n`)
  }, intervalMs).unref()
}
