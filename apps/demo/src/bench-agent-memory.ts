import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AGENT_RUN_VARIANTS, agentIdleRssMiB, importCosts } from './bench/agent-memory.ts'
import { type AgentNode, startTestCluster } from './system/cluster.ts'
import { installServer, startServer } from './system/server-process.ts'

/*
 * `pnpm bench:agent-memory`: the idle RSS of one attested agent, run as the image runs it (the
 * built bin, NODE_OPTIONS) and the other ways, against the embedded test API and a real server
 * process; then what each library the agent loads adds to an empty Node process. Needs
 * `pnpm build` (the script's package.json entry runs `tsc -b` first).
 */

const say = (line = '') => process.stdout.write(`${line}\n`)
const workDir = await mkdtemp(join(tmpdir(), 'k8s-attest-agent-memory-'))
const cluster = await startTestCluster()
try {
  const installation = await installServer({
    dir: join(workDir, 'server'),
    trustDomain: 'bench.k8s-attest.test',
    agentTtl: '1h',
    psatClusters: [
      { name: 'bench', kubeconfigPath: await cluster.writeServerKubeconfig(join(workDir, 'kubeconfig')) },
    ],
  })
  const server = await startServer(installation)
  try {
    say(`agent RSS, idle once attested (MiB; target ≤ 50), Node ${process.version}:`)
    const node = cluster.seededNodes[0] as AgentNode
    for (const [index, variant] of AGENT_RUN_VARIANTS.entries()) {
      const rss = await agentIdleRssMiB(
        {
          dir: join(workDir, `agent-${index}`),
          trustDomain: 'bench.k8s-attest.test',
          serverPort: installation.port,
          trustBundlePath: installation.bundlePath,
          attestor: 'k8s_psat',
          cluster: 'bench',
          token: cluster.issueProjectedToken(node),
        },
        variant,
      )
      say(`  ${variant.name.padEnd(66)} ${rss.toFixed(1)}`)
    }
  } finally {
    await server.stop()
  }
  say()
  say('one import at a time, in an empty process after a full GC (RSS / heap used, MiB):')
  for (const cost of importCosts()) {
    say(
      `  ${cost.module.padEnd(40)} ${cost.rssMiB.toFixed(1).padStart(6)} ${cost.heapUsedMiB.toFixed(1).padStart(6)}`,
    )
  }
} finally {
  await cluster.stop()
  await rm(workDir, { recursive: true, force: true })
}
