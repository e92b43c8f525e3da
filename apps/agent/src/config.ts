import { isIP } from 'node:net'
import { dirname, resolve } from 'node:path'
import { type AttestorType, clusterNameProblem, trustDomainProblem } from '@k8s-attest/core'
import {
  type ConfigSource,
  type ExpandEnvOptions,
  type HclBodyReader,
  parseConfig,
  readConfigFile,
} from '@k8s-attest/spire-config'

/**
 * The agent's configuration after loading: defaults applied, relative paths made absolute
 * against the configuration file's directory (the bootstrap bundle file is read when it is used).
 * Durations are in milliseconds and say so in their names. The file format is SPIRE's agent
 * configuration (`agent { … }`, `plugins { NodeAttestor "…" { plugin_data { … } } }`,
 * `telemetry { Prometheus { … } }`); each field names its HCL key.
 */
export interface AgentConfig {
  /** The configuration file as it was named to the loader, for messages. */
  readonly configFile: string
  /** `agent.trust_domain` (required): the trust domain of the server and of the SVID, e.g. `"example.org"`. */
  readonly trustDomain: string
  /** `agent.server_address` (required): host name or IP address of the server. */
  readonly serverAddress: string
  /** `agent.server_port`: the server's port. Default `8081`, as SPIRE. */
  readonly serverPort: number
  /**
   * `agent.data_dir` (required): where the SVID with its key (`agent-svid.pem`, mode 0600) and
   * the trust bundle (`bundle.pem`) are kept across restarts. Absolute.
   */
  readonly dataDir: string
  /**
   * How the agent comes to trust the server the first time, when data_dir holds no bundle yet:
   * exactly one of `agent.trust_bundle_path`, `agent.trust_bundle_url` or
   * `agent.insecure_bootstrap = true`. Once a bundle is stored, it is used instead; should it
   * stop vouching for the server, `trust_bundle_path` is read again and added to it (the run's
   * `#distrust` says why the other two are not).
   */
  readonly trustBootstrap: TrustBootstrap
  /** `agent.log_level`: `DEBUG`, `INFO`, `WARN` or `ERROR` in any case, here as pino names it. Default `info`. */
  readonly logLevel: LogLevel
  /** `plugins { NodeAttestor "k8s_psat" | "k8s_sat" { … } }`: exactly one. */
  readonly nodeAttestor: NodeAttestorConfig
  /** `agent.retry_initial_interval`: the first wait after a failed attempt. Default 1 s. */
  readonly retryInitialIntervalMs: number
  /**
   * `agent.retry_max_interval`: the cap of the exponential backoff, and the wait after a
   * permanent refusal (the operator has to change something; retrying faster helps nobody).
   * Default 60 s.
   */
  readonly retryMaxIntervalMs: number
  /** `agent.connect_timeout`: TCP and TLS handshake timeout for each server connection. Default 10 s. */
  readonly connectTimeoutMs: number
  /**
   * `agent.request_timeout`: how long the server may take to send response headers, and then
   * between two body chunks. Default 30 s (undici's own default is 300 s, far too long here).
   */
  readonly requestTimeoutMs: number
  /** `telemetry { Prometheus { host, port } }`: the `/metrics` listener; `undefined` (no block) means none. */
  readonly metrics: MetricsListenerConfig | undefined
}

/** Log levels as pino names them. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** See {@link AgentConfig.trustBootstrap}. */
export type TrustBootstrap =
  | {
      /**
       * `trust_bundle_path`: a PEM file of CA certificates, read at each bootstrap, not when the
       * configuration loads: kubelet updates a mounted ConfigMap in place, and neither
       * `healthcheck` nor a restart that finds a bundle in data_dir should fail on its content.
       */
      readonly kind: 'bundle_file'
      readonly path: string
    }
  | {
      /**
       * `trust_bundle_url`: an `https://` URL fetched at bootstrap. The fetch itself is verified
       * with the system's CA certificates (the bundle cannot vouch for itself), and
       * `trust_bundle_format` says how to read the answer.
       */
      readonly kind: 'bundle_url'
      readonly url: URL
      /** `trust_bundle_format`: `"pem"` (default, as SPIRE) or `"spiffe"` (a SPIFFE bundle, JWKS). */
      readonly format: 'pem' | 'spiffe'
    }
  | {
      /**
       * `insecure_bootstrap = true`: the first attestation does not verify the server's
       * certificate chain. The server's SPIFFE ID (`spiffe://<td>/spire/server`) is still checked
       * and the bundle the server returns is stored and used from then on. Only for test setups:
       * anyone who can answer on the server address can mint such a certificate.
       */
      readonly kind: 'insecure'
    }

/** `plugins { NodeAttestor "<type>" { plugin_data { … } } }`. */
export interface NodeAttestorConfig {
  /** The block label: `k8s_psat` (renews by attesting again) or `k8s_sat` (renews over mTLS). */
  readonly type: AttestorType
  /** `plugin_data.cluster` (required): the cluster's name in the server's configuration. */
  readonly cluster: string
  /**
   * `plugin_data.token_path`: the service account token, re-read on every attempt. Default
   * `/var/run/secrets/tokens/spire-agent` for k8s_psat (a projected volume), and
   * `/var/run/secrets/kubernetes.io/serviceaccount/token` for k8s_sat (as SPIRE). Absolute.
   */
  readonly tokenPath: string
}

/** `telemetry { Prometheus { host, port } }`. */
export interface MetricsListenerConfig {
  /**
   * `host`: IP address to listen on. Default `"127.0.0.1"`, so the metrics (which hold no
   * secret, but describe the node's identity) are reachable only from the node itself unless
   * the operator widens it.
   */
  readonly host: string
  /** `port` (required): TCP port; `0` picks a free one (tests). */
  readonly port: number
}

/** Defaults of every optional setting, in one place. */
export const AGENT_CONFIG_DEFAULTS = {
  serverPort: 8081,
  logLevel: 'info',
  trustBundleFormat: 'pem',
  retryInitialIntervalMs: 1_000,
  retryMaxIntervalMs: 60_000,
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  metricsHost: '127.0.0.1',
  tokenPath: {
    k8s_psat: '/var/run/secrets/tokens/spire-agent',
    k8s_sat: '/var/run/secrets/kubernetes.io/serviceaccount/token',
  },
} as const satisfies {
  readonly tokenPath: Readonly<Record<AttestorType, string>>
  readonly [key: string]: unknown
}

/** Options of {@link loadAgentConfig} and {@link parseAgentConfig}: `spire-agent run -expandEnv`. */
export type LoadConfigOptions = ExpandEnvOptions

/**
 * Reads and validates the configuration file `fileName`.
 *
 * @throws {ConfigError} `ATT_ERR_CONFIG_UNREADABLE` (the file cannot be read),
 *   `ATT_ERR_CONFIG_SYNTAX` (not HCL), `ATT_ERR_CONFIG_INVALID` (every problem listed).
 */
export async function loadAgentConfig(
  fileName: string,
  options: LoadConfigOptions = {},
): Promise<AgentConfig> {
  const text = await readConfigFile(agentConfigSource(fileName))
  return parseAgentConfig(text, fileName, options)
}

/**
 * Validates configuration text. `fileName` labels messages and anchors relative paths (its
 * directory). Embedders that build configuration in code can call this with a template.
 *
 * @throws {ConfigError} `ATT_ERR_CONFIG_SYNTAX` or `ATT_ERR_CONFIG_INVALID`.
 */
export async function parseAgentConfig(
  text: string,
  fileName: string,
  options: LoadConfigOptions = {},
): Promise<AgentConfig> {
  const baseDir = dirname(resolve(fileName))
  return parseConfig(text, agentConfigSource(fileName), options, (root) =>
    readAgentDocument(root, fileName, (path) => resolve(baseDir, path)),
  )
}

/** The whole file: `agent { … }`, `plugins { … }` and the optional `telemetry { … }`. */
function readAgentDocument(
  root: HclBodyReader,
  fileName: string,
  resolvePath: (path: string) => string,
): AgentConfig | undefined {
  const agent = root.block('agent', { required: true })
  const plugins = root.block('plugins', { required: true })
  const telemetry = root.block('telemetry')
  root.rejectUnknownKeys({
    server: 'this is an agent configuration; the server has its own file',
    health_checks: 'probe with the `k8s-attest-agent healthcheck -config …` command instead',
  })

  const agentSection = readAgentSection(agent, resolvePath)
  const nodeAttestor = readNodeAttestor(plugins, resolvePath)
  const metrics = readTelemetry(telemetry)
  if (agentSection === undefined || nodeAttestor === undefined) return undefined
  return Object.freeze({ configFile: fileName, ...agentSection, nodeAttestor, metrics })
}

/** Names the file in every ConfigError: "invalid agent configuration "<fileName>" …". */
function agentConfigSource(fileName: string): ConfigSource {
  return { fileName, subject: 'agent' }
}

type AgentSection = Omit<AgentConfig, 'configFile' | 'nodeAttestor' | 'metrics'>

/** SPIRE `agent` keys this agent does not have, with what to do instead. */
const UNSUPPORTED_SPIRE_AGENT_KEYS: Readonly<Record<string, string>> = {
  join_token: 'this agent attests only with Kubernetes service account tokens (k8s_psat, k8s_sat)',
  socket_path: 'this agent has no Workload API',
  admin_socket_path: 'this agent has no admin API',
  log_file: 'logs are written to standard output',
  log_format: 'logs are always JSON lines',
  sds: 'this agent has no Workload API',
  workload_x509_svid_key_type: 'this agent has no Workload API',
  trust_bundle_unix_socket: 'use trust_bundle_path or trust_bundle_url',
  retry_bootstrap: 'the agent always retries, with backoff (see retry_initial_interval, retry_max_interval)',
  experimental: 'no experimental settings are supported',
}

const LOG_LEVELS: ReadonlySet<string> = new Set(['debug', 'info', 'warn', 'error'])
const MIN_INTERVAL_MS = 10
const MIN_TIMEOUT_MS = 100

function readAgentSection(
  agent: HclBodyReader | undefined,
  resolvePath: (path: string) => string,
): AgentSection | undefined {
  if (agent === undefined) return undefined
  const defaults = AGENT_CONFIG_DEFAULTS

  const trustDomain = agent.string('trust_domain', 'a trust domain name such as "example.org"', {
    required: true,
  })
  if (trustDomain !== undefined) {
    const problem = trustDomainProblem(trustDomain)
    if (problem !== undefined) agent.report('trust_domain', problem)
  }

  const serverAddress = agent.string('server_address', 'a host name or IP address such as "spire-server"', {
    required: true,
  })
  if (serverAddress !== undefined && !isHostName(serverAddress)) {
    agent.report(
      'server_address',
      `must be a host name or IP address without scheme or port, e.g. "spire-server"; got ${JSON.stringify(serverAddress)}`,
    )
  }
  const serverPort = agent.integer('server_port', { min: 1, max: 65_535 }) ?? defaults.serverPort

  const dataDir = agent.string('data_dir', 'a directory path such as "/var/lib/k8s-attest-agent"', {
    required: true,
  })
  const trustBootstrap = readTrustBootstrap(agent, resolvePath)
  const logLevel = readLogLevel(agent)

  const retryInitialIntervalMs =
    agent.duration('retry_initial_interval', { minMs: MIN_INTERVAL_MS, examples: ['1s'] }) ??
    defaults.retryInitialIntervalMs
  const retryMaxIntervalMs =
    agent.duration('retry_max_interval', { minMs: MIN_INTERVAL_MS, examples: ['60s'] }) ??
    defaults.retryMaxIntervalMs
  if (retryMaxIntervalMs < retryInitialIntervalMs) {
    agent.report('retry_max_interval', 'must not be shorter than retry_initial_interval')
  }
  const connectTimeoutMs =
    agent.duration('connect_timeout', { minMs: MIN_TIMEOUT_MS, examples: ['10s'] }) ??
    defaults.connectTimeoutMs
  const requestTimeoutMs =
    agent.duration('request_timeout', { minMs: MIN_TIMEOUT_MS, examples: ['30s'] }) ??
    defaults.requestTimeoutMs

  agent.rejectUnknownKeys(UNSUPPORTED_SPIRE_AGENT_KEYS)
  if (trustDomain === undefined || serverAddress === undefined || dataDir === undefined) return undefined
  if (trustBootstrap === undefined) return undefined
  return {
    trustDomain,
    serverAddress,
    serverPort,
    dataDir: resolvePath(dataDir),
    trustBootstrap,
    logLevel,
    retryInitialIntervalMs,
    retryMaxIntervalMs,
    connectTimeoutMs,
    requestTimeoutMs,
  }
}

function readTrustBootstrap(
  agent: HclBodyReader,
  resolvePath: (path: string) => string,
): TrustBootstrap | undefined {
  const path = agent.string('trust_bundle_path', 'a PEM file path')
  const url = agent.string('trust_bundle_url', 'an https:// URL')
  const format = agent.string('trust_bundle_format', '"pem" or "spiffe"')
  const insecure = agent.boolean('insecure_bootstrap') === true

  const chosen = [
    ...(path === undefined ? [] : ['trust_bundle_path']),
    ...(url === undefined ? [] : ['trust_bundle_url']),
    ...(insecure ? ['insecure_bootstrap'] : []),
  ]
  if (chosen.length !== 1) {
    agent.report(
      undefined,
      chosen.length === 0
        ? 'needs a way to trust the server the first time: set trust_bundle_path, trust_bundle_url or insecure_bootstrap = true'
        : `sets ${chosen.join(' and ')}; set exactly one of trust_bundle_path, trust_bundle_url, insecure_bootstrap = true`,
    )
  }
  if (format !== undefined && format !== 'pem' && format !== 'spiffe') {
    agent.report('trust_bundle_format', `must be "pem" or "spiffe"; got ${JSON.stringify(format)}`)
  }
  if (format !== undefined && url === undefined) {
    agent.report('trust_bundle_format', 'applies only to trust_bundle_url (trust_bundle_path is always PEM)')
  }

  if (path !== undefined) {
    return chosen.length === 1 ? { kind: 'bundle_file', path: resolvePath(path) } : undefined
  }
  if (url !== undefined) {
    const parsed = URL.canParse(url) ? new URL(url) : undefined
    if (parsed?.protocol !== 'https:') {
      agent.report('trust_bundle_url', `must be an https:// URL; got ${JSON.stringify(url)}`)
      return undefined
    }
    const bundleFormat = format === 'spiffe' ? 'spiffe' : AGENT_CONFIG_DEFAULTS.trustBundleFormat
    return chosen.length === 1 ? { kind: 'bundle_url', url: parsed, format: bundleFormat } : undefined
  }
  return insecure && chosen.length === 1 ? { kind: 'insecure' } : undefined
}

function readLogLevel(agent: HclBodyReader): LogLevel {
  const level = agent.string('log_level', '"DEBUG", "INFO", "WARN" or "ERROR"')
  if (level === undefined) return AGENT_CONFIG_DEFAULTS.logLevel
  const lower = level.toLowerCase()
  if (LOG_LEVELS.has(lower)) return lower as LogLevel
  agent.report('log_level', `must be "DEBUG", "INFO", "WARN" or "ERROR"; got ${JSON.stringify(level)}`)
  return AGENT_CONFIG_DEFAULTS.logLevel
}

function readNodeAttestor(
  plugins: HclBodyReader | undefined,
  resolvePath: (path: string) => string,
): NodeAttestorConfig | undefined {
  if (plugins === undefined) return undefined
  const attestors = plugins.labeledBlocks('NodeAttestor', 'k8s_psat')
  plugins.rejectUnknownKeys({
    KeyManager: 'the agent keeps its key in data_dir/agent-svid.pem (mode 0600); no KeyManager is needed',
    WorkloadAttestor: 'this agent has no Workload API',
    SVIDStore: 'this agent has no Workload API',
  })
  if (attestors.size !== 1) {
    plugins.report(
      'NodeAttestor',
      attestors.size === 0
        ? 'is required: configure exactly one, NodeAttestor "k8s_psat" { plugin_data { cluster = "…" } } or "k8s_sat"'
        : `is configured ${attestors.size} times (${[...attestors.keys()].join(', ')}); configure exactly one`,
    )
  }
  let result: NodeAttestorConfig | undefined
  for (const [type, block] of attestors) {
    if (type !== 'k8s_psat' && type !== 'k8s_sat') {
      block.report(undefined, `is not a supported node attestor; expected "k8s_psat" or "k8s_sat"`)
      continue
    }
    const data = block.block('plugin_data', { required: true })
    block.rejectUnknownKeys({
      plugin_cmd: 'node attestors are built in',
      plugin_checksum: 'node attestors are built in',
    })
    if (data === undefined) continue
    const cluster = data.string('cluster', 'the cluster name configured on the server, such as "demo"', {
      required: true,
    })
    // A name the server could never have configured (it is part of the agent's SPIFFE ID):
    // refused here rather than at every attestation.
    const nameProblem = cluster === undefined ? undefined : clusterNameProblem(cluster)
    if (nameProblem !== undefined) data.report('cluster', `${nameProblem}; got ${JSON.stringify(cluster)}`)
    const tokenPath = data.string('token_path', 'a file path')
    data.rejectUnknownKeys()
    if (cluster !== undefined && nameProblem === undefined && attestors.size === 1) {
      result = { type, cluster, tokenPath: resolvePath(tokenPath ?? AGENT_CONFIG_DEFAULTS.tokenPath[type]) }
    }
  }
  return result
}

function readTelemetry(telemetry: HclBodyReader | undefined): MetricsListenerConfig | undefined {
  if (telemetry === undefined) return undefined
  const prometheus = telemetry.block('Prometheus', { required: true })
  telemetry.rejectUnknownKeys({
    DogStatsd: 'only Prometheus is supported',
    Statsd: 'only Prometheus is supported',
    M3: 'only Prometheus is supported',
    InMem: 'only Prometheus is supported',
  })
  if (prometheus === undefined) return undefined
  const host =
    prometheus.string('host', 'an IP address such as "127.0.0.1"') ?? AGENT_CONFIG_DEFAULTS.metricsHost
  if (isIP(host) === 0)
    prometheus.report('host', `must be an IP address such as "127.0.0.1"; got ${JSON.stringify(host)}`)
  const port = prometheus.integer('port', { min: 0, max: 65_535 }, { required: true })
  prometheus.rejectUnknownKeys()
  return port === undefined ? undefined : { host, port }
}

/** A DNS name or an IP address, with nothing else (no scheme, port, path or spaces). */
function isHostName(value: string): boolean {
  if (isIP(value) !== 0) return true
  return /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(
    value,
  )
}
