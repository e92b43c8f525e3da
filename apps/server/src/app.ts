import type { Server as HttpsServer } from 'node:https'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { SPIFFE_ID_MAX_BYTES } from '@k8s-attest/core'
import { DASHBOARD_ASSETS_DIR } from '@k8s-attest/dashboard'
import fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import { AdminAuthenticator } from './admin/admin-auth.ts'
import { AttestationService } from './attestation/attestation-service.ts'
import type { CertificateAuthority } from './ca/certificate-authority.ts'
import type { TrustBundle } from './ca/spiffe-bundle.ts'
import type { SharedState } from './cluster/shared-state.ts'
import type { ServerConfig } from './config/server-config.ts'
import { dashboardPlugin } from './dashboard/dashboard-plugin.ts'
import { DashboardSessions } from './dashboard/dashboard-sessions.ts'
import type { AgentStore } from './datastore/agent-store.ts'
import { clientErrorHandler } from './http/client-error-handler.ts'
import { handleError, handleNotFound, refuseWhileClosing } from './http/error-handler.ts'
import { strictBodyValidator } from './http/strict-body-validator.ts'
import type { ClusterClients } from './kubernetes/cluster-clients.ts'
import { ServerMetrics } from './metrics/metrics.ts'
import { servicesPlugin } from './plugins/services.ts'
import { permissionTargets } from './readiness/permission-targets.ts'
import { Readiness } from './readiness/readiness.ts'
import { ConfigReloader, type ConfigSourceForReload } from './reload/config-reloader.ts'
import { adminAgentRoutes } from './routes/admin-agents.ts'
import { adminReloadRoute } from './routes/admin-reload.ts'
import { attestRoute } from './routes/attest.ts'
import { bundleRoute } from './routes/bundle.ts'
import { healthRoutes } from './routes/health.ts'
import { rateLimitedError, routeRateLimit } from './routes/rate-limit.ts'
import { renewRoute } from './routes/renew.ts'
import { listenerLimits } from './server/listener-limits.ts'
import { secureContextOptions, tlsOptions } from './server/tls.ts'

/** Largest request body: a token and a CSR are each at most 16 KiB (core's limits). */
export const BODY_LIMIT_BYTES = 64 * 1024

/** Intervals of the server's housekeeping, in milliseconds. */
export interface HousekeepingIntervals {
  /** `ca.rotateIfDueOrChanged()`; on a new signing CA or bundle the serving certificate is reissued. Default 60 s. */
  readonly caRotationCheckMs?: number
  /** `pruneSatTokenClaims()`. Default 10 min. */
  readonly satClaimPruneMs?: number
  /** SelfSubjectAccessReview re-check. Default 60 s. */
  readonly permissionRecheckMs?: number
  /** How old a failing permission check may be before a `/ready` probe re-checks. Default 5 s. */
  readonly failingPermissionRecheckMs?: number
}

/**
 * What the server is made of, built outside `buildApp` so tests can hand in their own (a fake
 * `ClusterClient`, a manual clock, a capturing logger). The app takes ownership: closing it
 * closes the store and the cluster clients.
 */
export interface AppDependencies {
  readonly store: AgentStore
  readonly ca: CertificateAuthority
  readonly clusterClients: ClusterClients
  /** A pino logger (see `createLogger`). */
  readonly logger: FastifyBaseLogger
  /** Default: a new registry. Pass one when the cluster clients report to it (`onCall`). */
  readonly metrics?: ServerMetrics
  /** The clock for local token checks. Default `() => new Date()`. */
  readonly now?: () => Date
  /** Source of k8s_sat agent UUIDs. Default `crypto.randomUUID`. */
  readonly randomUuid?: () => string
  readonly intervals?: HousekeepingIntervals
  /**
   * How to read the configuration again, for reload without restart (SIGHUP and
   * `POST /v1/admin/reload`). Absent: the app cannot reload (tests that do not need it).
   */
  readonly reload?: ConfigSourceForReload
  /** The dashboard's built files. Default: `@k8s-attest/dashboard`'s build output. */
  readonly dashboardAssetsDir?: string
  /**
   * In a worker of `server.workers`: what it shares with the other workers through the primary
   * (dashboard sessions, rate-limit counts, the chart's totals, reload of every worker).
   * Absent: one process, all of it in this process's memory.
   */
  readonly shared?: SharedState
}

/** The server app: a fastify instance over HTTPS that has not been told to listen. */
export type App = FastifyInstance

/**
 * Builds the attestation server without listening (`main` listens; tests may `inject` or
 * listen on 127.0.0.1:0). It issues a fresh serving certificate from the CA, wires every route,
 * the error handler, rate limiting, OpenAPI, and the housekeeping timers (started on `ready`,
 * stopped on `close`).
 */
export async function buildApp(config: ServerConfig, deps: AppDependencies): Promise<App> {
  const { ca, store, clusterClients, logger } = deps
  const serving = await ca.issueServingCertificate({ dnsNames: config.dnsNames })
  const listenerTls = { signingCertificatePem: ca.signingCertificatePem, bundle: ca.bundle() }
  const limits = listenerLimits(config.listener)
  const app = fastify({
    loggerInstance: logger,
    https: { ...tlsOptions(serving, listenerTls.bundle), ...limits.https },
    ...limits.fastify,
    bodyLimit: BODY_LIMIT_BYTES,
    // Reject unknown fields (the schemas say additionalProperties: false) instead of dropping them.
    ajv: { customOptions: { removeAdditional: false } },
    schemaController: { compilersFactory: { buildValidator: strictBodyValidator } },
    // While closing, the onRequest hook below refuses with a problem (fastify's own 503 is not one).
    return503OnClosing: false,
    // What Node's HTTP parser refuses (408, 431, 400) gets a problem+json answer too.
    clientErrorHandler,
    // Probes and scrapes would fill an info log; attestations and refusals get lines of their own.
    logController: new LogController({ disableRequestLogging: true }),
    // Admin routes carry a SPIFFE ID (up to 2048 bytes) as a path parameter; fastify's default
    // limit of 100 characters (after percent-decoding) would refuse ordinary IDs before routing.
    routerOptions: { maxParamLength: SPIFFE_ID_MAX_BYTES },
    // Errors the router raises before any route runs get the same problem+json answer.
    frameworkErrors: (error, request, reply) => {
      handleError(error, request, reply)
    },
  }).withTypeProvider<TypeBoxTypeProvider>()
  installedListenerTls.set(app.server, listenerTls)
  app.server.maxConnections = limits.maxConnections
  refuseWhileClosing(app)
  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      {
        method: request.method,
        route: request.routeOptions.url,
        url: request.url,
        status: reply.statusCode,
        ms: reply.elapsedTime,
      },
      'request completed',
    )
  })

  const metrics = deps.metrics ?? new ServerMetrics()
  metrics.countAgentsWith(() => store.countAgents())
  const readiness = new Readiness({
    store,
    targets: permissionTargets(clusterClients, config.nodeAttestors),
    logger: app.log,
    ...(deps.intervals?.permissionRecheckMs === undefined
      ? {}
      : { recheckIntervalMs: deps.intervals.permissionRecheckMs }),
    ...(deps.intervals?.failingPermissionRecheckMs === undefined
      ? {}
      : { failingRecheckIntervalMs: deps.intervals.failingPermissionRecheckMs }),
  })
  const attestation = new AttestationService({
    trustDomain: config.trustDomain,
    nodeAttestors: config.nodeAttestors,
    clusterClients,
    signer: ca,
    store,
    ...(deps.randomUuid === undefined ? {} : { randomUuid: deps.randomUuid }),
    ...(deps.now === undefined ? {} : { now: deps.now }),
  })

  const configReloader =
    deps.reload === undefined
      ? undefined
      : new ConfigReloader({
          ...deps.reload,
          running: config,
          attestation,
          readiness,
          logger: app.log,
          ...(deps.now === undefined ? {} : { now: deps.now }),
        })

  app.setErrorHandler(handleError)
  app.setNotFoundHandler(handleNotFound)
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'k8s-attest server',
        version: '0.1.0',
        description: 'Kubernetes node attestation (k8s_psat, k8s_sat)',
      },
    },
  })
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: rateLimitedError,
    ...(deps.shared === undefined ? {} : { store: deps.shared.rateLimitStore }),
  })
  await app.register(servicesPlugin, { attestation, agents: store, ca, metrics, readiness, configReloader })

  const limit = routeRateLimit(config.rateLimit)
  await app.register(attestRoute, { rateLimit: limit })
  await app.register(renewRoute, { rateLimit: limit })
  await app.register(bundleRoute)
  await app.register(healthRoutes)
  if (config.admin !== undefined) {
    const authenticator = new AdminAuthenticator(config.admin)
    // The dashboard signs in with the admin credential, so it exists exactly when the admin API does.
    const sessions = new DashboardSessions({
      authenticator,
      ...(deps.shared === undefined ? {} : { table: deps.shared.sessions }),
    })
    await app.register(dashboardPlugin, {
      sessions,
      assetsDir: deps.dashboardAssetsDir ?? DASHBOARD_ASSETS_DIR,
      ...(deps.shared === undefined ? {} : { attestationTotals: deps.shared.attestationTotals }),
    })
    await app.register(adminAgentRoutes, { authenticator, sessions })
    if (configReloader !== undefined) {
      const reload = deps.shared?.reloadEverywhere ?? (() => configReloader.reload())
      await app.register(adminReloadRoute, { authenticator, reload })
    }
  }
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())

  const timers: NodeJS.Timeout[] = []
  app.addHook('onReady', async () => {
    readiness.start()
    timers.push(
      setInterval(() => {
        void rotateServingCertificate(app, ca, config.dnsNames)
      }, deps.intervals?.caRotationCheckMs ?? 60_000).unref(),
      setInterval(() => {
        store.pruneSatTokenClaims().then(
          (pruned) => app.log.debug({ pruned }, 'pruned expired SAT token claims'),
          (error: unknown) => app.log.error({ err: error }, 'pruning SAT token claims failed'),
        )
      }, deps.intervals?.satClaimPruneMs ?? 600_000).unref(),
    )
  })
  app.addHook('onClose', async () => {
    for (const timer of timers) clearInterval(timer)
    readiness.stop()
    // After in-flight attestations finish: fastify has stopped taking requests by now.
    await attestation.close()
    await store.close()
  })
  return app
}

/** What a listener's TLS context was built from: the CA that issued its certificate, and the bundle it trusts. */
interface ListenerTls {
  readonly signingCertificatePem: string
  readonly bundle: TrustBundle
}

/**
 * Per app server, what its TLS context holds now. Compared with the CA's current state rather
 * than trusting `rotateIfDue()`'s outcome: any signature (an attestation) may run a due
 * rotation first, and its outcome then reaches nobody.
 */
const installedListenerTls = new WeakMap<object, ListenerTls>()

/**
 * Applies a due CA rotation, or CA files another process sharing data_dir wrote. When the signing CA is not the one that issued the listener's
 * certificate, or the bundle is not the one the listener trusts (whoever ran the rotation),
 * the listener gets a new serving certificate and the current bundle for client certificates;
 * open connections keep theirs.
 */
export async function rotateServingCertificate(
  app: FastifyInstance,
  ca: CertificateAuthority,
  dnsNames: readonly string[],
): Promise<void> {
  try {
    await ca.rotateIfDueOrChanged()
    const installed = installedListenerTls.get(app.server)
    const signingCaChanged = installed?.signingCertificatePem !== ca.signingCertificatePem
    if (!signingCaChanged && installed?.bundle === ca.bundle()) return
    // Read before issuing: should another rotation run meanwhile, the next check sees it.
    const current = { signingCertificatePem: ca.signingCertificatePem, bundle: ca.bundle() }
    const serving = await ca.issueServingCertificate({ dnsNames })
    // buildApp always listens over HTTPS, so the raw server is an https.Server.
    const server = app.server as HttpsServer
    server.setSecureContext(secureContextOptions(serving, current.bundle))
    installedListenerTls.set(app.server, current)
    app.log.info(
      { serial: serving.serialHex, signing_ca_changed: signingCaChanged },
      'serving certificate reissued',
    )
  } catch (error) {
    app.log.error({ err: error }, 'CA rotation failed')
  }
}
