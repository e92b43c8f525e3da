import { type RequestInfo, resourceLabel } from './request-info.ts'
import { internalError, type KubeStatusError, serviceUnavailable } from './status.ts'

/**
 * Faults a test injects into request handling: added latency, errors
 * (500 and 503 as `Status` objects, 429 with `Retry-After` as the plain text of
 * kube-apiserver's priority and fairness), requests held unanswered until the
 * fault is removed (`hang`), and answers cut off mid-body (`resetMidResponse`),
 * at a given rate, optionally only for one verb and/or resource and only a
 * number of times. Connection-level faults (refusing or resetting new
 * connections) live on the server.
 */

/** The statuses an injected error can have. */
export type InjectedErrorStatus = 429 | 500 | 503

/**
 * An error kube-apiserver answers in plain text instead of a `Status` object. Its priority and
 * fairness filter (and the max-in-flight filter before it) rejects a request with Go's
 * `http.Error`, before any API serializer is chosen.
 */
export interface PlainTextError {
  readonly httpStatus: number
  /** The body, newline included, as `http.Error` writes it. */
  readonly text: string
}

/** What kube-apiserver's overload filters write with their 429 (`tooManyRequests` in `maxinflight.go`). */
export const TOO_MANY_REQUESTS_TEXT = 'Too many requests, please try again later.\n'

/** What to inject, and for which requests. */
export interface FaultRule {
  /** Only requests with this verb (`create`, `get`, `list`, `watch`, …). Default: any. */
  readonly verb?: string
  /** Only requests for this resource (`tokenreviews`, `serviceaccounts/token`) or path (`/readyz`). Default: any. */
  readonly resource?: string
  /** Delay before the request is handled, in milliseconds of the cluster's clock. */
  readonly latencyMs?: number
  /**
   * Accept the request and leave it unanswered while the fault is active: the client waits
   * until it gives up (or the server stops) — what an overloaded or wedged API server does to
   * a client without a deadline. Once the fault is removed (or the faults cleared), requests
   * still held are handled normally, so a test controls exactly when a call completes.
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
  /**
   * Send the response's status line, headers and the first half of its body, then destroy the
   * connection: a connection reset mid-response.
   */
  readonly resetMidResponse?: boolean
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
  /** Held unanswered (see {@link FaultRule.hang}); `held` says until when. */
  readonly hang: boolean
  /** A `Status` object, or plain text for a 429 (see {@link PlainTextError}). */
  readonly error?: KubeStatusError | PlainTextError
  /** The `Retry-After` header value, when the error carries one. */
  readonly retryAfterSeconds?: number
  /** Resolves when the request may go on (a `hang` fault was removed). */
  readonly held?: Promise<void>
  /** Cut the answer off mid-body. */
  readonly resetMidResponse?: boolean
}

interface ActiveFault {
  readonly rule: FaultRule
  hits: number
  /** Releases of the requests a `hang` fault holds. */
  readonly releases: Array<() => void>
}

function validateRule(rule: FaultRule): void {
  if (
    rule.latencyMs === undefined &&
    rule.error === undefined &&
    rule.hang === undefined &&
    rule.resetMidResponse !== true
  ) {
    throw new TypeError('a fault needs "latencyMs", "error", "hang" or "resetMidResponse"')
  }
  if (rule.hang !== undefined && rule.hang !== true) throw new TypeError('"hang" must be true when set')
  if (rule.hang === true && rule.error !== undefined) {
    throw new TypeError('a fault cannot both "hang" and answer with an "error"')
  }
  if (rule.resetMidResponse === true && rule.error !== undefined) {
    throw new TypeError('"resetMidResponse" cuts off a real answer; it cannot be combined with "error"')
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

type InjectedFailure = { error: KubeStatusError | PlainTextError; retryAfterSeconds?: number }

function errorOf(rule: FaultRule): InjectedFailure | undefined {
  const spec = rule.error
  if (spec === undefined) return undefined
  switch (spec.status) {
    case 429:
      return {
        error: { httpStatus: 429, text: TOO_MANY_REQUESTS_TEXT },
        retryAfterSeconds: spec.retryAfterSeconds ?? 1,
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
    const active: ActiveFault = { rule: { ...rule }, hits: 0, releases: [] }
    this.#faults.push(active)
    const faults = this
    return {
      get hits() {
        return active.hits
      },
      remove() {
        faults.#faults = faults.#faults.filter((fault) => fault !== active)
        releaseAll(active)
      },
    }
  }

  /** Removes every injected fault (held requests go on). */
  clear(): void {
    for (const fault of this.#faults) releaseAll(fault)
    this.#faults = []
  }

  /** The latency and error the active faults give `request`; each matching fault counts a hit. */
  decide(request: RequestInfo): FaultOutcome {
    let latencyMs = 0
    let hang = false
    let failure: InjectedFailure | undefined
    const holds: Promise<void>[] = []
    let resetMidResponse = false
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
      if (rule.hang === true) holds.push(new Promise((resolve) => fault.releases.push(resolve)))
      if (rule.resetMidResponse === true) resetMidResponse = true
    }
    return {
      latencyMs,
      hang,
      ...failure,
      ...(holds.length === 0 ? {} : { held: Promise.all(holds).then(() => undefined) }),
      ...(resetMidResponse ? { resetMidResponse } : {}),
    }
  }
}

function releaseAll(fault: ActiveFault): void {
  for (const release of fault.releases.splice(0)) release()
}
