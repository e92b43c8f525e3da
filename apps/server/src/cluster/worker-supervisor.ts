/**
 * When a worker that died is started again, and when the primary gives up. A worker that lived
 * less than {@link STABLE_LIFETIME_MS} died young: it is restarted after a delay that doubles
 * with each young death in a row (1 s, 2 s, 4 s, 8 s, 16 s), and more than
 * {@link MAX_YOUNG_DEATHS} in a row mean something is wrong with every worker (the datastore,
 * the configuration, a request that kills it), so the primary stops with a non-zero status
 * instead of restarting forever. A worker that lived longer was working: its death starts the
 * count again.
 *
 * Counting deaths in a sliding window instead (as until 2026-12-07) stopped only fast loops:
 * with the delays above, a worker that crashed 8 s after each start never had six deaths in
 * one minute, and was restarted for ever.
 */
export const RESTART_BASE_DELAY_MS = 1000
export const MAX_YOUNG_DEATHS = 5
export const STABLE_LIFETIME_MS = 60_000

/** What to do about a worker's death: restart after `delayMs`, or give up. */
export type DeathVerdict = { readonly restart: true; readonly delayMs: number } | { readonly restart: false }

/** Counts young deaths in a row; one per primary. */
export class RestartPolicy {
  #youngDeaths = 0

  /** @param lifetimeMs How long the worker that died had run, from its fork. */
  onDeath(lifetimeMs: number): DeathVerdict {
    this.#youngDeaths = lifetimeMs < STABLE_LIFETIME_MS ? this.#youngDeaths + 1 : 1
    if (this.#youngDeaths > MAX_YOUNG_DEATHS) return { restart: false }
    return { restart: true, delayMs: RESTART_BASE_DELAY_MS * 2 ** (this.#youngDeaths - 1) }
  }
}
