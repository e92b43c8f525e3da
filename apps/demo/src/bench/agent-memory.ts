import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type AgentInstallOptions, installAgent, startAgent } from '../system/agent-process.ts'
import type { Figures } from './figures.ts'
import { type BenchCode, codeToRun } from './image-build.ts'
import { AGENT_IMAGE_NODE_FLAGS, imageEnvironment } from './image-node-flags.ts'
import { rssMiB } from './process-stats.ts'

/*
 * What one agent process holds in memory, for `pnpm bench` and `pnpm bench:agent-memory`
 * (figures printed, not a test). An agent runs on every node, so its idle RSS is paid once per
 * node of the cluster; SPIRE's Go agent holds about 46 MB.
 */

/** One way of running the agent whose idle RSS is measured. */
export interface AgentRunVariant {
  readonly name: string
  readonly code: BenchCode
  readonly nodeFlags: readonly string[]
  /** Added to the agent's environment. */
  readonly env?: Readonly<Record<string, string>>
}

/** The agent as the image runs it: its bundle, with the image's NODE_OPTIONS and environment. */
export const AGENT_AS_IN_IMAGE: AgentRunVariant = {
  name: 'as in the image: bundled, NODE_OPTIONS=--max-semi-space-size=1, MALLOC_ARENA_MAX=2',
  code: 'image',
  nodeFlags: AGENT_IMAGE_NODE_FLAGS,
  env: imageEnvironment(),
}

/** The ways of running the agent `pnpm bench:agent-memory` compares. */
export const AGENT_RUN_VARIANTS: readonly AgentRunVariant[] = [
  AGENT_AS_IN_IMAGE,
  {
    name: 'workspace build (dist/, not bundled), the same flags and environment',
    code: 'built',
    nodeFlags: AGENT_IMAGE_NODE_FLAGS,
    env: imageEnvironment(),
  },
  { name: "workspace build, V8's default flags", code: 'built', nodeFlags: [] },
  { name: "from source (type stripping), V8's default flags", code: 'source', nodeFlags: [] },
]

/** How long the agent idles after attesting before its RSS is read. */
const IDLE_MS = 2_000

/**
 * Installs and starts one agent (`options.dir` is its own), waits until it has attested and
 * idled {@link IDLE_MS}, and returns its VmRSS in MiB; the agent is stopped before returning.
 */
export async function agentIdleRssMiB(
  options: AgentInstallOptions,
  variant: AgentRunVariant,
): Promise<number> {
  const installation = await installAgent(options)
  const code = await codeToRun('@k8s-attest/agent', variant.code)
  const agent = await startAgent(installation, {
    code,
    nodeFlags: variant.nodeFlags,
    ...(variant.env === undefined ? {} : { env: variant.env }),
  })
  try {
    await agent.waitForLog((entry) => entry.msg === 'SVID obtained', 'the agent to attest')
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS))
    return rssMiB(agent.process.pid)
  } finally {
    await agent.stop()
  }
}

/** What importing one module adds to an empty Node process, measured in a process of its own. */
export interface ImportCost {
  readonly module: string
  readonly rssMiB: number
  readonly heapUsedMiB: number
}

/** A library to load, and the workspace package it is resolved from (as that package resolves it). */
export interface ImportProbe {
  readonly module: string
  readonly from: 'apps/agent' | 'apps/server' | 'packages/core' | 'packages/spire-config'
}

/**
 * The libraries the agent's `run` path loads, one at a time, resolved as the agent (or the
 * workspace package that depends on them) resolves them, built: the breakdown
 * docs/performance.md quotes. `hcl parse` parses one small agent.conf through
 * `@k8s-attest/spire-config`, to show what the configuration reader keeps resident after parsing.
 */
export const AGENT_IMPORTS: readonly ImportProbe[] = [
  { module: '', from: 'apps/agent' },
  { module: 'undici', from: 'apps/agent' },
  { module: 'pino', from: 'apps/agent' },
  { module: 'prom-client', from: 'apps/agent' },
  { module: 'typebox', from: 'apps/agent' },
  { module: 'typebox/compile', from: 'apps/agent' },
  { module: 'jose', from: 'packages/core' },
  { module: 'reflect-metadata @peculiar/x509', from: 'apps/agent' },
  { module: '@k8s-attest/core', from: 'apps/agent' },
  { module: '@k8s-attest/spire-config', from: 'apps/agent' },
  { module: 'hcl parse', from: 'apps/agent' },
]

/**
 * The largest libraries of the server's `run` path, one at a time, built: what replacing one
 * (client-node, above all) would save in each server process.
 */
export const SERVER_IMPORTS: readonly ImportProbe[] = [
  { module: '', from: 'apps/server' },
  { module: '@kubernetes/client-node', from: 'apps/server' },
  { module: 'fastify', from: 'apps/server' },
  { module: 'typebox', from: 'apps/server' },
  { module: 'reflect-metadata @peculiar/x509', from: 'apps/server' },
  { module: 'undici', from: 'apps/server' },
  { module: 'pino', from: 'apps/server' },
  { module: 'prom-client', from: 'apps/server' },
  { module: 'pg', from: 'apps/server' },
  { module: './dist/app.js', from: 'apps/server' },
]

/** `probes` ({@link AGENT_IMPORTS} by default), each in a fresh `node` process after a full GC. */
export function importCosts(probes: readonly ImportProbe[] = AGENT_IMPORTS): ImportCost[] {
  const root = new URL('../../../../', import.meta.url)
  return probes.map(({ module, from }) => {
    const output = execFileSync(
      process.execPath,
      ['--expose-gc', '--input-type=module', '-e', importProbe(module)],
      { cwd: fileURLToPath(new URL(`${from}/`, root)), encoding: 'utf8' },
    )
    const [rss, heapUsed] = output.trim().split(' ').map(Number)
    return {
      module: module === '' ? '(empty process)' : module,
      rssMiB: rss ?? Number.NaN,
      heapUsedMiB: heapUsed ?? Number.NaN,
    }
  })
}

/** The `-e` program that loads `module` and prints RSS and heap used, MiB, after a GC. */
function importProbe(module: string): string {
  let load = ''
  if (module === 'hcl parse') {
    load =
      "const { parseConfig } = await import('@k8s-attest/spire-config'); " +
      "await parseConfig('agent {\\n  trust_domain = \"x\"\\n}\\n', { fileName: 'a.conf', subject: 'agent' }, {}, " +
      "(root) => root.block('agent')?.string('trust_domain', 'a trust domain'))"
  } else if (module !== '') {
    load = module
      .split(' ')
      .map((name) => `await import('${name}')`)
      .join('; ')
  }
  return `${load}
await new Promise((resolve) => setTimeout(resolve, 200)); globalThis.gc(); await new Promise((resolve) => setTimeout(resolve, 100))
const usage = process.memoryUsage()
process.stdout.write((usage.rss / 2 ** 20).toFixed(1) + ' ' + (usage.heapUsed / 2 ** 20).toFixed(1))`
}

/** Prints {@link importCosts}' answer, one module a line: RSS / heap used, MiB. */
export function printImportCosts(figures: Figures, costs: readonly ImportCost[]): void {
  figures.say('one import at a time, in an empty process after a full GC (RSS / heap used, MiB):')
  for (const cost of costs)
    figures.record(cost.module, `${cost.rssMiB.toFixed(1)} / ${cost.heapUsedMiB.toFixed(1)}`)
}
