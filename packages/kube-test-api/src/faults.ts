import { type RequestInfo, resourceLabel } from './request-info.ts'
import { internalError, type KubeStatusError, serviceUnavailable, tooManyRequests } from './status.ts'

/**
 * Faults a test injects into request handling: added latency, a request that
 * is accepted and never answered (`hang`), and errors (500, 503, or 429 with
 * `Retry-After`) at a given rate, optionally only for one verb and/or
 * resource and only a number of times. Connection-level
 * faults (refusing or resetting connections) live on the server.
 */

/** The statuses an injected error can have. */
export type InjectedErrorStatus = 429 | 500 | 503

/** What to inject, and for which requests. */
export interface FaultRule {
  /** Only requests with this verb (`create`, `get`, `list`, `watch`, …). Default: any. */
  readonly verb?: string
  /** Only requests for this resource (`tokenreviews`, `serviceaccounts/token`) or path (`/readyz`). Default: any. */
  readonly resource?: string
  /** Delay before the request is handled, in milliseconds of the cluster's clock. */
  readonly latencyMs?: number
  /**
   * Read the request and never answer it: the connection stays open until the client gives
   * up (or the server stops). What an overloaded or wedged API server does to a client
   * without a deadline.
   */
  readonly hang?: true
  /** Answer with this error instead of handling the request. */
  readonly error?: {
    readonly status: InjectedErrorStatus
    /** `Retry-After` for 429 (default 1) and 503 (default: none). */
    readonly retryAfterSeconds?: number
    /** The message of a 500 or 503. */
    readonly message?: string
  }
  /** The fraction of matching requests affected, in (0, 1]. Default 1. */
  readonly rate?: number
  /** Stop after affecting this many requests. Default: no limit. */
  readonly times?: number
}

/** An injected fault. */
export interface InjectedFault {
  /** How many requests it affected so far. */
  readonly hits: number
  /** Stops injecting it. */
  remove(): void
}

/** What the faults decided for one request. */
export interface FaultOutcome {
  readonly latencyMs: number
  /** Never answer (see {@link FaultRule.hang}). */
  readonly hang: boolean
  readonly error?: KubeStatusError
  /** The `Retry-After` header value, when the error carries one. */
  readonly retryAfterSeconds?: number
}

interface ActiveFault {
  readonly rule: FaultRule
  hits: number
}

function validateRule(rule: FaultRule): void {
  if (rule.latencyMs === undefined && rule.error === undefined && rule.hang === undefined) {
    throw new TypeError('a fault needs "latencyMs", "error" or "hang"')
  }
  if (rule.hang !== undefined && rule.hang !== true) throw new TypeError('"hang" must be true when set')
  if (rule.hang === true && rule.error !== undefined) {
    throw new TypeError('a fault cannot both "hang" and answer with an "error"')
  }
  if (rule.latencyMs !== undefined && (!Number.isFinite(rule.latencyMs) || rule.latencyMs < 0)) {
    throw new TypeError('"latencyMs" must be a non-negative number')
  }
  if (rule.error !== undefined && ![429, 500, 503].includes(rule.error.status)) {
    throw new TypeError('"error.status" must be 429, 500 or 503')
  }
  const retryAfter = rule.error?.retryAfterSeconds
  if (retryAfter !== undefined && (!Number.isInteger(retryAfter) || retryAfter < 1)) {
    throw new TypeError('"error.retryAfterSeconds" must be a positive integer')
  }
  if (rule.rate !== undefined && !(rule.rate > 0 && rule.rate <= 1)) {
    throw new TypeError('"rate" must be in (0, 1]')
  }
  if (rule.times !== undefined && (!Number.isInteger(rule.times) || rule.times < 1)) {
    throw new TypeError('"times" must be a positive integer')
  }
}

function errorOf(rule: FaultRule): { error: KubeStatusError; retryAfterSeconds?: number } | undefined {
  const spec = rule.error
  if (spec === undefined) return undefined
  switch (spec.status) {
    case 429: {
      const retryAfterSeconds = spec.retryAfterSeconds ?? 1
      return { error: tooManyRequests(retryAfterSeconds), retryAfterSeconds }
    }
    case 503: {
      const error = serviceUnavailable(spec.message ?? 'the server is currently unable to handle the request')
      return spec.retryAfterSeconds === undefined
        ? { error }
        : { error, retryAfterSeconds: spec.retryAfterSeconds }
    }
    case 500:
      return { error: internalError(spec.message ?? 'injected fault') }
  }
}

/** The request-level faults of one cluster. */
export class FaultInjector {
  readonly #random: () => number
  #faults: ActiveFault[] = []

  /** @param random - the source of randomness for `rate` (default `Math.random`; inject for determinism). */
  constructor(random: () => number = Math.random) {
    this.#random = random
  }

  /** Starts injecting `rule`. */
  inject(rule: FaultRule): InjectedFault {
    validateRule(rule)
    const active: ActiveFault = { rule: { ...rule }, hits: 0 }
    this.#faults.push(active)
    const faults = this
    return {
      get hits() {
        return active.hits
      },
      remove() {
        faults.#faults = faults.#faults.filter((fault) => fault !== active)
      },
    }
  }

  /** Removes every injected fault. */
  clear(): void {
    this.#faults = []
  }

  /** The latency and error the active faults give `request`; each matching fault counts a hit. */
  decide(request: RequestInfo): FaultOutcome {
    let latencyMs = 0
    let hang = false
    let failure: { error: KubeStatusError; retryAfterSeconds?: number } | undefined
    for (const fault of this.#faults) {
      const { rule } = fault
      if (rule.verb !== undefined && rule.verb !== request.verb) continue
      if (rule.resource !== undefined && rule.resource !== resourceLabel(request)) continue
      if (rule.times !== undefined && fault.hits >= rule.times) continue
      if (rule.rate !== undefined && rule.rate < 1 && this.#random() >= rule.rate) continue
      fault.hits++
      latencyMs += rule.latencyMs ?? 0
      hang ||= rule.hang === true
      failure ??= errorOf(rule)
    }
    return { latencyMs, hang, ...failure }
  }
}
