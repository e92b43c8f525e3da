import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { measureAgentList } from './bench/agent-list-figures.ts'
import { measureIdleAgent } from './bench/agent-rss-figure.ts'
import { measureAttestations } from './bench/attestation-figures.ts'
import { openBenchCluster } from './bench/bench-cluster.ts'
import type { BenchContext } from './bench/bench-context.ts'
import { BENCH_USAGE, parseBenchOptions } from './bench/bench-options.ts'
import { startBenchServer } from './bench/bench-server.ts'
import { benchOptionsOrExit, serverProcessHeader } from './bench/command-line.ts'
import { Figures } from './bench/figures.ts'
import { measureFirstAttestations } from './bench/first-attestation-figures.ts'
import { measureJwksMode } from './bench/jwks-figures.ts'
import { heapProbe } from './bench/server-memory.ts'
import { compareWorkers } from './bench/workers-comparison.ts'

/*
 * `pnpm bench`: the performance figures of issue 11, printed in one run (a script that prints
 * figures, not a test). The server runs as its own process (the real CLI) against the embedded
 * Kubernetes test API, or with --kubeconfig against a real cluster; its CPU comes from
 * /proc/<pid>/stat, so the load generator's own cost (a Node TLS client pays more per handshake
 * than the server) is not counted. Every request opens a fresh TLS connection, as an agent
 * attesting at half its SVID lifetime does, and the headline is a ratio against a bare route
 * measured the same way in the same run.
 *
 * Each subject is a module under bench/ taking the run's BenchContext; a new figure is a module
 * there and one call below.
 */

const options = benchOptionsOrExit('pnpm bench', BENCH_USAGE, parseBenchOptions)

const figures = new Figures()
const workDir = await mkdtemp(join(tmpdir(), 'k8s-attest-bench-'))
try {
  figures.say(
    `k8s-attest bench: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  )
  const cluster = await openBenchCluster(options, (line) => figures.say(line))
  try {
    figures.say(`cluster: ${cluster.cluster.description}`)
    figures.say(
      `${options.requests} requests per series, each on a fresh TLS connection; ${options.warmup} warm-up attestations; ${cluster.tokens.length} agent pods`,
    )
    figures.say(serverProcessHeader(options))
    figures.say()
    // K8S_ATTEST_BENCH_CPU_PROF=<dir>: the main server (and each `agent list` server) writes a
    // .cpuprofile there on stop.
    const probe = heapProbe(workDir)
    const server = await startBenchServer(join(workDir, 'server'), cluster.cluster, {
      cpuProfileDir: process.env.K8S_ATTEST_BENCH_CPU_PROF,
      serverProcess: options,
      nodeFlags: probe.nodeFlags,
      env: probe.env,
    })
    try {
      const context: BenchContext = { options, figures, workDir, cluster, server, heapProbe: probe }
      const { warmP50 } = await measureAttestations(context)
      await measureFirstAttestations(context, warmP50)
      figures.say()
      await measureJwksMode(context)
      figures.say()
      await compareWorkers(context)
      figures.say()
      await measureIdleAgent(context)
      await measureAgentList(context)
    } finally {
      await server.server.stop()
    }
  } finally {
    await cluster.cluster.stop()
  }
  figures.say()
  figures.say(
    'server RSS after 10,000 attestations: pnpm bench:server-memory; agent RSS per import: pnpm bench:agent-memory',
  )
  figures.say('how each figure is measured, and the last run: docs/performance.md')
} finally {
  await rm(workDir, { recursive: true, force: true })
}
