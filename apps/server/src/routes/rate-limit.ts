import { AttestError } from '@k8s-attest/core'
import type { FastifyRequest } from 'fastify'
import type { RateLimitConfig } from '../config/server-config.ts'

/** A route's `config.rateLimit` for @fastify/rate-limit. */
export interface RouteRateLimit {
  readonly max: number
  readonly timeWindow: number
}

/** The longest window, in seconds, a fractional rate above 1 is spread over. */
const MAX_WINDOW_SECONDS = 100

/**
 * The per-source-address limit of `rate_limit`, as @fastify/rate-limit counts it (a whole
 * number of requests per window): `5` is 5 per second; a rate below 1 is one request per
 * `1 / rate` seconds (`0.5` is 1 per 2 s); a fraction above 1 takes the shortest window of whole
 * seconds that holds a whole number of requests (`1.5` is 3 per 2 s, `2.25` is 9 per 4 s),
 * at most {@link MAX_WINDOW_SECONDS} s (beyond that the count is rounded). `undefined` when
 * disabled.
 */
export function routeRateLimit(config: RateLimitConfig): RouteRateLimit | undefined {
  if (!config.enabled) return undefined
  const rate = config.attestationsPerSecond
  if (rate < 1) return { max: 1, timeWindow: Math.ceil(1000 / rate) }
  for (let seconds = 1; seconds <= MAX_WINDOW_SECONDS; seconds++) {
    const requests = rate * seconds
    // Tolerates binary rounding: 1.1 * 10 is 11.000000000000002.
    if (Math.abs(requests - Math.round(requests)) < 1e-9) {
      return { max: Math.round(requests), timeWindow: seconds * 1000 }
    }
  }
  return { max: Math.round(rate * MAX_WINDOW_SECONDS), timeWindow: MAX_WINDOW_SECONDS * 1000 }
}

/**
 * @fastify/rate-limit's `errorResponseBuilder`: throws our own error, so the one error handler
 * answers with the `ATT_ERR_RATE_LIMITED` problem and `Retry-After`.
 */
export function rateLimitedError(request: FastifyRequest, context: { readonly ttl: number }): AttestError {
  return new AttestError(
    'ATT_ERR_RATE_LIMITED',
    `too many requests from ${request.ip}; try again in ${Math.max(1, Math.ceil(context.ttl / 1000))} s`,
    { check: 'rate_limit', value: request.ip, retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)) },
  )
}
