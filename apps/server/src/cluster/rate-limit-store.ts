import type { IpcChannel } from './ipc-channel.ts'

/** A source address's count in the current window, as @fastify/rate-limit reads it. */
export interface RateLimitCount {
  readonly current: number
  /** Milliseconds left in the window. */
  readonly ttl: number
}

/** What @fastify/rate-limit calls on a custom `store` (it constructs the class itself). */
export interface RateLimitStore {
  incr(
    key: string,
    callback: (error: Error | null, count?: RateLimitCount) => void,
    timeWindow: number,
    max: number,
  ): void
  child(routeOptions: unknown): RateLimitStore
}

export type RateLimitStoreClass = new (options: unknown) => RateLimitStore

/** The IPC method the primary answers with {@link FixedWindowCounters.increment}. */
export const RATE_LIMIT_METHOD = 'rateLimit.incr'

/**
 * Per-address request counts in fixed windows, as @fastify/rate-limit's own LocalStore counts
 * them (the server uses neither `continueExceeding` nor exponential backoff): held by the
 * primary for every worker, so `rate_limit.attestations_per_second` holds per address whichever
 * worker a connection lands on. At most `capacity` addresses; the least recently seen go first.
 */
export class FixedWindowCounters {
  readonly #counts = new Map<string, { current: number; startMs: number }>()
  readonly #capacity: number
  readonly #now: () => number

  constructor(options: { readonly capacity?: number; readonly now?: () => number } = {}) {
    this.#capacity = options.capacity ?? 5000
    this.#now = options.now ?? Date.now
  }

  increment(key: string, timeWindowMs: number): RateLimitCount {
    const now = this.#now()
    const found = this.#counts.get(key)
    this.#counts.delete(key)
    const count =
      found === undefined || found.startMs + timeWindowMs <= now
        ? { current: 1, startMs: now }
        : { current: found.current + 1, startMs: found.startMs }
    this.#counts.set(key, count)
    if (this.#counts.size > this.#capacity) {
      const oldest = this.#counts.keys().next().value
      if (oldest !== undefined) this.#counts.delete(oldest)
    }
    return { current: count.current, ttl: timeWindowMs - (now - count.startMs) }
  }
}

/**
 * A @fastify/rate-limit store whose counts live in the primary. Each route's child store gets
 * a prefix by registration order, which is the same in every worker (they build the same app),
 * so a route's counters are one set across workers and apart from other routes', as with
 * LocalStore's children.
 */
export function primaryRateLimitStore(channel: IpcChannel): RateLimitStoreClass {
  let children = 0
  class PrimaryRateLimitStore implements RateLimitStore {
    readonly #prefix: string
    constructor(_options: unknown, prefix = 'global') {
      this.#prefix = prefix
    }
    incr(
      key: string,
      callback: (error: Error | null, count?: RateLimitCount) => void,
      timeWindow: number,
    ): void {
      channel
        .request<RateLimitCount>(RATE_LIMIT_METHOD, { key: `${this.#prefix}\u0000${key}`, timeWindow })
        .then(
          (count) => callback(null, count),
          (error: Error) => callback(error),
        )
    }
    child(): RateLimitStore {
      children += 1
      return new PrimaryRateLimitStore(undefined, `route${children}`)
    }
  }
  return PrimaryRateLimitStore
}
