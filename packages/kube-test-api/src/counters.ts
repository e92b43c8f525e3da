import { compareGoStrings } from './json.ts'
import { type RequestInfo, resourceLabel } from './request-info.ts'

/**
 * Request and connection counters, so tests can assert how many API calls an
 * operation costs (e.g. per attestation) and that clients reuse connections.
 */

/** How many requests one verb made on one resource. */
export interface RequestCount {
  /** `create`, `get`, `list`, `watch`, …; for non-resource paths the lower-cased HTTP method. */
  readonly verb: string
  /** `tokenreviews`, `pods`, `serviceaccounts/token`, or a non-resource path such as `/version`. */
  readonly resource: string
  readonly count: number
}

/** Which requests to count; omitted fields match anything. */
export interface RequestFilter {
  readonly verb?: string
  readonly resource?: string
}

/** The counters of one cluster. */
export class RequestCounters {
  readonly #counts = new Map<string, RequestCount>()
  #tlsConnections = 0

  /** Counts one request. */
  record(info: RequestInfo): void {
    const resource = resourceLabel(info)
    const key = `${info.verb} ${resource}`
    const previous = this.#counts.get(key)
    this.#counts.set(key, { verb: info.verb, resource, count: (previous?.count ?? 0) + 1 })
  }

  /** Counts one accepted TLS connection (a completed handshake). */
  recordTlsConnection(): void {
    this.#tlsConnections++
  }

  /** The number of requests matching `filter` (all requests without one). */
  requests(filter: RequestFilter = {}): number {
    let total = 0
    for (const entry of this.#counts.values()) {
      if (filter.verb !== undefined && entry.verb !== filter.verb) continue
      if (filter.resource !== undefined && entry.resource !== filter.resource) continue
      total += entry.count
    }
    return total
  }

  /** Every non-zero count, sorted by resource then verb. */
  snapshot(): RequestCount[] {
    return [...this.#counts.values()].sort(
      (a, b) => compareGoStrings(a.resource, b.resource) || compareGoStrings(a.verb, b.verb),
    )
  }

  /** TLS connections accepted since start (or the last reset). */
  get tlsConnections(): number {
    return this.#tlsConnections
  }

  /** Sets every counter back to zero. */
  reset(): void {
    this.#counts.clear()
    this.#tlsConnections = 0
  }
}
