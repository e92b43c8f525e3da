import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
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

try {
  const agents = await demo.waitForAgents()
  console.log(`\n${agents.length} agents attested to ${demo.serverUrl} (trust domain ${demo.trustDomain}):\n`)
  console.log(formatAgentsTable(agents, new Date()))
} catch (error) {
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`)
  await shutdown(1)
}

if (values.once) await shutdown(0)
else {
  console.log('\nAgents rotate their SVIDs at half life (1 minute). Ctrl-C stops the demo.')
  let shown = ''
  setInterval(async () => {
    const agents = await demo.listAgents()
    // Print again only when an SVID changed (a rotation, a new or evicted agent).
    const serials = agents.map((agent) => `${agent.spiffe_id}=${agent.svid_serial}`).join()
    if (serials !== shown)
      console.log(`\n${new Date().toISOString()}\n${formatAgentsTable(agents, new Date())}`)
    shown = serials
  }, 5_000)
  await new Promise(() => {}) // until a signal
}
