/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** The base of the first wait, in milliseconds. */
  readonly initialMs: number
  /** The largest base, in milliseconds: waits never exceed it. */
  readonly maxMs: number
  /** A source of numbers in `[0, 1)`. Default `Math.random`; tests pass a fixed sequence. */
  readonly random?: () => number
}

/**
 * Exponential backoff with "equal jitter": the n-th consecutive failure waits a random time in
 * `[base/2, base]`, where `base = min(maxMs, initialMs * 2^(n-1))`. The jitter keeps a
 * cluster's agents, which all lost the server at the same moment, from coming back in step;
 * keeping half of the base (rather than "full jitter" from 0) keeps any one agent from
 * retrying in a tight loop.
 */
export class Backoff {
  readonly #initialMs: number
  readonly #maxMs: number
  readonly #random: () => number
  #failures = 0

  constructor(options: BackoffOptions) {
    if (!(options.initialMs > 0) || !(options.maxMs >= options.initialMs)) {
      throw new TypeError('"initialMs" must be greater than 0 and "maxMs" at least "initialMs"')
    }
    this.#initialMs = options.initialMs
    this.#maxMs = options.maxMs
    this.#random = options.random ?? Math.random
  }

  /** Consecutive failures so far. */
  get failures(): number {
    return this.#failures
  }

  /** Counts one more failure and returns how long to wait before the next attempt. */
  next(): number {
    this.#failures++
    const base = Math.min(this.#maxMs, this.#initialMs * 2 ** Math.min(this.#failures - 1, 52))
    return Math.round(base / 2 + (this.#random() * base) / 2)
  }

  /** The wait after a failure that retrying soon cannot fix: the cap, with the same jitter. */
  nextAtCap(): number {
    this.#failures++
    return Math.round(this.#maxMs / 2 + (this.#random() * this.#maxMs) / 2)
  }

  /** Forgets past failures, after a success. */
  reset(): void {
    this.#failures = 0
  }
}
