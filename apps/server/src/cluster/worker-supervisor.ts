/**
 * When a worker that died is started again, and when the primary gives up: a worker that dies
 * is restarted after a delay that doubles with each death within the window (1 s, 2 s, 4 s,
 * 8 s, 16 s); more than {@link MAX_DEATHS_IN_WINDOW} deaths within
 * {@link DEATH_WINDOW_MS} mean something is wrong with every worker (the datastore, the
 * configuration), and the primary stops with a non-zero status instead of restarting forever.
 */
export const RESTART_BASE_DELAY_MS = 1000
export const MAX_DEATHS_IN_WINDOW = 5
export const DEATH_WINDOW_MS = 60_000

/** What to do about a worker's death at `nowMs`: restart after `delayMs`, or give up. */
export type DeathVerdict = { readonly restart: true; readonly delayMs: number } | { readonly restart: false }

/** Counts deaths over a sliding window; one per primary. */
export class RestartPolicy {
  readonly #deaths: number[] = []

  onDeath(nowMs: number): DeathVerdict {
    this.#deaths.push(nowMs)
    while (this.#deaths.length > 0 && (this.#deaths[0] ?? nowMs) <= nowMs - DEATH_WINDOW_MS)
      this.#deaths.shift()
    if (this.#deaths.length > MAX_DEATHS_IN_WINDOW) return { restart: false }
    return { restart: true, delayMs: RESTART_BASE_DELAY_MS * 2 ** (this.#deaths.length - 1) }
  }
}
