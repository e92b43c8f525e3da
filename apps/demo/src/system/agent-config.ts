import { hcl } from './hcl.ts'

/**
 * agent.conf, written the way an operator writes it for one node (compare
 * apps/agent/conf/agent.conf, which documents every key).
 */

/** What goes into agent.conf. */
export interface AgentConfigInput {
  readonly trustDomain: string
  readonly serverPort: number
  readonly dataDir: string
  /** The CA bundle the agent trusts the server with the first time. */
  readonly trustBundlePath: string
  /** `k8s_psat` (projected token, re-attests to rotate) or `k8s_sat` (legacy token, renews over mTLS). */
  readonly attestor: 'k8s_psat' | 'k8s_sat'
  /** The cluster's name in the server's configuration. */
  readonly cluster: string
  readonly tokenPath: string
  /** The first wait after a failure, Go syntax. @default "1s" (the agent's default) */
  readonly retryInitialInterval?: string
  /** The backoff cap, and the wait after a permanent refusal. @default "60s" (the agent's default) */
  readonly retryMaxInterval?: string
}

/** Renders agent.conf for one node, its server on 127.0.0.1. */
export function renderAgentConfig(input: AgentConfigInput): string {
  const retries = [
    input.retryInitialInterval === undefined
      ? ''
      : `  retry_initial_interval = ${hcl(input.retryInitialInterval)}\n`,
    input.retryMaxInterval === undefined ? '' : `  retry_max_interval     = ${hcl(input.retryMaxInterval)}\n`,
  ].join('')
  return `agent {
  trust_domain      = ${hcl(input.trustDomain)}
  server_address    = "127.0.0.1"
  server_port       = ${input.serverPort}
  data_dir          = ${hcl(input.dataDir)}
  trust_bundle_path = ${hcl(input.trustBundlePath)}
  log_level         = "INFO"
${retries}}

plugins {
  NodeAttestor ${hcl(input.attestor)} {
    plugin_data {
      cluster    = ${hcl(input.cluster)}
      token_path = ${hcl(input.tokenPath)}
    }
  }
}
`
}
