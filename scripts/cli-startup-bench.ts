/**
 * What one call of the operators' commands costs, as a figure to read (never a test that times
 * out): each command is run several times and the median wall time printed, for the built
 * `bin` entries (what operators run) and, for comparison, the TypeScript sources under
 * `--conditions=@k8s-attest/source` (what the tests run). The calls fail fast on purpose — no
 * server at the address, no configuration file — so the figure is the start-up: loading the
 * modules the command needs, parsing its flags. Run it after `pnpm build`:
 *
 *   node scripts/cli-startup-bench.ts [runs]
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const runs = Number(process.argv[2] ?? 5)
const offline = ['-serverAddress', '127.0.0.1:1', '-trustBundle', '/dev/null', '-tokenFile', '/dev/null']
const commands: readonly {
  readonly name: string
  readonly app: 'server' | 'agent'
  readonly args: string[]
}[] = [
  { name: 'k8s-attest-server agent list', app: 'server', args: ['agent', 'list', ...offline] },
  // -config reads and parses server.conf (packages/spire-config's HCL parser) before connecting.
  {
    name: 'k8s-attest-server agent list -config',
    app: 'server',
    args: ['agent', 'list', '-config', 'apps/server/conf/server.conf', '-serverAddress', '127.0.0.1:1'],
  },
  { name: 'k8s-attest-server --help', app: 'server', args: ['--help'] },
  {
    name: 'k8s-attest-agent healthcheck',
    app: 'agent',
    args: ['healthcheck', '-config', '/nonexistent.conf'],
  },
]

function medianMs(argv: readonly string[]): number {
  const times: number[] = []
  for (let run = 0; run < runs; run++) {
    const started = performance.now()
    spawnSync(process.execPath, argv, { cwd: root, stdio: 'ignore' })
    times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  return Math.round(times[Math.floor(times.length / 2)] ?? 0)
}

const baseline = medianMs(['-e', '0'])
console.log(`median of ${runs} runs; node itself (node -e 0): ${baseline} ms\n`)
console.log(`${'command'.padEnd(38)}${'built bin'.padStart(12)}${'from source'.padStart(14)}`)
for (const { name, app, args } of commands) {
  const built = medianMs([`apps/${app}/bin/k8s-attest-${app}.js`, ...args])
  const source = medianMs(['--conditions=@k8s-attest/source', `apps/${app}/src/main.ts`, ...args])
  console.log(`${name.padEnd(38)}${`${built} ms`.padStart(12)}${`${source} ms`.padStart(14)}`)
}
