import type { KeyObject } from 'node:crypto'
import type { Secret } from '@k8s-attest/core'
import type { ConfigIssue } from '@k8s-attest/spire-config'

/**
 * The server's configuration after loading: every default applied, every relative path made
 * absolute (against the directory of the configuration file), every referenced file read and
 * checked, keys in camelCase. Durations are in **milliseconds**, and their names say so.
 *
 * The HCL names are given in each field's documentation; the file format is SPIRE's
 * (`server { … }` plus `plugins { DataStore … NodeAttestor … }`).
 */
export interface ServerConfig {
  /** The configuration file as it was named to the loader (for messages). */
  readonly configFile: string
  /** `server.trust_domain` (required): e.g. `"example.org"`, lowercase letters, digits, `.`, `-`, `_`. */
  readonly trustDomain: string
  /** `server.bind_address`: IP address to listen on. Default `"0.0.0.0"` (every IPv4 interface), as SPIRE. */
  readonly bindAddress: string
  /** `server.bind_port`: TCP port to listen on. Default `8081`, as SPIRE; `0` picks a free port (tests). */
  readonly bindPort: number
  /** `server.data_dir` (required, as in SPIRE): where the CA and the SQLite datastore live. Absolute. */
  readonly dataDir: string
  /** `server.ca_ttl`: lifetime of each CA certificate. Default 24 h, as SPIRE. */
  readonly caTtlMs: number
  /** `server.agent_ttl`: lifetime of agent X.509 SVIDs (capped by the CA's expiry). Default 1 h. */
  readonly agentTtlMs: number
  /** `server.log_level`: `DEBUG`, `INFO`, `WARN` or `ERROR` in any case, here lowercase (pino's names). Default `info`. */
  readonly logLevel: LogLevel
  /**
   * `server.dns_names`: DNS names put in the serving certificate, so agents can verify the
   * server by name (besides its SPIFFE ID). Default `["localhost"]`; `[]` means none.
   */
  readonly dnsNames: readonly string[]
  /** `server.admin { … }`: how the admin API authenticates callers. `undefined` (no block) disables the admin API. */
  readonly admin: AdminConfig | undefined
  /** `server.rate_limit { … }`: per-source-address limit on attestations. */
  readonly rateLimit: RateLimitConfig
  /**
   * `server.read_header_timeout`, `request_timeout`, `idle_timeout`, `max_connections`: how
   * long the HTTPS listener waits for a slow client, and how many connections it holds.
   */
  readonly listener: ListenerConfig
  /**
   * `server.workers`: how many worker processes serve the port, an integer from 1 to 64.
   * Default `1`: one process, no primary. Above 1, a primary process forks that many workers
   * (node:cluster, round-robin) and holds what they must share: dashboard sessions, rate-limit
   * counters, the attestations chart, the aggregated `/metrics`, CA creation and rotation, and
   * SIGHUP/SIGTERM handling (see `cluster/`).
   */
  readonly workers: number
  /**
   * `telemetry { Prometheus { host, port } }`: the listener serving `GET /metrics`, apart from
   * the agent-facing port, as SPIRE's telemetry block. `undefined` (no block) means no metrics
   * listener.
   */
  readonly metrics: MetricsListenerConfig | undefined
  /** `plugins.DataStore "sql"` (required). */
  readonly dataStore: DataStoreConfig
  /** `plugins.NodeAttestor "k8s_psat"` / `"k8s_sat"`: at least one is configured. */
  readonly nodeAttestors: NodeAttestorsConfig
  /**
   * `plugins.Notifier "k8sbundle"`: the Kubernetes ConfigMap the server keeps its trust bundle
   * in, for agents to bootstrap from (`trust_bundle_path` on a ConfigMap volume). `undefined`
   * (no block): the bundle is only in `<data_dir>/ca/bundle.pem` and at `GET /v1/bundle`.
   */
  readonly bundleNotifier: K8sBundleNotifierConfig | undefined
  /**
   * Problems that do not stop the server but should be logged at start, e.g. an `agent_ttl`
   * that CA rotation will cut short. Same shape as {@link ConfigError} issues.
   */
  readonly warnings: readonly ConfigIssue[]
}

/**
 * `plugins { Notifier "k8sbundle" { plugin_data { … } } }`, SPIRE's keys and defaults: the
 * server writes its trust bundle into one key of an existing ConfigMap at start and whenever
 * the bundle changes (a successor CA prepared, a CA expired), so an agent that starts with an
 * empty `data_dir` always finds the CAs the server's certificate chains to.
 */
export interface K8sBundleNotifierConfig {
  /** `namespace`: the ConfigMap's namespace. Default `"spire"`. */
  readonly namespace: string
  /** `config_map`: the ConfigMap's name. It must exist (the server only patches it). Default `"spire-bundle"`. */
  readonly configMap: string
  /** `config_map_key`: the key of its `data` that holds the bundle (PEM). Default `"bundle.crt"`. */
  readonly configMapKey: string
  /**
   * `kube_config_file_path`: absolute path of the kubeconfig to reach the API server with;
   * `undefined` (`""` or left out) for the in-cluster service account.
   */
  readonly kubeConfigFile: string | undefined
}

/** Log levels, named as pino names them. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** `server.admin { … }`: at least one of the two ways is set. */
export interface AdminConfig {
  /**
   * `bearer_token_file`: absolute path of a file holding the static bearer token callers send
   * as `Authorization: Bearer <token>` (surrounding whitespace ignored, at least 32 characters:
   * `openssl rand -hex 32` makes one). `undefined` disables bearer authentication.
   */
  readonly bearerTokenFile: string | undefined
  /**
   * The token read from {@link bearerTokenFile} at load time. A core `Secret`: it prints as
   * `[REDACTED]`, so logging the whole configuration cannot leak it.
   */
  readonly bearerToken: Secret | undefined
  /**
   * `admin_ids`: SPIFFE IDs (any trust domain) allowed to call the admin API over mutual TLS
   * with an X.509 SVID, like SPIRE's `server.admin_ids`. Default `[]`.
   */
  readonly adminIds: readonly string[]
}

/** `server.rate_limit { … }`. */
export interface RateLimitConfig {
  /** `enabled`: limit attestations per source address. Default `true`, as SPIRE's `ratelimit.attestation`. */
  readonly enabled: boolean
  /** `attestations_per_second`: allowed rate per source address. Default `1`, SPIRE's fixed rate. */
  readonly attestationsPerSecond: number
}

/**
 * Limits of the HTTPS listener against slow or greedy clients (slowloris): without them a
 * request whose headers or body never complete holds its connection, and its memory, forever.
 * A refused request gets `408 ATT_ERR_REQUEST_TIMEOUT`; a connection past the cap is closed
 * at once.
 */
export interface ListenerConfig {
  /** `read_header_timeout`: time to receive a request's headers. Default 10 s. */
  readonly readHeaderTimeoutMs: number
  /** `request_timeout`: time to receive a whole request, headers and body. Default 30 s. */
  readonly requestTimeoutMs: number
  /**
   * `idle_timeout`: how long a connection may stay silent, between requests (keep-alive) or
   * within one, before it is closed. Default 120 s.
   */
  readonly idleTimeoutMs: number
  /** `max_connections`: open connections at most; further ones are closed at once. Default 1000. */
  readonly maxConnections: number
}

/** `telemetry { Prometheus { host, port } }`. */
export interface MetricsListenerConfig {
  /**
   * `host`: IP address to listen on. Default `"127.0.0.1"` (as SPIRE's `localhost`): metrics
   * are for a scraper on the host, not for the agents' network.
   */
  readonly host: string
  /** `port` (required): TCP port; `0` picks a free one (tests). */
  readonly port: number
}

/** `plugins { DataStore "sql" { plugin_data { … } } }`. */
export type DataStoreConfig =
  | {
      /** `database_type = "sqlite3"`. */
      readonly databaseType: 'sqlite3'
      /** `connection_string`: absolute path of the database file. Default `<data_dir>/datastore.sqlite3`. */
      readonly connectionString: string
    }
  | {
      /** `database_type = "postgres"`. */
      readonly databaseType: 'postgres'
      /**
       * `connection_string` (required): a `postgres://` or `postgresql://` URL. It may hold a
       * password: do not log it.
       */
      readonly connectionString: string
    }

/** The configured node attestors; `undefined` means that attestor is not configured. */
export interface NodeAttestorsConfig {
  readonly k8sPsat: PsatAttestorConfig | undefined
  readonly k8sSat: SatAttestorConfig | undefined
}

/** `NodeAttestor "k8s_psat" { plugin_data { clusters = { … } } }`. */
export interface PsatAttestorConfig {
  /** By cluster name (the name agents send); never empty. */
  readonly clusters: ReadonlyMap<string, PsatClusterConfig>
}

/** One entry of the k8s_psat `clusters` map, after SPIRE's `ClusterConfig`. */
export interface PsatClusterConfig {
  /** The map key; it becomes a path segment of agent SPIFFE IDs. */
  readonly name: string
  /** `service_account_allow_list` (required, non-empty): `"namespace:name"` entries. */
  readonly serviceAccountAllowList: readonly string[]
  /**
   * `audience`: audiences the projected token must be bound to, checked by TokenReview.
   * Default `["spire-server"]`; `[]` means the API server's own audiences (SPIRE's semantics).
   */
  readonly audience: readonly string[]
  /** `kube_config_file`: absolute path of a kubeconfig; `undefined` (empty string) means in-cluster config. */
  readonly kubeConfigFile: string | undefined
  /** `kube_api_timeout`: the deadline of each Kubernetes API call. Default 5 s. */
  readonly kubeApiTimeoutMs: number
  /** `allowed_node_label_keys`: node labels that become selectors. Default `[]`. */
  readonly allowedNodeLabelKeys: readonly string[]
  /** `allowed_pod_label_keys`: pod labels that become selectors. Default `[]`. */
  readonly allowedPodLabelKeys: readonly string[]
  /**
   * `use_pod_uid_for_agent_id`: end agent IDs with the agent pod's UID instead of the node's
   * UID. Default `false` (SPIRE's ID, one agent identity per node).
   */
  readonly usePodUidForAgentId: boolean
  /**
   * `token_verification`: how the projected token is verified. Default `"tokenreview"` (one
   * TokenReview per attestation); `"jwks"` verifies it locally with the cluster's service
   * account issuer keys and checks its bound objects against the informer caches (no API call
   * per attestation; see docs/performance.md, "JWKS mode").
   */
  readonly tokenVerification: PsatTokenVerification
}

/** The values of `token_verification`, the default first. */
export const PSAT_TOKEN_VERIFICATIONS = ['tokenreview', 'jwks'] as const

/** How a k8s_psat cluster verifies tokens: {@link PSAT_TOKEN_VERIFICATIONS}. */
export type PsatTokenVerification = (typeof PSAT_TOKEN_VERIFICATIONS)[number]

/** `NodeAttestor "k8s_sat" { plugin_data { clusters = { … } } }`. */
export interface SatAttestorConfig {
  /** By cluster name; never empty. */
  readonly clusters: ReadonlyMap<string, SatClusterConfig>
}

/** One entry of the k8s_sat `clusters` map. */
export interface SatClusterConfig {
  readonly name: string
  /** `service_account_allow_list` (required, non-empty): `"namespace:name"` entries. */
  readonly serviceAccountAllowList: readonly string[]
  /** How tokens are verified, chosen by `use_token_review_api_validation`. */
  readonly validation: SatTokenValidation
}

/**
 * `use_token_review_api_validation = true` asks the API server (TokenReview, no audience:
 * legacy tokens have none); `false` (the default, as SPIRE) verifies signatures locally with
 * the keys of `service_account_key_file`, which cannot notice a deleted service account.
 */
export type SatTokenValidation =
  | {
      readonly kind: 'token-review'
      /** `kube_config_file`: absolute path; `undefined` means in-cluster config. */
      readonly kubeConfigFile: string | undefined
      /** `kube_api_timeout`: the deadline of each Kubernetes API call. Default 5 s. */
      readonly kubeApiTimeoutMs: number
    }
  | {
      readonly kind: 'service-account-keys'
      /** `service_account_key_file`: absolute path of the PEM file the keys came from. */
      readonly keyFile: string
      /** RSA or EC public keys, in file order; never empty. */
      readonly keys: readonly KeyObject[]
      /**
       * `service_account_issuer`: the `iss` every token must carry. Default
       * `"kubernetes/serviceaccount"`, the issuer of legacy Secret-based tokens; set it to the
       * API server's `--service-account-issuer` to accept projected tokens in this mode.
       */
      readonly issuer: string
    }

/** Defaults applied when a key is absent, in one place so documentation and code agree. */
export const SERVER_CONFIG_DEFAULTS = Object.freeze({
  bindAddress: '0.0.0.0',
  bindPort: 8081,
  caTtlMs: 24 * 3_600_000,
  agentTtlMs: 3_600_000,
  logLevel: 'info' as LogLevel,
  dnsNames: Object.freeze(['localhost']),
  rateLimitEnabled: true,
  attestationsPerSecond: 1,
  listener: Object.freeze({
    readHeaderTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    idleTimeoutMs: 120_000,
    maxConnections: 1000,
  } satisfies ListenerConfig),
  workers: 1,
  metricsHost: '127.0.0.1',
  sqliteFileName: 'datastore.sqlite3',
  psatAudience: Object.freeze(['spire-server']),
  satIssuer: 'kubernetes/serviceaccount',
  /**
   * A TokenReview or a GET answers in milliseconds; an API server silent for 5 s is in trouble,
   * and the agent, which retries a 503 after `Retry-After`, is better served by an answer now.
   */
  kubeApiTimeoutMs: 5_000,
  bundleNotifier: Object.freeze({
    namespace: 'spire',
    configMap: 'spire-bundle',
    configMapKey: 'bundle.crt',
  }),
})
