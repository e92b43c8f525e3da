import { readFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'

/*
 * Load for `pnpm bench` series that run against a server of their own: requests on fresh TLS
 * connections (as an agent attesting at half its SVID lifetime pays), and the server process's
 * CPU over a series from /proc/<pid>/stat, so the load generator's cost is not counted. The
 * same method as bench.ts's main series, so their figures compare.
 */

const CLOCK_TICKS_PER_SECOND = 100

/** What one series measured. */
export interface SeriesResult {
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
  readonly cpuMsPerRequest: number
}

/** `count` requests, `concurrency` at a time; latencies, throughput and the CPU of process `pid`. */
export async function series(
  pid: number,
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

/**
 * One request to `url` on a connection of its own (no keep-alive, no session resumption),
 * trusting `ca`; resolves with its latency in ms, rejects on any status but 200.
 */
export function sendFresh(url: string, ca: string, method: 'GET' | 'POST', body?: string): Promise<number> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method, agent: false, ca, headers: body === undefined ? {} : { 'content-type': 'application/json' } },
      (res) => {
        res.resume()
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${method} ${url} answered ${res.statusCode}`))
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
