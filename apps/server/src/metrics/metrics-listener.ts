import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AttestError } from '@k8s-attest/core'
import type { Registry } from 'prom-client'
import type { MetricsListenerConfig } from '../config/server-config.ts'
import { PROBLEM_CONTENT_TYPE, toProblemResponse } from '../http/problem.ts'

/** A running `/metrics` listener. */
export interface MetricsListener {
  /** Where it listens (the real port when the configuration said `0`). */
  readonly address: AddressInfo
  close(): Promise<void>
}

/**
 * Serves `GET /metrics` (Prometheus text format) from `registry` over plain HTTP on the
 * `telemetry { Prometheus { host, port } }` address, as SPIRE does: apart from the agent-facing
 * HTTPS port, and on `127.0.0.1` unless the operator chose another. Anything else gets the
 * server's usual `application/problem+json` refusal: this listener is for a scraper, not an API.
 * With `server.workers` above 1 the primary serves it, from every worker's registry aggregated.
 */
export async function startMetricsListener(
  config: MetricsListenerConfig,
  registry: Pick<Registry, 'metrics' | 'contentType'>,
): Promise<MetricsListener> {
  const server = createServer((request, response) => {
    const route = `${request.method} ${(request.url ?? '').split('?')[0]}`
    if (route !== 'GET /metrics') {
      const { status, problem } = toProblemResponse(
        new AttestError(
          'ATT_ERR_ROUTE_NOT_FOUND',
          `no route ${route}; the metrics listener serves GET /metrics`,
          {
            check: 'route',
            value: route,
          },
        ),
      )
      response.writeHead(status, { 'content-type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8` })
      response.end(JSON.stringify(problem))
      return
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => {
        const { status, problem } = toProblemResponse(error)
        response.writeHead(status, { 'content-type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8` })
        response.end(JSON.stringify(problem))
      },
    )
  })
  // A scraper sends a small GET: no reason to hold a connection that does not.
  server.headersTimeout = 10_000
  server.requestTimeout = 10_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, config.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error === undefined ? resolve() : reject(error)))
      }),
  }
}
