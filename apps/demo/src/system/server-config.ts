import { hcl, hclList } from './hcl.ts'

/**
 * server.conf, written the way an operator writes it for a real cluster (compare
 * apps/server/conf/server.conf, which documents every key).
 */

/** A cluster whose agents attest with projected tokens (k8s_psat, verified by TokenReview). */
export interface PsatClusterSpec {
  readonly name: string
  /** The server's kubeconfig for this cluster (TokenReview; get, list and watch pods and nodes). */
  readonly kubeconfigPath: string
  /** `namespace:name` of the agents' service accounts. @default ["spire:spire-agent"] */
  readonly serviceAccountAllowList?: readonly string[]
  /**
   * `token_verification`: `"jwks"` verifies tokens in the server with the issuer's keys (no API
   * call per attestation; the kubeconfig's identity then needs the discovery URLs and
   * serviceaccounts instead of TokenReview). @default "tokenreview" (the key is left out)
   */
  readonly tokenVerification?: 'tokenreview' | 'jwks'
}

/** A cluster whose agents attest with legacy tokens (k8s_sat), verified by TokenReview. */
export interface SatClusterSpec {
  readonly name: string
  readonly kubeconfigPath: string
  /** @default ["spire:spire-agent"] */
  readonly serviceAccountAllowList?: readonly string[]
}

/** What goes into server.conf. */
export interface ServerConfigInput {
  readonly trustDomain: string
  readonly port: number
  /** The port of the Prometheus `/metrics` listener (plain HTTP on 127.0.0.1). */
  readonly metricsPort: number
  readonly dataDir: string
  /** A file holding the admin API's bearer token. */
  readonly adminTokenPath: string
  /** The agents' SVID lifetime, Go syntax; the server's minimum is "1m". */
  readonly agentTtl: string
  /** At least one of `psatClusters` and `satClusters`. */
  readonly psatClusters?: readonly PsatClusterSpec[]
  readonly satClusters?: readonly SatClusterSpec[]
  /** The agent store; absent: SQLite in data_dir. */
  readonly datastore?: DatastoreSpec
  /** `server.workers`: worker processes sharing the port. Absent: the server's default (one process). */
  readonly workers?: number
}

/** A PostgreSQL agent store (SPIRE's `DataStore "sql"` with `database_type = "postgres"`). */
export interface DatastoreSpec {
  readonly databaseType: 'postgres'
  /** `postgres://user:password@host:port/database`. */
  readonly connectionString: string
}

const DEFAULT_ALLOW_LIST = ['spire:spire-agent'] as const

/**
 * Renders server.conf: an HTTPS listener on 127.0.0.1, SQLite in data_dir (or the PostgreSQL of
 * `datastore`), the admin API behind
 * a bearer token, and one NodeAttestor block per attestor in use.
 *
 * @throws {TypeError} when no cluster is given: a server without a node attestor refuses to start.
 */
export function renderServerConfig(input: ServerConfigInput): string {
  const psat = input.psatClusters ?? []
  const sat = input.satClusters ?? []
  if (psat.length === 0 && sat.length === 0) {
    throw new TypeError('renderServerConfig needs at least one k8s_psat or k8s_sat cluster')
  }
  const blocks = [
    psat.length === 0 ? '' : nodeAttestor('k8s_psat', psat.map(psatCluster)),
    sat.length === 0 ? '' : nodeAttestor('k8s_sat', sat.map(satCluster)),
  ]
  return `server {
  trust_domain = ${hcl(input.trustDomain)}
  bind_address = "127.0.0.1"
  bind_port    = ${input.port}
  data_dir     = ${hcl(input.dataDir)}
  agent_ttl    = ${hcl(input.agentTtl)}
  log_level    = "INFO"
  dns_names    = ["localhost"]
${input.workers === undefined ? '' : `  workers      = ${input.workers}\n`}
  admin {
    bearer_token_file = ${hcl(input.adminTokenPath)}
  }

  # Every agent here connects from 127.0.0.1, where a real cluster has one address per node:
  # a per-address limit would throttle them, not protect the server.
  rate_limit {
    enabled = false
  }
}

plugins {
  DataStore "sql" {
    plugin_data {
${
  input.datastore === undefined
    ? '      database_type = "sqlite3"'
    : `      database_type     = "postgres"\n      connection_string = ${hcl(input.datastore.connectionString)}`
}
    }
  }
${blocks.filter((block) => block !== '').join('')}}

telemetry {
  Prometheus {
    host = "127.0.0.1"
    port = ${input.metricsPort}
  }
}
`
}

function nodeAttestor(type: 'k8s_psat' | 'k8s_sat', clusters: readonly string[]): string {
  return `
  NodeAttestor "${type}" {
    plugin_data {
      clusters = {
${clusters.join('')}      }
    }
  }
`
}

function psatCluster(cluster: PsatClusterSpec): string {
  return `        ${hcl(cluster.name)} = {
          service_account_allow_list = ${hclList(cluster.serviceAccountAllowList ?? DEFAULT_ALLOW_LIST)}
          kube_config_file           = ${hcl(cluster.kubeconfigPath)}
          allowed_node_label_keys    = ["topology.kubernetes.io/zone"]
          allowed_pod_label_keys     = ["app"]
${cluster.tokenVerification === undefined ? '' : `          token_verification         = ${hcl(cluster.tokenVerification)}\n`}        }
`
}

function satCluster(cluster: SatClusterSpec): string {
  return `        ${hcl(cluster.name)} = {
          service_account_allow_list      = ${hclList(cluster.serviceAccountAllowList ?? DEFAULT_ALLOW_LIST)}
          use_token_review_api_validation = true
          kube_config_file                = ${hcl(cluster.kubeconfigPath)}
        }
`
}
