import type { ServerProblemError } from './errors.ts'

/**
 * What a caller of `runAgent` holds: the handle, the SVID as it sees it, why the loop ended,
 * and the waiting list behind `nextSvid`.
 */

/** The public face of the SVID the agent holds (no key). */
export interface SvidInfo {
  readonly spiffeId: string
  /** Hex, lowercase. */
  readonly serialNumber: string
  readonly notBefore: Date
  readonly notAfter: Date
  /** PEM, leaf first. */
  readonly chainPem: readonly string[]
}

/** Why the agent's loop ended. */
export type AgentOutcome =
  | { readonly reason: 'stopped' }
  | { readonly reason: 'banned'; readonly error: ServerProblemError }
  | { readonly reason: 'crashed'; readonly error: unknown }

/** A running agent. */
export interface AgentHandle {
  /** Settles when the loop ends; never rejects. */
  readonly done: Promise<AgentOutcome>
  /** The SVID held right now, or `undefined` before the first one. */
  current(): SvidInfo | undefined
  /**
   * Resolves with the next SVID the agent holds that differs from `after` (by serial number),
   * at once if it already holds one; with no argument, the first SVID held. Rejects with
   * {@link AgentStoppedError} if the agent stops first.
   */
  nextSvid(after?: SvidInfo): Promise<SvidInfo>
  /** Stops the loop (aborting a request in flight), closes connections, and returns the outcome. */
  stop(): Promise<AgentOutcome>
}

/** {@link AgentHandle.nextSvid} could not be answered because the agent stopped. */
export class AgentStoppedError extends Error {
  override readonly name = 'AgentStoppedError'
  readonly outcome: AgentOutcome

  constructor(outcome: AgentOutcome) {
    super(`the agent stopped (${outcome.reason}) before holding the SVID waited for`)
    this.outcome = outcome
  }
}

/** The {@link SvidInfo} fields of a held SVID, and nothing else (no key). */
export function svidInfo(svid: SvidInfo): SvidInfo {
  return {
    spiffeId: svid.spiffeId,
    serialNumber: svid.serialNumber,
    notBefore: svid.notBefore,
    notAfter: svid.notAfter,
    chainPem: svid.chainPem,
  }
}

interface Waiter {
  readonly afterSerial: string | undefined
  readonly resolve: (svid: SvidInfo) => void
  readonly reject: (error: AgentStoppedError) => void
}

/** The callers of {@link AgentHandle.nextSvid} still waiting, answered as SVIDs come or the loop ends. */
export class SvidWaiters {
  #waiting: Waiter[] = []
  #outcome: AgentOutcome | undefined

  /** The next SVID other than `after`: `held` at once if it is one, else the next {@link notify}. */
  next(after: SvidInfo | undefined, held: SvidInfo | undefined): Promise<SvidInfo> {
    if (held !== undefined && held.serialNumber !== after?.serialNumber)
      return Promise.resolve(svidInfo(held))
    if (this.#outcome !== undefined) return Promise.reject(new AgentStoppedError(this.#outcome))
    return new Promise((resolve, reject) => {
      this.#waiting.push({ afterSerial: after?.serialNumber, resolve, reject })
    })
  }

  /** Resolves those waiting for an SVID other than this one. */
  notify(svid: SvidInfo): void {
    const info = svidInfo(svid)
    const waiting = this.#waiting
    this.#waiting = waiting.filter((waiter) => waiter.afterSerial === svid.serialNumber)
    for (const waiter of waiting) if (waiter.afterSerial !== svid.serialNumber) waiter.resolve(info)
  }

  /** The loop ended: every waiter, and every later caller, gets {@link AgentStoppedError}. */
  end(outcome: AgentOutcome): void {
    this.#outcome = outcome
    for (const waiter of this.#waiting.splice(0)) waiter.reject(new AgentStoppedError(outcome))
  }
}
