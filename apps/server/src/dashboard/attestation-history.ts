import type { AttestationTotal, ServerMetrics } from '../metrics/metrics.ts'

/** One interval of the chart: attestations answered in it, by result. */
export interface AttestationBucket {
  /** Start of the interval. */
  readonly start: Date
  readonly success: number
  /** Refusals by error code (`ATT_ERR_SA_NOT_ALLOWED`, …). */
  readonly refused: Readonly<Record<string, number>>
  /** Answers that were the server's failure (5xx). */
  readonly error: number
}

/** Options of {@link AttestationHistory}. */
export interface AttestationHistoryOptions {
  readonly metrics: Pick<ServerMetrics, 'attestationTotals'>
  /** Length of a bucket. Default 10 s. */
  readonly bucketMs?: number
  /** Buckets kept. Default 60 (ten minutes at 10 s). */
  readonly buckets?: number
  /** Default `() => new Date()`. */
  readonly now?: () => Date
}

/**
 * Attestations over time, for the dashboard's chart, from the server's own Prometheus counter
 * (`k8s_attest_attestations_total`): every `bucketMs` the counter is read and the difference
 * since the last reading becomes a bucket. Nothing else records attestations twice, so the
 * chart and `/metrics` cannot disagree. Kept in memory, per process.
 */
export class AttestationHistory {
  readonly #metrics: Pick<ServerMetrics, 'attestationTotals'>
  readonly #bucketMs: number
  readonly #capacity: number
  readonly #now: () => Date
  readonly #buckets: AttestationBucket[] = []
  #previous = new Map<string, number>()
  #since: Date
  #timer: NodeJS.Timeout | undefined

  constructor(options: AttestationHistoryOptions) {
    this.#metrics = options.metrics
    this.#bucketMs = options.bucketMs ?? 10_000
    this.#capacity = options.buckets ?? 60
    this.#now = options.now ?? (() => new Date())
    this.#since = this.#now()
  }

  /** Length of a bucket, in milliseconds. */
  get bucketMs(): number {
    return this.#bucketMs
  }

  /** Takes the first reading and starts sampling every `bucketMs`. */
  async start(): Promise<void> {
    await this.sample()
    this.#buckets.length = 0
    this.#timer ??= setInterval(() => {
      void this.sample()
    }, this.#bucketMs).unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Closes the current bucket: what the counter gained since the last reading. */
  async sample(): Promise<void> {
    const totals = await this.#metrics.attestationTotals()
    const now = this.#now()
    const current = new Map(totals.map((total) => [keyOf(total), total.count]))
    let success = 0
    let error = 0
    const refused: Record<string, number> = {}
    for (const total of totals) {
      const gained = total.count - (this.#previous.get(keyOf(total)) ?? 0)
      if (gained <= 0) continue
      if (total.result === 'success') success += gained
      else if (total.result === 'error') error += gained
      else refused[total.code] = (refused[total.code] ?? 0) + gained
    }
    this.#buckets.push({ start: this.#since, success, refused, error })
    if (this.#buckets.length > this.#capacity) this.#buckets.shift()
    this.#previous = current
    this.#since = now
  }

  /** The closed buckets, oldest first. */
  buckets(): readonly AttestationBucket[] {
    return [...this.#buckets]
  }
}

function keyOf(total: AttestationTotal): string {
  return `${total.result}\u0000${total.code}`
}
