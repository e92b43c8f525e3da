import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { type AgentSnapshot, describeAgentChanges, describeExit } from './agent-changes.ts'
import { formatAgentsTable } from './agents-table.ts'
import { type Demo, type ServerEvent, startDemo } from './demo.ts'
import type { DemoCluster } from './demo-cluster.ts'
import { readStoredSvid } from './system/stored-svid.ts'
import { prepareWorkDir } from './work-dir.ts'

const USAGE = `usage: make demo [DEMO_ARGS="<options>"]   (or: pnpm demo [<options>])

  --once               exit once every agent has attested (for scripts)
  --dir <path>         keep configs, tokens, data and logs there (default: a new temporary
                       directory); a directory a previous demo used is cleared and reused
  --kubeconfig <file>  run against that cluster instead of the embedded one (default: $KUBECONFIG
                       when set): a namespace, service accounts, RBAC and one agent pod per node
                       are created there, and removed when the demo stops
  --help               this text`

/** How often the demo looks at its agents' processes and stored SVIDs (local files, not the server). */
const WATCH_INTERVAL_MS = 1_000

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

const options = parseCommandLine(process.argv.slice(2))
const workDir = options.dir ?? (await mkdtemp(join(tmpdir(), 'k8s-attest-demo-')))
const prepared = await prepareWorkDir(workDir)
if (prepared.kind === 'refused') {
  process.stderr.write(`k8s-attest demo: ${prepared.reason}\n`)
  process.exit(2)
}
console.log(
  `k8s-attest demo, files in ${workDir}${prepared.kind === 'reused' ? " (the previous demo's files there were replaced)" : ''}`,
)

let demo: Demo | undefined
/** Settles when startDemo() has; a stop during startup waits for it, so no process is left behind. */
let started: Promise<unknown> = Promise.resolve()
let stopping = false
/** Stops everything, says where the files are, and exits (0 for Ctrl-C or a signal). */
const shutdown = async (code: number, why: string) => {
  if (stopping) return
  stopping = true
  console.log(`\n${why}: stopping the agents, the server and the cluster…`)
  if (process.stdin.isTTY) process.stdin.setRawMode(false)
  process.stdin.pause()
  try {
    await started.catch(() => undefined)
    await demo?.stop()
  } catch (error) {
    console.error(`could not stop everything cleanly: ${firstLine(error)}`)
    code = code === 0 ? 1 : code
  }
  console.log(`Stopped. Every file the demo wrote stays in ${workDir}:
  server/          server.conf, admin-token, kubeconfig, data/ (CA, SQLite), server.log
  agents/<node>/   agent.conf, tokens/, data/ (SVID), agent.log`)
  process.exit(code)
}
process.on('SIGINT', () => void shutdown(0, 'Interrupted'))
process.on('SIGTERM', () => void shutdown(0, 'Terminated'))
const onKey = listenToKeyboard()

try {
  const starting = openCluster(options.kubeconfig).then((cluster) =>
    startDemo({ workDir, say: (line) => console.log(`  ${line}`), ...(cluster ? { cluster } : {}) }),
  )
  started = starting
  demo = await starting
  if (stopping) await new Promise(() => {}) // a signal came during startup; shutdown() exits
  demo.onServerEvent((event) => console.log(describeServerEvent(event)))
  const { server } = demo
  console.log(`
  Dashboard     ${demo.dashboardUrl}   (sign in with the admin token)
  Admin token   ${server.adminTokenPath}
  Trust bundle  ${server.bundlePath}   (the server's CA, which no browser knows)
  Try           . ${join(REPO_ROOT, 'scripts/toolchain.sh')} && k8s-attest-server agent list -config ${server.configPath}`)
  const agents = await demo.waitForAgents()
  console.log(`\n${agents.length} agents attested to ${demo.serverUrl} (trust domain ${demo.trustDomain}):\n`)
  console.log(formatAgentsTable(agents, new Date(), exitStatusByNode(demo)))
} catch (error) {
  if (!stopping) {
    console.error(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}`)
    await shutdown(1, 'Failed')
  }
}

if (options.once) await shutdown(0, 'Done (--once)')
else await watch(demo as Demo)

/** Prints one line per change until the demo is stopped; `t` or Enter prints the table again. */
async function watch(running: Demo): Promise<void> {
  console.log(
    '\nAgents rotate their SVIDs at half life (1 minute); each change gets one line. t: the table again, Ctrl-C: stop.',
  )
  onKey.table = () => {
    running.listAgents().then(
      (agents) => console.log(`\n${formatAgentsTable(agents, new Date(), exitStatusByNode(running))}\n`),
      (error: unknown) => console.log(`the server did not answer: ${firstLine(error)}`),
    )
  }
  let seen = await snapshot(running)
  const timer = setInterval(() => {
    snapshot(running).then(
      (next) => {
        for (const line of describeAgentChanges(seen, next, new Date())) console.log(line)
        seen = next
      },
      (error: unknown) => console.log(`could not read the agents' files: ${firstLine(error)}`),
    )
  }, WATCH_INTERVAL_MS)
  await new Promise(() => {}) // until shutdown() exits
  clearInterval(timer)
}

/** Each agent's process status and stored SVID: what changes on a rotation, a ban, a crash. */
async function snapshot(running: Demo): Promise<AgentSnapshot[]> {
  return Promise.all(
    running.agents.map(async (agent) => ({
      nodeName: agent.node.nodeName,
      exitStatus: agent.exitStatus(),
      svid: await readStoredSvid(agent.installation.dataDir).catch(() => undefined),
    })),
  )
}

function exitStatusByNode(running: Demo) {
  return new Map(running.agents.map((agent) => [agent.node.nodeName, agent.exitStatus()]))
}

function describeServerEvent(event: ServerEvent): string {
  const time = new Date().toISOString().slice(11, 19)
  switch (event.kind) {
    case 'exited':
      return `${time}  server  exited (${typeof event.status === 'number' ? describeExit(event.status) : `killed by ${event.status}`}); restarting it on the same data and port (log ${event.logPath})`
    case 'restarted':
      return `${time}  server  running again (pid ${event.pid}); the agents reconnect on their own`
    case 'restart-failed':
      return `${time}  server  did not come back (${event.reason}); trying again in ${event.retryInMs / 1000}s`
  }
}

/** The embedded cluster (`undefined`), or the one a kubeconfig names, prepared for the demo. */
async function openCluster(kubeconfig: string | undefined): Promise<DemoCluster | undefined> {
  if (kubeconfig === undefined) return undefined
  // Imported only in this mode: @kubernetes/client-node costs a second to load.
  const { connectCluster } = await import('./kubeconfig-cluster.ts')
  return connectCluster(kubeconfig, { say: (line) => console.log(`  ${line}`) })
}

interface CommandLine {
  readonly once: boolean
  readonly dir: string | undefined
  readonly kubeconfig: string | undefined
}

/** The options, or usage on stderr and exit 2 (exit 0 for --help). */
function parseCommandLine(args: readonly string[]): CommandLine {
  try {
    const { values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        once: { type: 'boolean', default: false },
        dir: { type: 'string' },
        kubeconfig: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    })
    if (values.help) {
      console.log(USAGE)
      process.exit(0)
    }
    const kubeconfig = values.kubeconfig ?? (process.env.KUBECONFIG || undefined)
    return { once: values.once, dir: values.dir, kubeconfig }
  } catch (error) {
    process.stderr.write(`k8s-attest demo: ${firstLine(error)}\n\n${USAGE}\n`)
    process.exit(2)
  }
}

/**
 * Ctrl-C as a key, not a signal: with the terminal in raw mode it reaches only the demo, which
 * stops everything and exits 0 — so `make demo` ends with 0 too, where a SIGINT would have
 * reached make as well and made it report an interrupt. Without a terminal (a pipe, a test)
 * signals work as usual, and a line `t` prints the table.
 */
function listenToKeyboard(): { table: () => void } {
  const handlers = { table: () => {} }
  const { stdin } = process
  if (stdin.isTTY) stdin.setRawMode(true)
  stdin.setEncoding('utf8')
  stdin.on('data', (text: string) => {
    for (const key of text) {
      if (key === '\u0003' || key === '\u0004' || key === 'q') void shutdown(0, 'Ctrl-C')
      else if (key === 't' || key === '\r') handlers.table()
    }
  })
  // Nothing to read (stdin at /dev/null, a closed pipe) must not keep the process alive or stop it.
  stdin.on('end', () => stdin.pause())
  return handlers
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''
}
