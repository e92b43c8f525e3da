import { join } from 'node:path'
import { installAgent, startAgent } from '../system/agent-process.ts'
import type { BenchContext } from './bench-context.ts'
import { BENCH_CLUSTER, BENCH_TRUST_DOMAIN } from './bench-server.ts'
import { againstTarget } from './figures.ts'
import { rssKiB } from './process-stats.ts'

/** The RSS of one real agent process once it has attested and sits idle (target ≤ 50 MiB). */
export async function measureIdleAgent(context: BenchContext): Promise<void> {
  const { cluster, server, figures, workDir } = context
  const node = cluster.cluster.agentNodes[0]
  if (node === undefined) throw new Error('the cluster has no agent pod to run an agent for')
  const agent = await startAgent(
    await installAgent({
      dir: join(workDir, 'agent'),
      trustDomain: BENCH_TRUST_DOMAIN,
      serverPort: server.installation.port,
      trustBundlePath: server.installation.bundlePath,
      attestor: 'k8s_psat',
      cluster: BENCH_CLUSTER,
      token: await cluster.cluster.issueAgentToken(node),
    }),
  )
  try {
    await agent.waitForLog((entry) => entry.msg === 'SVID obtained', 'the agent to attest')
    figures.record(
      'agent RSS once attested, idle (MiB)',
      againstTarget(rssKiB(agent.process.pid) / 1024, 50, ' MiB'),
    )
  } finally {
    await agent.stop()
  }
}
