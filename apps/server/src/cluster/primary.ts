import cluster, { type Worker } from 'node:cluster'
import type { ConfigReloadResponse } from '@k8s-attest/core'
import type { FastifyBaseLogger } from 'fastify'
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, Registry } from 'prom-client'
import { CertificateAuthority } from '../ca/certificate-authority.ts'
import type { ServerConfig } from '../config/server-config.ts'
import { MemorySessionTable, type StoredSession } from '../dashboard/session-table.ts'
import { openAgentStore } from '../datastore/open-agent-store.ts'
import { LOG_FIELDS } from '../logging/log-fields.ts'
import { ATTESTATIONS_TOTAL, type AttestationTotal, attestationTotalsOf } from '../metrics/metrics.ts'
import { type MetricsListener, startMetricsListener } from '../metrics/metrics-listener.ts'
import { startK8sBundleNotifier } from '../notifier/k8s-bundle-notifier.ts'
import { IpcChannel, type IpcEndpoint } from './ipc-channel.ts'
import { FixedWindowCounters, RATE_LIMIT_METHOD } from './rate-limit-store.ts'
import { type ReloadFanOut, reloadWorkers } from './reload-fan-out.ts'
import { PRIMARY_METHODS, WORKER_METHODS } from './worker-link.ts'
import { RestartPolicy } from './worker-supervisor.ts'

/** Options of {@link runPrimary}. */
export interface PrimaryOptions {
  readonly config: ServerConfig
  readonly logger: FastifyBaseLogger
  /** How long workers get to finish after SIGTERM before they are killed. */
  readonly graceMs: number
  /** Writes a startup failure (one line) for the operator. */
  readonly stderr: (text: string) => void
}

interface RunningWorker {
  readonly worker: Worker
  readonly channel: IpcChannel
  listening: boolean
  /** A reload came while it was starting: it reloads once it listens (see `reloadWorkers`). */
  reloadOnListening: boolean
  /** When it was forked (`Date.now()`), for how long it lived. */
  readonly forkedAt: number
}

/**
 * The primary of `server.workers`: it serves no request itself. Before any worker starts it
 * opens the datastore once (so migrations run in one process) and the CA (so exactly one process
 * creates it), then forks `workers` processes that share the listening port (node:cluster,
 * round-robin: the primary accepts and hands each connection to the next worker). It keeps what
 * the workers must agree on — dashboard sessions, rate-limit counts, CA creation and rotation —
 * publishes the trust bundle (`Notifier "k8sbundle"`), serves `/metrics` from every worker's
 * registry aggregated, and turns signals into actions on every worker: SIGHUP reloads each,
 * SIGTERM/SIGINT stop each gracefully and then the primary (exit 0).
 *
 * A worker that dies is logged and restarted with backoff (see `RestartPolicy`); a worker that
 * dies before it ever listened, or too many young deaths in a row, stop everything with exit 1.
 *
 * @returns 1 when the datastore or the CA cannot be used, or the metrics port cannot be bound
 *   (nothing was forked); otherwise it never settles before the primary exits.
 */
export async function runPrimary(options: PrimaryOptions): Promise<number> {
  const { config, logger } = options
  try {
    // Migrations once, here, instead of racing in every worker.
    const store = await openAgentStore({ ...config.dataStore, logger })
    await store.close()
  } catch (error) {
    return startupFailure(options, 'datastore', error)
  }
  let ca: CertificateAuthority
  try {
    ca = await CertificateAuthority.open({
      dataDir: config.dataDir,
      trustDomain: config.trustDomain,
      caTtlMs: config.caTtlMs,
      agentTtlMs: config.agentTtlMs,
    })
  } catch (error) {
    return startupFailure(options, 'CA', error)
  }

  const workers = new Map<number, RunningWorker>()
  const sessions = new MemorySessionTable()
  const rateLimits = new FixedWindowCounters()
  const restarts = new RestartPolicy()
  let stopping = false

  // The primary's own metrics (the trust-bundle notifier's), served with the workers'.
  const primaryMetrics = new Registry()
  const aggregate = async (): Promise<Registry> => {
    const running = [...workers.values()].filter((entry) => entry.listening)
    const answers = await Promise.all(
      running.map((entry) =>
        entry.channel.request<MetricObjectWithValues<MetricValue<string>>[]>(WORKER_METHODS.metrics),
      ),
    )
    return AggregatorRegistry.aggregate([...answers, await primaryMetrics.getMetricsAsJSON()])
  }
  const attestationTotals = async (): Promise<AttestationTotal[]> => {
    const counter = (await aggregate()).getSingleMetric(ATTESTATIONS_TOTAL)
    return counter === undefined ? [] : attestationTotalsOf((await counter.get()).values)
  }
  const reloadRunningWorkers = (): Promise<ReloadFanOut> =>
    reloadWorkers(
      [...workers.values()].map((entry) => ({
        id: entry.worker.id,
        listening: entry.listening,
        // A worker whose channel is gone has not refused anything, even before its exit is seen.
        isRunning: () => workers.get(entry.worker.id) === entry && entry.worker.isConnected(),
        reload: () => entry.channel.request<ConfigReloadResponse>(WORKER_METHODS.reload),
        reloadOnceListening: () => {
          entry.reloadOnListening = true
        },
      })),
    )
  // POST /v1/admin/reload, through the worker that received it (which listens, so answers).
  const reloadEverywhere = async (): Promise<ConfigReloadResponse> => {
    if (stopping) throw new Error('the server is stopping; its workers are not reloaded')
    const { answer } = await reloadRunningWorkers()
    if (answer === undefined) throw new Error('no worker is listening to reload')
    return answer
  }
  const reloadStartedWorker = (entry: RunningWorker) => {
    entry.reloadOnListening = false
    entry.channel.request<ConfigReloadResponse>(WORKER_METHODS.reload).then(
      () =>
        logger.info(
          { [LOG_FIELDS.worker]: entry.worker.id },
          'worker reloaded its configuration once it listened',
        ),
      (error: unknown) => {
        if (workers.get(entry.worker.id) !== entry) return // it exited; its successor reads the file
        logger.warn(
          { err: error, [LOG_FIELDS.worker]: entry.worker.id },
          'configuration reload refused by a worker that just started; it keeps what it started with',
        )
      },
    )
  }

  let metricsListener: MetricsListener | undefined
  if (config.metrics !== undefined) {
    try {
      metricsListener = await startMetricsListener(config.metrics, {
        contentType: AggregatorRegistry.PROMETHEUS_CONTENT_TYPE,
        metrics: async () => (await aggregate()).metrics(),
      })
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      options.stderr(
        `cannot start: cannot listen on ${config.metrics.host}:${config.metrics.port} (telemetry.Prometheus): ${reason}\n`,
      )
      return 1
    }
    const { address, port } = metricsListener.address
    logger.info({ address, port }, 'serving Prometheus metrics at /metrics, aggregated over the workers')
  }

  // The primary maintains the CA, so it is the one process that publishes its bundle.
  const bundleNotifier =
    config.bundleNotifier === undefined
      ? undefined
      : startK8sBundleNotifier(config.bundleNotifier, { ca, logger, registry: primaryMetrics })

  const finish = async (status: number): Promise<never> => {
    await bundleNotifier?.close().catch(() => undefined)
    await metricsListener?.close().catch(() => undefined)
    logger.info({ status }, status === 0 ? 'every worker stopped; exiting' : 'exiting after a failure')
    process.exit(status)
  }

  const stopAll = (reason: string, status: number) => {
    if (stopping) return
    stopping = true
    let exitStatus = status
    logger.info({ workers: workers.size, reason }, 'stopping the workers')
    for (const { worker } of workers.values()) worker.process.kill('SIGTERM')
    const killer = setTimeout(() => {
      exitStatus = 1
      for (const { worker } of workers.values()) {
        logger.error({ [LOG_FIELDS.worker]: worker.id }, 'worker did not stop in time; killing it')
        worker.process.kill('SIGKILL')
      }
    }, options.graceMs + 5000).unref()
    const done = () => {
      if (workers.size > 0) return
      clearTimeout(killer)
      void finish(exitStatus)
    }
    exitWaiters.push(done)
    done()
  }
  const exitWaiters: (() => void)[] = []

  const fork = () => {
    const worker = cluster.fork()
    const channel = new IpcChannel(worker as unknown as IpcEndpoint)
    const entry: RunningWorker = {
      worker,
      channel,
      listening: false,
      reloadOnListening: false,
      forkedAt: Date.now(),
    }
    workers.set(worker.id, entry)
    channel.handle(PRIMARY_METHODS.sessionAdd, (params) => {
      const { key, session } = params as { key: string; session: StoredSession }
      return sessions.add(key, session)
    })
    channel.handle(PRIMARY_METHODS.sessionGet, async (params) => {
      const { key, nowMs } = params as { key: string; nowMs: number }
      return (await sessions.get(key, nowMs)) ?? null
    })
    channel.handle(PRIMARY_METHODS.sessionDelete, (params) =>
      sessions.delete((params as { key: string }).key),
    )
    channel.handle(PRIMARY_METHODS.mtlsCsrfToken, (params) =>
      sessions.mtlsCsrfToken((params as { spiffeId: string }).spiffeId),
    )
    channel.handle(RATE_LIMIT_METHOD, (params) => {
      const { key, timeWindow } = params as { key: string; timeWindow: number }
      return rateLimits.increment(key, timeWindow)
    })
    channel.handle(PRIMARY_METHODS.attestationTotals, attestationTotals)
    channel.handle(PRIMARY_METHODS.reloadEverywhere, reloadEverywhere)
    channel.handle(PRIMARY_METHODS.maintainCa, async () => {
      const outcome = await ca.reconcileNow()
      if (outcome.signingCaChanged || outcome.bundleChanged)
        logger.info(outcome, 'CA files changed at a worker’s request')
    })
    worker.on('listening', () => {
      entry.listening = true
      logger.info({ [LOG_FIELDS.worker]: worker.id, pid: worker.process.pid }, 'worker listening')
      if (entry.reloadOnListening) reloadStartedWorker(entry)
    })
    worker.on('exit', (code, signal) => {
      channel.close()
      workers.delete(worker.id)
      const fields = { [LOG_FIELDS.worker]: worker.id, pid: worker.process.pid, code, signal }
      if (stopping) {
        logger.info(fields, 'worker stopped')
        for (const waiter of exitWaiters) waiter()
        return
      }
      if (!entry.listening) {
        logger.error(fields, 'worker exited before it listened; stopping')
        stopAll('a worker could not start', 1)
        return
      }
      const verdict = restarts.onDeath(Date.now() - entry.forkedAt)
      if (!verdict.restart) {
        logger.error(fields, 'workers keep dying; stopping')
        stopAll('workers keep dying', 1)
        return
      }
      logger.error({ ...fields, restart_in_ms: verdict.delayMs }, 'worker died; restarting it')
      setTimeout(() => {
        if (!stopping) fork()
      }, verdict.delayMs)
    })
  }

  process.on('SIGTERM', () => stopAll('SIGTERM', 0))
  process.on('SIGINT', () => stopAll('SIGINT', 0))
  process.on('SIGHUP', () => {
    if (stopping) {
      logger.info('SIGHUP ignored: the server is stopping')
      return
    }
    reloadRunningWorkers().then(
      ({ answer, reloaded, deferred, gone }) =>
        logger.info(
          { config_file: answer?.config_file, reloaded, starting: deferred.length, exited: gone },
          deferred.length === 0 && gone === 0
            ? 'every worker reloaded its configuration'
            : 'every listening worker reloaded its configuration; those starting reload once they listen, those that exited are replaced by workers that read it as they start',
        ),
      (error: unknown) =>
        logger.warn({ err: error }, 'configuration reload refused; the workers keep theirs'),
    )
  })

  cluster.schedulingPolicy = cluster.SCHED_RR
  logger.info({ workers: config.workers, pid: process.pid }, 'starting worker processes')
  for (let index = 0; index < config.workers; index++) fork()
  return new Promise<number>(() => undefined)
}

function startupFailure(options: PrimaryOptions, what: string, error: unknown): number {
  const code = (error as { code?: unknown } | null)?.code
  if (!(error instanceof Error) || typeof code !== 'string' || !code.startsWith('ATT_ERR_')) throw error
  options.stderr(`cannot start: the ${what} cannot be used (${code}): ${error.message}\n`)
  return 1
}
