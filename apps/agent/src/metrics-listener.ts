import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import type { MetricsListenerConfig } from './config.ts'

/** A running `/metrics` listener. */
export interface MetricsListener {
  /** Where it listens (the real port when the configuration said `0`). */
  readonly address: AddressInfo
  close(): Promise<void>
}

/**
 * Serves `GET /metrics` (Prometheus text format) from `registry` on the configured address,
 * `127.0.0.1` unless the operator chose another. Anything else is a 404: this listener is
 * for a scraper, not an API.
 */
export async function startMetricsListener(
  config: MetricsListenerConfig,
  registry: Registry,
): Promise<MetricsListener> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try GET /metrics\n')
      return
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    )
  })
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
