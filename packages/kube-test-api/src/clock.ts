/**
 * Time as the test API sees it. Everything time-dependent goes through a
 * {@link Clock}: token `iat`/`exp`, expiry checks, the 60-second grace of a
 * terminating pod, the 10-second TokenReview cache, watch timeouts and
 * bookmarks, injected latency. With a {@link ManualClock} a test makes a
 * token expire or a watch time out by advancing the clock, never by sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, like `Date.now()`. */
  now(): number
  /**
   * Calls `callback` once, `delayMs` milliseconds of this clock's time from
   * now. Returns a function that cancels the timer (a no-op once it fired).
   */
  setTimer(delayMs: number, callback: () => void): () => void
}

/**
 * The wall clock. Its timers are unref'd: a pending watch timeout or an
 * injected latency never keeps a process alive on its own.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, callback) {
    const timer = setTimeout(callback, Math.max(0, delayMs))
    timer.unref()
    return () => clearTimeout(timer)
  },
}

interface ManualTimer {
  readonly dueAt: number
  readonly sequence: number
  readonly callback: () => void
}

/**
 * A clock that moves only when told to. Timers fire synchronously inside
 * {@link ManualClock.advance}, in due order, with `now()` equal to each
 * timer's due time while it runs.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(new Date('2026-11-24T02:49:18Z'))
 * const api = await startKubeTestApi({ clock })
 * clock.advance(3_601_000) // a 3600 s token is now expired (after the 60 s leeway)
 * ```
 */
export class ManualClock implements Clock {
  #now: number
  #sequence = 0
  #timers: ManualTimer[] = []

  /** @param start - the initial time (default: the wall clock at construction). */
  constructor(start: Date | number = Date.now()) {
    this.#now = typeof start === 'number' ? start : start.getTime()
    if (!Number.isFinite(this.#now)) throw new TypeError('"start" must be a valid date or epoch milliseconds')
  }

  now(): number {
    return this.#now
  }

  setTimer(delayMs: number, callback: () => void): () => void {
    const timer: ManualTimer = {
      dueAt: this.#now + Math.max(0, delayMs),
      sequence: this.#sequence++,
      callback,
    }
    this.#timers.push(timer)
    return () => {
      this.#timers = this.#timers.filter((pending) => pending !== timer)
    }
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new TypeError('"ms" must be a non-negative finite number')
    this.#runUntil(this.#now + ms)
  }

  /** Moves time forward to `time`, firing due timers; time never goes backwards. */
  set(time: Date | number): void {
    const target = typeof time === 'number' ? time : time.getTime()
    if (!Number.isFinite(target)) throw new TypeError('"time" must be a valid date or epoch milliseconds')
    if (target < this.#now) {
      throw new TypeError(
        `a ManualClock never goes backwards: ${new Date(target).toISOString()} is before ${new Date(this.#now).toISOString()}`,
      )
    }
    this.#runUntil(target)
  }

  /** How many timers are waiting; lets a test check that nothing is left pending. */
  get pendingTimers(): number {
    return this.#timers.length
  }

  #runUntil(target: number): void {
    // A callback may schedule new timers that also fall due before `target`,
    // so pick the earliest due timer afresh on every round.
    for (;;) {
      const next = this.#timers
        .filter((timer) => timer.dueAt <= target)
        .sort((a, b) => a.dueAt - b.dueAt || a.sequence - b.sequence)[0]
      if (next === undefined) break
      this.#timers = this.#timers.filter((timer) => timer !== next)
      this.#now = Math.max(this.#now, next.dueAt)
      next.callback()
    }
    this.#now = target
  }
}

/** RFC 3339 with whole seconds, as `metav1.Time` is written (`2026-11-24T02:49:18Z`). */
export function formatKubeTime(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z')
}

/** Parses a `metav1.Time` string; `undefined` when it is not one. */
export function parseKubeTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const parsed = Date.parse(value)
  return Number.isNaN(parsed) ? undefined : parsed
}
