import { ApiException } from '@kubernetes/client-node'
import type { FastifyBaseLogger } from 'fastify'
import { Counter, type Registry } from 'prom-client'
import type { CertificateAuthority } from '../ca/certificate-authority.ts'
import type { K8sBundleNotifierConfig } from '../config/server-config.ts'
import type { CallOptions } from '../kubernetes/cluster-client.ts'
import {
  type ConfigMapData,
  type ConfigMapPatch,
  KubeClusterClient,
} from '../kubernetes/kube-cluster-client.ts'

/** The two calls the notifier makes (a {@link KubeClusterClient} in the server; a fake in tests). */
export interface ConfigMapApi {
  getConfigMap(namespace: string, name: string, options?: CallOptions): Promise<ConfigMapData | undefined>
  patchConfigMap(namespace: string, name: string, patch: ConfigMapPatch, options?: CallOptions): Promise<void>
  close(): Promise<void>
}

/** Options of {@link K8sBundleNotifier}. */
export interface K8sBundleNotifierOptions {
  readonly config: K8sBundleNotifierConfig
  readonly api: ConfigMapApi
  /** The trust bundle as PEM, current as of the call (any due CA rotation applied first). */
  readonly currentBundle: () => Promise<string>
  readonly logger: FastifyBaseLogger
  /** How often the bundle is compared with the one last published (no API call). Default 60 s. */
  readonly checkIntervalMs?: number
  /**
   * How often the ConfigMap is read even though the bundle did not change, so a ConfigMap that
   * was replaced or edited by hand gets the bundle back. Default 10 minutes.
   */
  readonly resyncMs?: number
  /** The first retry after a failure; each further one doubles, up to `checkIntervalMs`. Default 1 s. */
  readonly firstRetryDelayMs?: number
  /** How long each API call may take. Default 10 s. */
  readonly callTimeoutMs?: number
  /** Default `Date.now`. */
  readonly now?: () => number
  /** Called after each scheduled round with what it did (for the rounds counter). */
  readonly onRound?: (outcome: RoundOutcome) => void
}

/** What one scheduled round did: a {@link PublishOutcome}, or `failure`. */
export type RoundOutcome = PublishOutcome | 'failure'

/** What one {@link K8sBundleNotifier.publish} did. */
export type PublishOutcome =
  /** The bundle is the one last published, and the ConfigMap was read recently: no call made. */
  | 'unchanged'
  /** The ConfigMap already held this bundle (a restart, or another server wrote it). */
  | 'already-published'
  /** The ConfigMap was patched with this bundle. */
  | 'published'

/** Read-modify-write rounds lost to a concurrent writer before a publish gives up until the next retry. */
const MAX_CONFLICTS = 5

/**
 * SPIRE's `Notifier "k8sbundle"`: keeps the server's trust bundle in one key of a ConfigMap, so
 * that an agent starting with an empty `data_dir` (a new node, a pod rescheduled) reads CAs that
 * the server's certificate chains to, whichever CA signs now. Without it the ConfigMap holds
 * the CAs of the day it was written, and from the first takeover on (the successor signs from
 * 5/6 of a `ca_ttl`) new agents cannot verify the server.
 *
 * It publishes at start and whenever the bundle changes: a successor CA is prepared (at half
 * the CA's life, so published a third of a `ca_ttl` before it signs), a superseded one
 * expires. Each publication reads the ConfigMap and patches it at the version it read (a JSON
 * merge patch with `metadata.resourceVersion`: the API server answers 409 when someone else
 * wrote in between, and the round starts again), so several servers sharing the ConfigMap never
 * undo each other's newer write unseen. Only the configured key is written; other keys stay.
 * The ConfigMap must exist: the server needs only `get` and `patch` on that one name, as in
 * SPIRE.
 *
 * A failure (no ConfigMap, RBAC, an API server down) is logged with what to fix, counted, and
 * retried with backoff; it never stops the server, which goes on attesting the agents that
 * trust it. {@link close} aborts a call in flight, so a hung API server cannot hold up the
 * shutdown.
 */
export class K8sBundleNotifier {
  readonly #config: K8sBundleNotifierConfig
  readonly #api: ConfigMapApi
  readonly #currentBundle: () => Promise<string>
  readonly #logger: FastifyBaseLogger
  readonly #checkIntervalMs: number
  readonly #resyncMs: number
  readonly #firstRetryDelayMs: number
  readonly #callTimeoutMs: number
  readonly #now: () => number
  readonly #onRound: (outcome: RoundOutcome) => void
  /** The bundle the ConfigMap was last seen or made to hold, and when. */
  #confirmed: { readonly pem: string; readonly atMs: number } | undefined
  #failures = 0
  #timer: NodeJS.Timeout | undefined
  #running: Promise<void> | undefined
  #closed = false
  /** Aborts the call in flight when the server closes: it must not hold up the shutdown. */
  readonly #closing = new AbortController()

  constructor(options: K8sBundleNotifierOptions) {
    this.#config = options.config
    this.#api = options.api
    this.#currentBundle = options.currentBundle
    this.#logger = options.logger
    this.#checkIntervalMs = options.checkIntervalMs ?? 60_000
    this.#resyncMs = options.resyncMs ?? 10 * 60_000
    this.#firstRetryDelayMs = options.firstRetryDelayMs ?? 1000
    this.#callTimeoutMs = options.callTimeoutMs ?? 10_000
    this.#now = options.now ?? Date.now
    this.#onRound = options.onRound ?? (() => {})
  }

  /** `namespace/name`, as kubectl names the ConfigMap. */
  get configMapName(): string {
    return `${this.#config.namespace}/${this.#config.configMap}`
  }

  /** Publishes now, then checks every `checkIntervalMs` (retrying failures sooner) until {@link close}. */
  start(): void {
    this.#schedule(0)
  }

  /**
   * One round: publishes the current bundle unless the ConfigMap is known to hold it.
   *
   * @throws {Error} when the ConfigMap does not exist, when it was changed by someone else in
   *   every one of {@link MAX_CONFLICTS} rounds, or the `AttestError` (`ATT_ERR_KUBE_API_*`)
   *   of a failed API call; the ConfigMap is then as it was.
   */
  async publish(): Promise<PublishOutcome> {
    const pem = await this.#currentBundle()
    const confirmed = this.#confirmed
    if (confirmed?.pem === pem && this.#now() - confirmed.atMs < this.#resyncMs) return 'unchanged'
    const { namespace, configMap, configMapKey } = this.#config
    for (let conflicts = 0; ; conflicts++) {
      const current = await this.#api.getConfigMap(namespace, configMap, this.#callOptions())
      if (current === undefined) {
        throw new Error(
          `ConfigMap "${this.configMapName}" does not exist; the k8sbundle notifier only updates it: create it (kubectl -n ${namespace} create configmap ${configMap}), as deploy/base does`,
        )
      }
      if (current.data[configMapKey] === pem) {
        this.#confirmed = { pem, atMs: this.#now() }
        return 'already-published'
      }
      try {
        await this.#api.patchConfigMap(
          namespace,
          configMap,
          { resourceVersion: current.resourceVersion, data: { [configMapKey]: pem } },
          this.#callOptions(),
        )
        this.#confirmed = { pem, atMs: this.#now() }
        return 'published'
      } catch (error) {
        if (!isConflict(error)) throw error
        if (conflicts + 1 >= MAX_CONFLICTS) {
          throw new Error(
            `ConfigMap "${this.configMapName}" changed under each of ${MAX_CONFLICTS} attempts to write the trust bundle (HTTP 409 Conflict every time)`,
            { cause: error },
          )
        }
      }
    }
  }

  /** Stops the checks, aborts a call in flight (waiting for its round to end), closes the connections. */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#closing.abort(new Error('the server is closing'))
    await this.#running
    await this.#api.close()
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return
    this.#timer = setTimeout(() => {
      this.#running = this.#round().finally(() => {
        this.#running = undefined
      })
    }, delayMs).unref()
  }

  async #round(): Promise<void> {
    const fields = { config_map: this.configMapName, key: this.#config.configMapKey }
    try {
      const outcome = await this.publish()
      this.#onRound(outcome)
      if (this.#failures > 0) this.#logger.info({ ...fields, outcome }, 'trust bundle notifier recovered')
      this.#failures = 0
      if (outcome === 'published') this.#logger.info(fields, 'trust bundle published to ConfigMap')
      else if (outcome === 'already-published')
        this.#logger.debug(fields, 'ConfigMap already holds the trust bundle')
      this.#schedule(this.#checkIntervalMs)
    } catch (error) {
      // A round cut short by close() is no failure of the notifier.
      if (this.#closed) return
      this.#onRound('failure')
      this.#failures++
      const retryInMs = Math.min(this.#firstRetryDelayMs * 2 ** (this.#failures - 1), this.#checkIntervalMs)
      this.#logger.error(
        { ...fields, err: error, failures: this.#failures, retry_in_ms: retryInMs },
        'publishing the trust bundle to ConfigMap failed; agents with an empty data_dir may not trust the server until it succeeds',
      )
      this.#schedule(retryInMs)
    }
  }

  #callOptions(): CallOptions {
    return { signal: AbortSignal.any([AbortSignal.timeout(this.#callTimeoutMs), this.#closing.signal]) }
  }
}

/** The API server's 409: the ConfigMap is no longer at the version the patch names. */
function isConflict(error: unknown): boolean {
  const cause = (error as { cause?: unknown } | null)?.cause
  return cause instanceof ApiException && cause.code === 409
}

/** The name of the notifier's rounds counter. */
export const BUNDLE_NOTIFIER_ROUNDS_TOTAL = 'k8s_attest_bundle_notifier_rounds_total'

/** Options of {@link startK8sBundleNotifier}. */
export interface StartK8sBundleNotifierOptions {
  /** The CA whose bundle is published; the notifier runs its due rotations before reading it. */
  readonly ca: CertificateAuthority
  readonly logger: FastifyBaseLogger
  /**
   * Where `k8s_attest_bundle_notifier_rounds_total{outcome}` is registered: the server's own
   * registry, or in a server of `server.workers` the primary's, which `/metrics` aggregates with
   * the workers'. A rising `failure` count is the alert: agents with an empty data_dir may not
   * trust the server until a round publishes.
   */
  readonly registry: Registry
}

/**
 * The notifier of `config`, connected to the API server of its kubeconfig (or the in-cluster
 * service account) and started. In a server of `server.workers` the primary runs it: it is the
 * process that maintains the CA.
 */
export function startK8sBundleNotifier(
  config: K8sBundleNotifierConfig,
  options: StartK8sBundleNotifierOptions,
): K8sBundleNotifier {
  const { ca } = options
  const rounds = new Counter({
    name: BUNDLE_NOTIFIER_ROUNDS_TOTAL,
    help: 'Rounds of the trust-bundle notifier (Notifier "k8sbundle") by outcome: published, already-published, unchanged, failure',
    labelNames: ['outcome'] as const,
    registers: [options.registry],
  })
  const notifier = new K8sBundleNotifier({
    config,
    api: KubeClusterClient.fromKubeconfig({
      // Named in the API errors: "Kubernetes API call get configmaps in cluster "in-cluster" failed".
      cluster: config.kubeConfigFile ?? 'in-cluster',
      ...(config.kubeConfigFile === undefined ? {} : { kubeconfigFile: config.kubeConfigFile }),
    }),
    currentBundle: async () => {
      // A minute's check: it also notices CAs another process sharing data_dir wrote.
      await ca.rotateIfDueOrChanged()
      return ca.bundle().pem
    },
    logger: options.logger,
    onRound: (outcome) => rounds.inc({ outcome }),
  })
  notifier.start()
  return notifier
}
