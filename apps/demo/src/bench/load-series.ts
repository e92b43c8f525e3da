import { request as httpsRequest } from 'node:https'
import { cpuMsBetween, readCpu } from './process-stats.ts'

/** Latencies and throughput of one series, and the server's CPU over it. */
export interface SeriesResult {
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
  /** The server process's CPU over the series (`cpuMsBetween`), divided by the requests. */
  readonly cpuMsPerRequest: number
}

/**
 * `count` requests, `concurrency` at a time; `run` resolves one request's latency (ms), and is
 * given the indices 0 to `count` - 1. `serverPid`'s CPU time is read before and after.
 */
export async function runSeries(
  count: number,
  concurrency: number,
  serverPid: number,
  run: (index: number) => Promise<number>,
): Promise<SeriesResult> {
  return summarize(await runBlock(count, 0, concurrency, serverPid, run))
}

/**
 * A series of `count` requests for each of `runs`, `concurrency` at a time, run as `blocks`
 * alternating blocks (a b, b a, a b, …) rather than one series after the other, so that all see
 * the same machine: on a shared machine the server's CPU per request drifts within a minute, and
 * the ratio of two series run back to back carries that drift. Each series' figures are over all
 * its blocks; each run is given its own indices 0 to `count` - 1, in order.
 */
export async function runAlternatingSeries<Name extends string>(
  count: number,
  concurrency: number,
  serverPid: number,
  runs: Readonly<Record<Name, (index: number) => Promise<number>>>,
  blocks = 6,
): Promise<Readonly<Record<Name, SeriesResult>>> {
  const names = Object.keys(runs) as Name[]
  const done = new Map<Name, Block[]>(names.map((name) => [name, []]))
  for (let block = 0; block < blocks; block++) {
    const from = Math.floor((count * block) / blocks)
    const size = Math.floor((count * (block + 1)) / blocks) - from
    for (const name of block % 2 === 0 ? names : names.toReversed()) {
      done.get(name)?.push(await runBlock(size, from, concurrency, serverPid, runs[name]))
    }
  }
  return Object.fromEntries(names.map((name) => [name, summarize(...(done.get(name) ?? []))])) as Record<
    Name,
    SeriesResult
  >
}

/** What one block of requests measured. */
interface Block {
  readonly latencies: readonly number[]
  readonly seconds: number
  readonly cpuMs: number
}

async function runBlock(
  count: number,
  firstIndex: number,
  concurrency: number,
  serverPid: number,
  run: (index: number) => Promise<number>,
): Promise<Block> {
  const latencies: number[] = []
  let next = 0
  const cpuBefore = readCpu(serverPid)
  const started = performance.now()
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) latencies.push(await run(firstIndex + next++))
    }),
  )
  const seconds = (performance.now() - started) / 1000
  return { latencies, seconds, cpuMs: cpuMsBetween(cpuBefore, readCpu(serverPid)) }
}

function summarize(...blocks: readonly Block[]): SeriesResult {
  const latencies = blocks.flatMap((block) => block.latencies).sort((a, b) => a - b)
  const sum = (of: (block: Block) => number) => blocks.reduce((total, block) => total + of(block), 0)
  return {
    perSecond: latencies.length / sum((block) => block.seconds),
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    cpuMsPerRequest: sum((block) => block.cpuMs) / latencies.length,
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
