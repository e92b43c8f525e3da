/**
 * The configuration files of the demo's server and agents, written the way an operator would
 * write them for a real cluster (compare apps/server/conf/server.conf and apps/agent/conf/agent.conf).
 */

/** Where the demo's server listens and keeps its state. */
export interface ServerFiles {
  readonly trustDomain: string
  readonly cluster: string
  readonly port: number
  readonly dataDir: string
  readonly kubeconfigPath: string
  readonly adminTokenPath: string
  readonly agentTtl: string
}

/** server.conf for the demo cluster. */
export function renderServerConfig(files: ServerFiles): string {
  return `server {
  trust_domain = ${JSON.stringify(files.trustDomain)}
  bind_address = "127.0.0.1"
  bind_port    = ${files.port}
  data_dir     = ${JSON.stringify(files.dataDir)}
  agent_ttl    = ${JSON.stringify(files.agentTtl)}
  log_level    = "INFO"
  dns_names    = ["localhost"]

  admin {
    bearer_token_file = ${JSON.stringify(files.adminTokenPath)}
  }

  # Every demo agent connects from 127.0.0.1, where a real cluster has one address per node:
  # a per-address limit would throttle the demo, not protect it.
  rate_limit {
    enabled = false
  }
}

plugins {
  DataStore "sql" {
    plugin_data {
      database_type = "sqlite3"
    }
  }

  NodeAttestor "k8s_psat" {
    plugin_data {
      clusters = {
        ${JSON.stringify(files.cluster)} = {
          service_account_allow_list = ["spire:spire-agent"]
          kube_config_file           = ${JSON.stringify(files.kubeconfigPath)}
          allowed_node_label_keys    = ["topology.kubernetes.io/zone"]
          allowed_pod_label_keys     = ["app"]
        }
      }
    }
  }
}
`
}

/** Where one demo agent finds its server, token and state. */
export interface AgentFiles {
  readonly trustDomain: string
  readonly cluster: string
  readonly serverPort: number
  readonly dataDir: string
  readonly trustBundlePath: string
  readonly tokenPath: string
}

/** agent.conf for one demo node. */
export function renderAgentConfig(files: AgentFiles): string {
  return `agent {
  trust_domain      = ${JSON.stringify(files.trustDomain)}
  server_address    = "127.0.0.1"
  server_port       = ${files.serverPort}
  data_dir          = ${JSON.stringify(files.dataDir)}
  trust_bundle_path = ${JSON.stringify(files.trustBundlePath)}
  log_level         = "INFO"
}

plugins {
  NodeAttestor "k8s_psat" {
    plugin_data {
      cluster    = ${JSON.stringify(files.cluster)}
      token_path = ${JSON.stringify(files.tokenPath)}
    }
  }
}
`
}
