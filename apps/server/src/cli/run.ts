import cluster from 'node:cluster'
import closeWithGrace from 'close-with-grace'
import type { Logger } from 'pino'
import { buildApp } from '../app.ts'
import { CertificateAuthority } from '../ca/certificate-authority.ts'
import { runPrimary } from '../cluster/primary.ts'
import { WorkerLink } from '../cluster/worker-link.ts'
import type { NodeAttestorsConfig, ServerConfig } from '../config/server-config.ts'
import { openAgentStore } from '../datastore/open-agent-store.ts'
import { closeClusterClients, createClusterClients } from '../kubernetes/cluster-clients.ts'
import { LOG_FIELDS } from '../logging/log-fields.ts'
import { createLogger } from '../logging/logger.ts'
import { ServerMetrics } from '../metrics/metrics.ts'
import { type MetricsListener, startMetricsListener } from '../metrics/metrics-listener.ts'
import { type K8sBundleNotifier, startK8sBundleNotifier } from '../notifier/k8s-bundle-notifier.ts'
import type { CliIo } from './cli-io.ts'
import { CONFIG_FLAGS, configLoaderFromFlags, loadConfigFromFlags } from './config-flags.ts'
import { type FlagSpec, type ParsedFlags, parseFlags } from './flags.ts'

/** SPIRE's `run` flags that k8s-attest has. */
export const RUN_FLAGS: readonly FlagSpec[] = [...CONFIG_FLAGS]

/** How long in-flight requests get to finish after SIGTERM before the process exits anyway. */
const GRACE_MS = 10_000

/**
 * `k8s-attest-server run -config server.conf [-expandEnv]`: loads the configuration (every
 * problem listed, exit 1 before listening), opens the datastore and the CA, connects to each
 * cluster, builds the app and listens; SIGTERM/SIGINT close it gracefully (in-flight requests
 * finish, the store and cluster connections are closed); SIGHUP reloads the configuration
 * (clusters and allow-lists; see `NON_RELOADABLE_KEYS`).
 *
 * With `server.workers` above 1 the same command is the primary (`runPrimary`: it forks the
 * workers and serves no request itself), and each worker, started by node:cluster with the same
 * arguments, runs the rest of this function: it shares the listening port, asks the primary
 * for what workers share (`WorkerLink`), leaves CA changes, the k8sbundle notifier and
 * `/metrics` to it, and tags its log lines with its worker id.
 *
 * @returns the exit status for a failure before listening; after listening the process runs
 *   until a signal.
 */
export async function runServer(args: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(args, RUN_FLAGS)
  const config = await loadConfigFromFlags(flags, io)
  if (config === undefined) return 1
  const baseLogger = createLogger({ level: config.logLevel })
  if (config.workers > 1 && cluster.isPrimary) {
    const logger = baseLogger.child({ [LOG_FIELDS.worker]: 'primary' })
    for (const warning of config.warnings) logger.warn({ config_key: warning.path }, warning.message)
    return runPrimary({ config, logger, graceMs: GRACE_MS, stderr: io.stderr })
  }
  // A forked worker stays one even if the file it re-read now says `workers = 1` (edited since
  // the primary started): the primary holds the port and the shared state until it restarts.
  const inCluster = cluster.isWorker
  const link = inCluster ? new WorkerLink() : undefined
  const logger = inCluster ? baseLogger.child({ [LOG_FIELDS.worker]: cluster.worker?.id }) : baseLogger
  // The primary has logged the configuration's warnings once for all workers.
  if (!inCluster)
    for (const warning of config.warnings) logger.warn({ config_key: warning.path }, warning.message)
  try {
    const status = await serve(config, flags, io, logger, link)
    if (status !== 0 && link !== undefined) workerCannotStart(link, status)
    return status
  } catch (error) {
    if (link !== undefined) {
      logger.error({ err: error }, 'worker failed to start')
      workerCannotStart(link, 1)
    }
    throw error
  }
}

/** Opens everything, builds the app and listens: one process, or one worker of `server.workers`. */
async function serve(
  config: ServerConfig,
  flags: ParsedFlags,
  io: CliIo,
  logger: Logger,
  link: WorkerLink | undefined,
): Promise<number> {
  const metrics = new ServerMetrics()
  const store = await openAgentStore({ ...config.dataStore, logger }).catch(startupFailure(io, 'datastore'))
  if (store === undefined) return 1
  const ca = await CertificateAuthority.open({
    dataDir: config.dataDir,
    trustDomain: config.trustDomain,
    caTtlMs: config.caTtlMs,
    agentTtlMs: config.agentTtlMs,
    ...(link === undefined ? {} : { maintain: link.shared.maintainCa }),
  }).catch(startupFailure(io, 'CA'))
  const issuing =
    ca === undefined ? undefined : await ca.checkIssuance().then(() => true, startupFailure(io, 'CA'))
  if (ca === undefined || issuing === undefined) {
    await store.close()
    return 1
  }
  const clientsFor = (nodeAttestors: NodeAttestorsConfig) =>
    createClusterClients(nodeAttestors, {
      onCall: (cluster, call) => metrics.recordKubeApiCall(cluster, call),
      onCacheError: (cluster, what, error) =>
        logger.warn({ [LOG_FIELDS.cluster]: cluster, err: error }, `${what} informer failed; restarting it`),
    })
  const clusterClients = clientsFor(config.nodeAttestors)
  const reload = { loadConfig: configLoaderFromFlags(flags), createClusterClients: clientsFor }
  let app: Awaited<ReturnType<typeof buildApp>>
  try {
    app = await buildApp(config, {
      store,
      ca,
      clusterClients,
      logger,
      metrics,
      reload,
      ...(link === undefined ? {} : { shared: link.shared }),
    })
  } catch (error) {
    // Before buildApp returns, nothing owns the store and the cluster connections but us.
    await closeClusterClients(clusterClients)
    await store.close()
    throw error
  }
  let metricsListener: MetricsListener | undefined
  let bundleNotifier: K8sBundleNotifier | undefined
  // Before listen: a SIGTERM that arrives as soon as the listener is up must close gracefully too.
  // SIGHUP re-reads the configuration (as `POST /v1/admin/reload`); the reloader logs the
  // outcome, a refusal included, and the server keeps running either way.
  const reloadOnHangup = () => {
    app.configReloader?.reload().catch(() => undefined)
  }
  process.on('SIGHUP', reloadOnHangup)
  // SIGHUP means reload here (as for most daemons), not close: close-with-grace would close on it.
  const graceful = closeWithGrace({ delay: GRACE_MS, logger, skip: ['SIGHUP'] }, async ({ signal, err }) => {
    if (err !== undefined) logger.error({ err }, 'closing after an uncaught error')
    else logger.info({ signal }, 'closing')
    process.off('SIGHUP', reloadOnHangup)
    await bundleNotifier?.close()
    await metricsListener?.close()
    await app.close()
    link?.close()
  })
  if (link !== undefined) {
    link.serve({ metrics, configReloader: app.configReloader })
    // The primary is gone (killed, say): a worker without it cannot share anything, so it stops.
    process.once('disconnect', () => {
      logger.error('the primary process is gone; closing')
      void graceful.close()
    })
  }
  let listening = `${config.bindAddress}:${config.bindPort}`
  try {
    await app.listen({ host: config.bindAddress, port: config.bindPort })
    // In a worker the primary serves /metrics, aggregated over every worker.
    if (config.metrics !== undefined && link === undefined) {
      listening = `${config.metrics.host}:${config.metrics.port} (telemetry.Prometheus)`
      metricsListener = await startMetricsListener(config.metrics, metrics.registry)
      const { address, port } = metricsListener.address
      logger.info({ address, port }, 'serving Prometheus metrics at /metrics')
    }
  } catch (error) {
    graceful.uninstall()
    process.off('SIGHUP', reloadOnHangup)
    await app.close()
    const reason = error instanceof Error ? error.message : String(error)
    io.stderr(`cannot start: cannot listen on ${listening}: ${reason}\n`)
    return 1
  }
  // In a worker the primary publishes the bundle: it maintains the CA.
  if (config.bundleNotifier !== undefined && link === undefined)
    bundleNotifier = startK8sBundleNotifier(config.bundleNotifier, { ca, logger, registry: metrics.registry })
  return 0
}

/**
 * Ends a worker that could not start, at once: what it opened is closed already, but a cluster
 * worker's IPC channel (and anything a half-built app left) would keep the process alive, and
 * the primary waits for its exit to stop the server. Standard error is a pipe here, written
 * synchronously on Linux, so the reason is out before the exit.
 */
function workerCannotStart(link: WorkerLink, status: number): never {
  link.close()
  process.exit(status)
}

/**
 * Reports a known startup failure (the datastore or the CA in data_dir cannot be used: codes
 * `ATT_ERR_DATASTORE_*`, `ATT_ERR_CA_STORE_INVALID`) as one line, so the caller exits 1 before
 * listening; anything else is a bug and is rethrown with its stack.
 */
function startupFailure(io: CliIo, what: string): (error: unknown) => undefined {
  return (error) => {
    const code = (error as { code?: unknown } | null)?.code
    if (!(error instanceof Error) || typeof code !== 'string' || !code.startsWith('ATT_ERR_')) throw error
    io.stderr(`cannot start: the ${what} cannot be used (${code}): ${error.message}\n`)
    return undefined
  }
}
