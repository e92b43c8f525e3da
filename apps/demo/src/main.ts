import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { AgentView } from '@k8s-attest/core'
import { formatAgentsTable } from './agents-table.ts'
import { startDemo } from './demo.ts'

const USAGE = `usage: k8s-attest-demo [--once] [--dir <path>]

  --once        exit after every agent has attested (for scripts)
  --dir <path>  keep configs, tokens, data and logs there (default: a new temporary directory)`

const { values } = parseArgs({
  options: { once: { type: 'boolean', default: false }, dir: { type: 'string' }, help: { type: 'boolean' } },
})
if (values.help) {
  console.log(USAGE)
  process.exit(0)
}

const workDir = values.dir ?? (await mkdtemp(join(tmpdir(), 'k8s-attest-demo-')))
console.log(`k8s-attest demo in ${workDir}`)
const demo = await startDemo({ workDir, say: (line) => console.log(`  ${line}`) })
let stopping = false
const shutdown = async (code: number) => {
  if (stopping) return
  stopping = true
  await demo.stop()
  process.exit(code)
}
process.on('SIGINT', () => void shutdown(0))
process.on('SIGTERM', () => void shutdown(0))

/** What the table shows that a rotation, an eviction or a new agent changes. */
const serialsOf = (agents: readonly AgentView[]) =>
  agents.map((agent) => `${agent.spiffe_id}=${agent.svid_serial}`).join()
const fail = async (error: unknown) => {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`)
  await shutdown(1)
}

let shown = ''
try {
  const agents = await demo.waitForAgents()
  console.log(`\n${agents.length} agents attested to ${demo.serverUrl} (trust domain ${demo.trustDomain}):\n`)
  console.log(formatAgentsTable(agents, new Date()))
  shown = serialsOf(agents)
} catch (error) {
  await fail(error)
}

if (values.once) await shutdown(0)
else {
  console.log('\nAgents rotate their SVIDs at half life (1 minute). Ctrl-C stops the demo.')
  setInterval(async () => {
    try {
      const agents = await demo.listAgents()
      if (serialsOf(agents) === shown) return
      shown = serialsOf(agents)
      console.log(`\n${new Date().toISOString()}\n${formatAgentsTable(agents, new Date())}`)
    } catch (error) {
      await fail(error)
    }
  }, 5_000)
  await new Promise(() => {}) // until a signal
}
