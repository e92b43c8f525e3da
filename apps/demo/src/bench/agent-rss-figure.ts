import { join } from 'node:path'
import type { AgentInstallOptions } from '../system/agent-process.ts'
import { AGENT_AS_IN_IMAGE, agentIdleRssMiB } from './agent-memory.ts'
import type { BenchCluster } from './bench-cluster.ts'
import type { BenchContext } from './bench-context.ts'
import { BENCH_CLUSTER, BENCH_TRUST_DOMAIN, type BenchServer } from './bench-server.ts'
import { againstTarget } from './figures.ts'

/**
 * The RSS of one real agent process once it has attested and sits idle, run as the image runs
 * it (the built bin, the image's NODE_OPTIONS); target ≤ 50 MiB.
 */
export async function measureIdleAgent(context: BenchContext): Promise<void> {
  const { cluster, server, figures, workDir } = context
  const rss = await agentIdleRssMiB(
    await benchAgentInstall(server, cluster, join(workDir, 'agent')),
    AGENT_AS_IN_IMAGE,
  )
  figures.record(
    'agent RSS once attested, idle, as in the image (bundled) (MiB)',
    againstTarget(rss, 50, ' MiB'),
  )
}

/**
 * An agent installation in `dir` that attests to `server` with a fresh token of the cluster's
 * first agent pod (k8s_psat).
 */
export async function benchAgentInstall(
  server: BenchServer,
  cluster: BenchCluster,
  dir: string,
): Promise<AgentInstallOptions> {
  const node = cluster.cluster.agentNodes[0]
  if (node === undefined) throw new Error('the cluster has no agent pod to run an agent for')
  return {
    dir,
    trustDomain: BENCH_TRUST_DOMAIN,
    serverPort: server.installation.port,
    trustBundlePath: server.installation.bundlePath,
    attestor: 'k8s_psat',
    cluster: BENCH_CLUSTER,
    token: await cluster.cluster.issueAgentToken(node),
  }
}
