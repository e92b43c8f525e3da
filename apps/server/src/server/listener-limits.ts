import type { ListenerConfig } from '../config/server-config.ts'

/** What {@link listenerLimits} gives: fastify's own options, and the Node `https.Server` ones. */
export interface ListenerLimits {
  /** For `fastify({ … })`: it sets these on the server after creating it. */
  readonly fastify: {
    readonly requestTimeout: number
    readonly keepAliveTimeout: number
    readonly connectionTimeout: number
  }
  /** For `https.createServer()` (fastify's `https` option), beside the TLS settings. */
  readonly https: {
    readonly headersTimeout: number
    readonly handshakeTimeout: number
    readonly connectionsCheckingInterval: number
  }
  /** For `server.maxConnections`. */
  readonly maxConnections: number
}

/** Slowest check of request and header deadlines, in milliseconds (Node's default is 30 s). */
const MAX_CHECKING_INTERVAL_MS = 1000

/**
 * The listener's defences against slow clients, from `server { read_header_timeout,
 * request_timeout, idle_timeout, max_connections }`. fastify disables Node's request timeout
 * by default (`requestTimeout: 0`), so without these a body that never completes holds its
 * connection forever.
 *
 * - headers must arrive within `read_header_timeout` (the TLS handshake too), the whole
 *   request within `request_timeout`: Node then answers 408 through the client error handler;
 * - a connection silent for `idle_timeout` (kept alive between requests, or stalled within
 *   one) is closed;
 * - past `max_connections`, new connections are closed as soon as they are accepted.
 *
 * Node checks the request deadlines every `connectionsCheckingInterval`; it is kept well below
 * the shortest timeout so a deadline is enforced within half its length, at most a second late.
 */
export function listenerLimits(config: ListenerConfig): ListenerLimits {
  const shortest = Math.min(config.readHeaderTimeoutMs, config.requestTimeoutMs)
  return {
    fastify: {
      requestTimeout: config.requestTimeoutMs,
      keepAliveTimeout: config.idleTimeoutMs,
      connectionTimeout: config.idleTimeoutMs,
    },
    https: {
      headersTimeout: config.readHeaderTimeoutMs,
      handshakeTimeout: config.readHeaderTimeoutMs,
      connectionsCheckingInterval: Math.max(1, Math.min(MAX_CHECKING_INTERVAL_MS, Math.floor(shortest / 2))),
    },
    maxConnections: config.maxConnections,
  }
}
