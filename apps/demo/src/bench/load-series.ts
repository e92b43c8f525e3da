import { request as httpsRequest } from 'node:https'
import { cpuTicks, ticksToMs } from './process-stats.ts'

/** Latencies and throughput of one series, and the server's CPU over it. */
export interface SeriesResult {
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
  /** The server process's CPU (utime + stime) over the series, divided by the requests. */
  readonly cpuMsPerRequest: number
}

/**
 * `count` requests, `concurrency` at a time; `run` resolves one request's latency (ms).
 * `serverPid`'s CPU time is read before and after.
 */
export async function runSeries(
  count: number,
  concurrency: number,
  serverPid: number,
  run: (index: number) => Promise<number>,
): Promise<SeriesResult> {
  const latencies: number[] = []
  let next = 0
  const cpuBefore = cpuTicks(serverPid)
  const started = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) latencies.push(await run(next++))
    }),
  )
  const seconds = (performance.now() - started) / 1000
  const cpuMs = ticksToMs(cpuTicks(serverPid) - cpuBefore)
  latencies.sort((a, b) => a - b)
  return {
    perSecond: count / seconds,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    cpuMsPerRequest: cpuMs / count,
  }
}

/** The `q` quantile of sorted `values` (nearest rank); 0 for none. */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
}

/** An answer of {@link FreshTlsClient.send}. */
export interface TimedResponse {
  readonly ms: number
  readonly body: string
}

/**
 * HTTPS requests to the server, each on a connection of its own (no keep-alive, no session
 * resumption), as an agent attesting at half its SVID lifetime or one CLI call pays.
 */
export class FreshTlsClient {
  readonly #url: string
  readonly #ca: string

  /** `url` is the server's `https://host:port`; `ca` the PEM bundle it is trusted by. */
  constructor(url: string, ca: string) {
    this.#url = url
    this.#ca = ca
  }

  /** One request; its latency in ms. Rejects unless the answer is 200. */
  async time(method: 'GET' | 'POST', path: string, body?: string, headers: Record<string, string> = {}) {
    return (await this.send(method, path, body, headers)).ms
  }

  /** One request; its latency in ms and the answer's body. Rejects unless the answer is 200. */
  send(
    method: 'GET' | 'POST',
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<TimedResponse> {
    const started = performance.now()
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        `${this.#url}${path}`,
        {
          method,
          agent: false,
          ca: this.#ca,
          headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            if (res.statusCode !== 200)
              reject(new Error(`${method} ${path} answered ${res.statusCode}: ${text.slice(0, 300)}`))
            else resolve({ ms: performance.now() - started, body: text })
          })
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  }
}
