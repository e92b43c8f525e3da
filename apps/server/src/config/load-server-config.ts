import { dirname, resolve } from 'node:path'
import {
  type ConfigIssue,
  type ConfigSource,
  type ExpandEnvOptions,
  parseConfig,
  readConfigFile,
} from '@k8s-attest/spire-config'
import { readDataStoreSection } from './datastore-section.ts'
import { readNodeAttestors } from './node-attestor-section.ts'
import { readNotifierSection } from './notifier-section.ts'
import type { ServerConfig } from './server-config.ts'
import { readServerSection } from './server-section.ts'
import { readTelemetrySection } from './telemetry-section.ts'

/** Options of {@link loadServerConfig}: `spire-server run -expandEnv`. */
export type LoadServerConfigOptions = ExpandEnvOptions

/** Options of {@link parseServerConfig}. */
export interface ParseServerConfigOptions extends LoadServerConfigOptions {
  /**
   * The directory relative paths in the configuration resolve against. Default: the directory
   * of `fileName`, so a file means the same wherever the server is started from.
   */
  readonly baseDir?: string
}

/** SPIRE top-level sections and plugin types k8s-attest does not have, with what to do instead. */
const UNSUPPORTED_TOP_LEVEL_KEYS: Readonly<Record<string, string>> = {
  health_checks: 'k8s-attest serves its health endpoints on the main listener',
}
const UNSUPPORTED_PLUGIN_TYPES: Readonly<Record<string, string>> = {
  KeyManager: 'the CA key is kept in data_dir, as with SPIRE\'s KeyManager "disk"',
  UpstreamAuthority: 'the CA is self-signed; upstream authorities are not supported',
  NodeResolver: 'k8s-attest has no node resolvers',
  BundlePublisher: 'k8s-attest has no bundle publishers',
  CredentialComposer: 'k8s-attest has no credential composers',
}

/**
 * Reads, checks and completes the server configuration file at `path` (SPIRE's HCL layout:
 * `server { … }` and `plugins { … }`).
 *
 * Relative paths inside the file (`data_dir`, `bearer_token_file`, `kube_config_file`,
 * `kube_config_file_path`, `service_account_key_file`, a SQLite `connection_string`) resolve
 * against the directory of the file, not the working directory. Files the configuration points to are read now.
 *
 * @throws {ConfigError} `ATT_ERR_CONFIG_UNREADABLE` when the file cannot be read,
 *   `ATT_ERR_CONFIG_SYNTAX` for HCL syntax errors, `ATT_ERR_CONFIG_INVALID` listing every other
 *   problem at once (each with its key path).
 *
 * @example
 * ```ts
 * const config = await loadServerConfig('conf/server.conf', { expandEnv: true })
 * for (const warning of config.warnings) log.warn(warning, 'configuration')
 * ```
 */
export async function loadServerConfig(
  path: string,
  options: LoadServerConfigOptions = {},
): Promise<ServerConfig> {
  const text = await readConfigFile(serverConfigSource(path))
  return parseServerConfig(text, path, { ...options, baseDir: dirname(resolve(path)) })
}

/**
 * Checks and completes a server configuration given as text. `fileName` names it in errors
 * and, unless `options.baseDir` is given, anchors relative paths. Same errors as
 * {@link loadServerConfig}, except `ATT_ERR_CONFIG_UNREADABLE`.
 */
export async function parseServerConfig(
  text: string,
  fileName: string,
  options: ParseServerConfigOptions = {},
): Promise<ServerConfig> {
  const baseDir = options.baseDir ?? dirname(resolve(fileName))
  const resolvePath = (path: string) => resolve(baseDir, path)
  return parseConfig(text, serverConfigSource(fileName), options, async (root) => {
    const warnings: ConfigIssue[] = []
    const serverBlock = root.block('server', { required: true })
    const pluginsBlock = root.block('plugins', { required: true })
    const metrics = readTelemetrySection(root.block('telemetry'))
    root.rejectUnknownKeys(UNSUPPORTED_TOP_LEVEL_KEYS)

    const server = await readServerSection(serverBlock, resolvePath, warnings)
    const dataStore = readDataStoreSection(pluginsBlock, resolvePath, server.dataDir)
    const nodeAttestors = await readNodeAttestors(pluginsBlock, resolvePath)
    const bundleNotifier = await readNotifierSection(pluginsBlock, resolvePath)
    pluginsBlock?.rejectUnknownKeys(UNSUPPORTED_PLUGIN_TYPES)
    return deepFreeze({
      configFile: fileName,
      ...server,
      dataStore,
      nodeAttestors,
      bundleNotifier,
      metrics,
      warnings,
    })
  })
}

/** Names the file in every ConfigError: "invalid server configuration "<fileName>" …". */
function serverConfigSource(fileName: string): ConfigSource {
  return { fileName, subject: 'server' }
}

/**
 * Freezes plain objects and arrays all the way down, so no part of the configuration can be
 * changed after loading. Maps, key objects and secrets are left as they are (their types are
 * already read-only).
 */
function deepFreeze<T>(value: T): T {
  if (Array.isArray(value) || (typeof value === 'object' && value !== null && value.constructor === Object)) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  } else if (value instanceof Map) {
    for (const child of value.values()) deepFreeze(child)
  }
  return value
}
