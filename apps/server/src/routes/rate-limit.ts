import { AttestError } from '@k8s-attest/core'
import type { FastifyRequest } from 'fastify'
import type { RateLimitConfig } from '../config/server-config.ts'

/** A route's `config.rateLimit` for @fastify/rate-limit. */
export interface RouteRateLimit {
  readonly max: number
  readonly timeWindow: number
}

/**
 * The per-source-address limit of `rate_limit`, as @fastify/rate-limit counts it: at least one
 * request per window, so `attestations_per_second = 0.5` becomes 1 per 2 s and `5` becomes 5
 * per second. `undefined` when disabled.
 */
export function routeRateLimit(config: RateLimitConfig): RouteRateLimit | undefined {
  if (!config.enabled) return undefined
  const rate = config.attestationsPerSecond
  return rate >= 1
    ? { max: Math.floor(rate), timeWindow: 1000 }
    : { max: 1, timeWindow: Math.ceil(1000 / rate) }
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
