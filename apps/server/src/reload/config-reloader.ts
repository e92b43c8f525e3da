import { AttestError, type ConfigReloadResponse } from '@k8s-attest/core'
import { isConfigError } from '@k8s-attest/spire-config'
import type { FastifyBaseLogger } from 'fastify'
import type { AttestationService } from '../attestation/attestation-service.ts'
import { AttestorClusters } from '../attestation/attestor-clusters.ts'
import type { NodeAttestorsConfig, ServerConfig } from '../config/server-config.ts'
import type { ClusterClients } from '../kubernetes/cluster-clients.ts'
import { LOG_FIELDS } from '../logging/log-fields.ts'
import { permissionTargets } from '../readiness/permission-targets.ts'
import type { Readiness } from '../readiness/readiness.ts'
import { changedNonReloadableKeys, clusterChanges, isNoChange } from './config-diff.ts'

/** How a reload gets its configuration and its clients: the same loader and factory `run` used at start. */
export interface ConfigSourceForReload {
  /** Reads and checks the configuration file again (`loadServerConfig` with the start flags). */
  readonly loadConfig: () => Promise<ServerConfig>
  /** Creates the API clients of the clusters in `nodeAttestors` (`createClusterClients`). */
  readonly createClusterClients: (nodeAttestors: NodeAttestorsConfig) => ClusterClients
}

/** Options of {@link ConfigReloader}. */
export interface ConfigReloaderOptions extends ConfigSourceForReload {
  /** The configuration the server is running with. */
  readonly running: ServerConfig
  readonly attestation: AttestationService
  readonly readiness: Readiness
  readonly logger: FastifyBaseLogger
  /** The clock for local token checks of new clusters. Default `() => new Date()`. */
  readonly now?: () => Date
}

/**
 * Configuration reload without restart (SIGHUP, `POST /v1/admin/reload`): reads the
 * configuration file through the one loader and, when it is valid and changes only reloadable
 * keys (`NON_RELOADABLE_KEYS` lists the others), swaps in the new clusters whole. Attestations
 * that start afterwards use the new clusters; running ones finish on the old, which are closed
 * when the last of them is done. A refused reload changes nothing.
 *
 * Each reload writes one log line: what changed, or why it was refused (every problem listed).
 * Reloads run one at a time, in the order they were asked for.
 */
export class ConfigReloader {
  readonly #options: ConfigReloaderOptions
  #running: ServerConfig
  #queue: Promise<unknown> = Promise.resolve()

  constructor(options: ConfigReloaderOptions) {
    this.#options = options
    this.#running = options.running
  }

  /** The configuration in effect (the last one applied). */
  get running(): ServerConfig {
    return this.#running
  }

  /**
   * Reads the configuration file and applies it.
   *
   * @returns what changed, per attestor.
   * @throws {AttestError} `ATT_ERR_CONFIG_RELOAD_REFUSED` when the file cannot be read, is
   *   invalid (every problem in the message) or changes a key that needs a restart (each key
   *   named); the running configuration stays.
   */
  reload(): Promise<ConfigReloadResponse> {
    const next = this.#queue.then(() => this.#reloadNow())
    this.#queue = next.catch(() => undefined)
    return next
  }

  async #reloadNow(): Promise<ConfigReloadResponse> {
    const { logger } = this.#options
    const configFile = this.#running.configFile
    try {
      const next = await this.#loadChecked(configFile)
      const changes = clusterChanges(this.#running, next)
      if (!isNoChange(changes)) this.#apply(next)
      this.#running = next
      for (const warning of next.warnings) logger.warn({ config_key: warning.path }, warning.message)
      const response = { config_file: configFile, ...changes }
      logger.info(
        { [LOG_FIELDS.check]: 'config_reload', ...response },
        isNoChange(changes) ? 'configuration reloaded: no change' : 'configuration reloaded',
      )
      return response
    } catch (error) {
      logger.error(
        { [LOG_FIELDS.check]: 'config_reload', config_file: configFile, err: error },
        error instanceof Error ? error.message : String(error),
      )
      throw error
    }
  }

  /** The file's configuration, or a refusal saying everything that is wrong with it. */
  async #loadChecked(configFile: string): Promise<ServerConfig> {
    let next: ServerConfig
    try {
      next = await this.#options.loadConfig()
    } catch (error) {
      if (!isConfigError(error)) throw error
      throw refusal(`${error.message}\nthe running configuration stays`, 'config_valid', configFile, error)
    }
    const keys = changedNonReloadableKeys(this.#running, next)
    if (keys.length > 0) {
      throw refusal(
        `configuration reload refused: ${keys.length === 1 ? 'this key needs' : 'these keys need'} a restart to change: ${keys.join(', ')}; ` +
          'restart the server to apply them, or put their running values back to reload the rest; the running configuration stays',
        'config_reloadable',
        keys.join(', '),
      )
    }
    return next
  }

  /** Builds the new clusters and swaps them in; the old ones close once their attestations finish. */
  #apply(next: ServerConfig): void {
    const { logger, attestation, readiness } = this.#options
    let clients: ClusterClients
    try {
      clients = this.#options.createClusterClients(next.nodeAttestors)
    } catch (error) {
      throw refusal(
        `configuration reload refused: cannot create the Kubernetes API clients: ${error instanceof Error ? error.message : String(error)}; the running configuration stays`,
        'cluster_clients',
        next.configFile,
        error,
      )
    }
    const clusters = AttestorClusters.build({
      nodeAttestors: next.nodeAttestors,
      clusterClients: clients,
      ...(this.#options.now === undefined ? {} : { now: this.#options.now }),
    })
    attestation.replaceClusters(clusters).catch((error: unknown) => {
      logger.error({ err: error }, 'closing the replaced clusters\u2019 API clients failed')
    })
    void readiness.replaceTargets(permissionTargets(clients, next.nodeAttestors))
  }
}

function refusal(message: string, check: string, value: string, cause?: unknown): AttestError {
  return new AttestError('ATT_ERR_CONFIG_RELOAD_REFUSED', message, {
    check,
    value,
    ...(cause === undefined ? {} : { cause }),
  })
}
