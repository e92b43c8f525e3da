import fp from 'fastify-plugin'
import type { AttestationService } from '../attestation/attestation-service.ts'
import type { CertificateAuthority } from '../ca/certificate-authority.ts'
import type { AgentStore } from '../datastore/agent-store.ts'
import type { ServerMetrics } from '../metrics/metrics.ts'
import type { Readiness } from '../readiness/readiness.ts'
import type { ConfigReloader } from '../reload/config-reloader.ts'

/** The services routes use, built once by `buildApp`. */
export interface AppServices {
  readonly attestation: AttestationService
  readonly agents: AgentStore
  readonly ca: CertificateAuthority
  readonly metrics: ServerMetrics
  readonly readiness: Readiness
  /** `undefined` when the app was built without a way to read its configuration again. */
  readonly configReloader: ConfigReloader | undefined
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Attestation and renewal, independent of HTTP. */
    readonly attestation: AttestationService
    /** The datastore of attested agents. */
    readonly agents: AgentStore
    /** The server's certificate authority. */
    readonly ca: CertificateAuthority
    /** Prometheus metrics. */
    readonly metrics: ServerMetrics
    /** Datastore and Kubernetes permission checks behind `/ready`. */
    readonly readiness: Readiness
    /** Configuration reload (SIGHUP, `POST /v1/admin/reload`); `undefined` when not available. */
    readonly configReloader: ConfigReloader | undefined
  }
}

/** Name routes list in `dependencies`. */
export const SERVICES_PLUGIN = 'k8s-attest-services'

/**
 * Decorates the instance with the shared services. Wrapped in `fastify-plugin` so the
 * decorations are visible to every route plugin registered after it.
 */
export const servicesPlugin = fp<AppServices>(
  async (app, services) => {
    app.decorate('attestation', services.attestation)
    app.decorate('agents', services.agents)
    app.decorate('ca', services.ca)
    app.decorate('metrics', services.metrics)
    app.decorate('readiness', services.readiness)
    app.decorate('configReloader', services.configReloader)
  },
  { name: SERVICES_PLUGIN, fastify: '5.x' },
)
