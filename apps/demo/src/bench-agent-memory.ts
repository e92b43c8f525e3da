import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AGENT_RUN_VARIANTS, agentIdleRssMiB, importCosts, printImportCosts } from './bench/agent-memory.ts'
import { benchAgentInstall } from './bench/agent-rss-figure.ts'
import { openBenchCluster } from './bench/bench-cluster.ts'
import { startBenchServer } from './bench/bench-server.ts'
import { benchOptionsOrExit, parseBenchFlags } from './bench/command-line.ts'
import { Figures } from './bench/figures.ts'

/*
 * `pnpm bench:agent-memory`: the idle RSS of one attested agent, run as the image runs it (its
 * bundle, NODE_OPTIONS) and the other ways, against the embedded test API and a real server
 * process; then what each library the agent loads adds to an empty Node process. Needs
 * `pnpm build` (the script's package.json entry runs `tsc -b` first).
 */

const USAGE = `usage: pnpm bench:agent-memory

  Starts the embedded Kubernetes test API and a built server, attests one agent per way of
  running it, prints each one's idle RSS, then what each library the agent loads adds to an
  empty Node process. It takes no options.

  --help              this text
`
benchOptionsOrExit('pnpm bench:agent-memory', USAGE, (args) => parseBenchFlags(args, {}))

const figures = new Figures()
const workDir = await mkdtemp(join(tmpdir(), 'k8s-attest-agent-memory-'))
try {
  const cluster = await openBenchCluster({ agents: 1 }, (line) => figures.say(line))
  try {
    const server = await startBenchServer(join(workDir, 'server'), cluster.cluster)
    try {
      figures.say(`agent RSS, idle once attested (MiB; target ≤ 50), Node ${process.version}:`)
      for (const [index, variant] of AGENT_RUN_VARIANTS.entries()) {
        const install = await benchAgentInstall(server, cluster, join(workDir, `agent-${index}`))
        figures.record(variant.name, (await agentIdleRssMiB(install, variant)).toFixed(1))
      }
    } finally {
      await server.server.stop()
    }
  } finally {
    await cluster.cluster.stop()
  }
  figures.say()
  printImportCosts(figures, importCosts())
} finally {
  await rm(workDir, { recursive: true, force: true })
}
