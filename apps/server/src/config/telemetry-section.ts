import { isIP } from 'node:net'
import type { HclBodyReader } from '@k8s-attest/spire-config'
import { type MetricsListenerConfig, SERVER_CONFIG_DEFAULTS } from './server-config.ts'

const ONLY_PROMETHEUS = 'k8s-attest serves Prometheus metrics only'

/**
 * Reads the top-level `telemetry { Prometheus { host, port } }` block, as SPIRE's: `/metrics`
 * gets a plain-HTTP listener of its own, on the loopback address unless `host` says otherwise,
 * so the agent-facing port never serves it. No block, no metrics listener.
 */
export function readTelemetrySection(
  telemetry: HclBodyReader | undefined,
): MetricsListenerConfig | undefined {
  if (telemetry === undefined) return undefined
  const prometheus = telemetry.block('Prometheus', { required: true })
  telemetry.rejectUnknownKeys({
    DogStatsd: ONLY_PROMETHEUS,
    Statsd: ONLY_PROMETHEUS,
    M3: ONLY_PROMETHEUS,
    InMem: ONLY_PROMETHEUS,
  })
  if (prometheus === undefined) return undefined
  const host =
    prometheus.string('host', 'an IP address such as "127.0.0.1"') ?? SERVER_CONFIG_DEFAULTS.metricsHost
  if (isIP(host) === 0) {
    prometheus.report('host', `must be an IP address such as "127.0.0.1"; got ${JSON.stringify(host)}`)
  }
  const port = prometheus.integer('port', { min: 0, max: 65_535 }, { required: true })
  prometheus.rejectUnknownKeys()
  return port === undefined ? undefined : { host, port }
}
