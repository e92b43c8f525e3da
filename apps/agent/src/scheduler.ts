import { setTimeout as delay } from 'node:timers/promises'

/**
 * Time as the agent sees it, injectable so tests run rotations and backoffs without waiting:
 * the loop never calls `Date.now()` or `setTimeout` directly.
 */
export interface Scheduler {
  /** Milliseconds since the epoch. */
  now(): number
  /** Resolves after `ms`, or as soon as `signal` aborts (it never rejects). */
  sleep(ms: number, signal: AbortSignal): Promise<void>
}

/** Longest single timer Node accepts (about 24.8 days); longer sleeps are cut, and the loop re-plans. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** The real clock and real timers. */
export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  async sleep(ms, signal) {
    if (signal.aborted) return
    try {
      await delay(Math.min(Math.max(0, ms), MAX_TIMER_MS), undefined, { signal })
    } catch (error) {
      // An abort is the one expected way out: the caller sees it on `signal`.
      if (!signal.aborted) throw error
    }
  },
}
