import type { PsatClusterConfig } from '../src/config/server-config.ts'

/**
 * A k8s_psat cluster's configuration for unit tests: cluster `demo`, the agent service account
 * `spire:spire-agent`, audience `spire-server`, in-cluster credentials, and otherwise the
 * defaults the configuration loader gives (no label selectors, node-UID agent IDs, TokenReview).
 * A test names only what it is about in `overrides`.
 */
export function psatClusterConfig(overrides: Partial<PsatClusterConfig> = {}): PsatClusterConfig {
  return {
    name: 'demo',
    serviceAccountAllowList: ['spire:spire-agent'],
    audience: ['spire-server'],
    kubeConfigFile: undefined,
    kubeApiTimeoutMs: 5_000,
    allowedNodeLabelKeys: [],
    allowedPodLabelKeys: [],
    usePodUidForAgentId: false,
    tokenVerification: 'tokenreview',
    ...overrides,
  }
}
