import type { Scheduler } from '../src/scheduler.ts'

interface PendingSleep {
  readonly ms: number
  readonly wake: () => void
}

/**
 * A scheduler whose clock moves only when the test says so. The agent's loop asks it to sleep;
 * the test sees the requested duration with {@link ManualScheduler.nextSleep}, checks it
 * (half the SVID lifetime, a backoff within its jitter bounds…), and lets the loop go on with
 * {@link ManualScheduler.advance}, which moves the clock forward by that duration. Nothing ever
 * waits on real time.
 */
export class ManualScheduler implements Scheduler {
  #now: number
  #pending: PendingSleep | undefined
  #sleepListeners: Array<(ms: number) => void> = []
  /** Every duration the agent asked to sleep, in order. */
  readonly sleeps: number[] = []

  constructor(start: number = Date.now()) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve()
    if (this.#pending !== undefined) throw new Error('ManualScheduler: the agent slept twice at once')
    return new Promise((resolve) => {
      const onAbort = () => {
        this.#pending = undefined
        resolve()
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.#pending = {
        ms,
        wake: () => {
          signal.removeEventListener('abort', onAbort)
          resolve()
        },
      }
      this.sleeps.push(ms)
      const listeners = this.#sleepListeners
      this.#sleepListeners = []
      for (const listener of listeners) listener(ms)
    })
  }

  /** Resolves with the duration of the agent's sleep once it sleeps (at once if it already does). */
  nextSleep(): Promise<number> {
    const pending = this.#pending
    if (pending !== undefined) return Promise.resolve(pending.ms)
    return new Promise((resolve) => this.#sleepListeners.push(resolve))
  }

  /** Moves the clock by the pending sleep's duration (or `ms`) and wakes the agent. */
  advance(ms?: number): void {
    const pending = this.#pending
    if (pending === undefined) throw new Error('ManualScheduler: advance() while the agent is not sleeping')
    this.#pending = undefined
    this.#now += ms ?? pending.ms
    pending.wake()
  }

  /** Moves the clock while the agent is not sleeping (between two runs, say). */
  skip(ms: number): void {
    if (this.#pending !== undefined)
      throw new Error('ManualScheduler: skip() while the agent sleeps; use advance()')
    this.#now += ms
  }

  /** Waits for the agent's next sleep, then moves the clock past it; returns its duration. */
  async advanceThroughNextSleep(): Promise<number> {
    const ms = await this.nextSleep()
    this.advance()
    return ms
  }
}
