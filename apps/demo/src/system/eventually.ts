import { setTimeout as delay } from 'node:timers/promises'

/** Options of {@link eventually}. */
export interface EventuallyOptions {
  /** What is awaited, completing "timed out after … waiting for <what>". */
  readonly what: string
  /** How long to keep polling. @default 10_000 */
  readonly timeoutMs?: number
  /** The pause between two probes. @default 100 */
  readonly intervalMs?: number
  /** Extra context for the timeout message (the last state seen, a log tail). Called once, on timeout. */
  readonly describe?: () => string | Promise<string>
  /** The clock and the pause between probes. @default the process's monotonic clock and timers */
  readonly clock?: PollClock
}

/** What {@link eventually} needs from time; tests pass a manual one. */
export interface PollClock {
  /** Milliseconds on a monotonic scale. */
  now(): number
  sleep(ms: number): Promise<void>
}

const systemPollClock: PollClock = {
  now: () => performance.now(),
  sleep: (ms) => delay(ms),
}

/** {@link eventually} gave up: what was awaited never came. */
export class EventuallyTimeoutError extends Error {
  override readonly name = 'EventuallyTimeoutError'
  readonly what: string
  readonly timeoutMs: number

  constructor(what: string, timeoutMs: number, context: string) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}${context === '' ? '' : `\n${context}`}`)
    this.what = what
    this.timeoutMs = timeoutMs
  }
}

/**
 * Polls `probe` until it returns something other than `undefined`, and returns that. This is how
 * the system tests observe processes they do not control (a log line, a file, a record on the
 * server): with a deadline and a message naming what never happened, never with a fixed sleep.
 * An error thrown by `probe` ends the wait at once (e.g. "the agent exited").
 *
 * @throws {EventuallyTimeoutError} after `timeoutMs`.
 */
export async function eventually<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  options: EventuallyOptions,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const intervalMs = options.intervalMs ?? 100
  const clock = options.clock ?? systemPollClock
  const deadline = clock.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    const left = deadline - clock.now()
    if (left <= 0) {
      const context = options.describe === undefined ? '' : await options.describe()
      throw new EventuallyTimeoutError(options.what, timeoutMs, context)
    }
    await clock.sleep(Math.min(intervalMs, left))
  }
}
