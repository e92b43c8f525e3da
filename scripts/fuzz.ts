/**
 * `pnpm fuzz`: the large fuzz run (not in CI; `apps/server/test/fuzz.integration.test.ts` is
 * the small seeded one). Generated hostile requests against every route through `inject()`,
 * the token decoder and the CSR check directly, and socket-level cases against a real TLS
 * listener; prints the figures and writes them into docs/failure-modes.md. Exits 1 on any
 * finding: a 5xx that is no upstream fault, a refusal that is not a catalogued problem, an
 * unbounded echo, a secret in a log line, RSS growth of 10 % or more after warm-up.
 *
 *   pnpm fuzz [--cases 1000000] [--seed N] [--decoder-cases 100000] [--csr-cases 20000]
 *             [--socket-rounds 100] [--max-minutes M] [--no-docs]
 *
 * `--max-minutes` stops the route phase when the time is up (fewer cases, said so in the figures).
 */
import { randomBytes, randomInt } from 'node:crypto'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { fuzzCsrCheck, fuzzTokenDecoder } from '../apps/server/test/fuzz/decoder-fuzz.ts'
import { buildFuzzWorld } from '../apps/server/test/fuzz/fuzz-world.ts'
import type { RawTarget } from '../apps/server/test/fuzz/raw-connection.ts'
import { runInjectFuzz } from '../apps/server/test/fuzz/run-fuzz.ts'
import { SOCKET_CASES } from '../apps/server/test/fuzz/socket-cases.ts'
import { startServer } from '../apps/server/test/server-harness.ts'
import { markdownTable, writeGeneratedSection } from './support/failure-modes-doc.ts'

const MAX_RSS_GROWTH = 0.1

const { values: flags } = parseArgs({
  options: {
    cases: { type: 'string', default: '1000000' },
    seed: { type: 'string' },
    'decoder-cases': { type: 'string', default: '100000' },
    'csr-cases': { type: 'string', default: '20000' },
    'socket-rounds': { type: 'string', default: '100' },
    'max-minutes': { type: 'string' },
    'no-docs': { type: 'boolean', default: false },
  },
})
const count = (name: keyof typeof flags) => {
  const value = Number(flags[name])
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`--${name} must be a whole number, got ${String(flags[name])}`)
  return value
}
const seed = flags.seed === undefined ? randomInt(2 ** 31) : Number(flags.seed)
const progress = (line: string) => process.stderr.write(`fuzz: ${line}\n`)
if ((globalThis as { gc?: unknown }).gc === undefined)
  progress('run with --expose-gc for RSS figures after a GC')

const started = new Date()
const world = await buildFuzzWorld()
progress(`seed ${seed}; ${count('cases')} route cases`)
const routes = await runInjectFuzz({
  app: world.unit.app,
  seeds: world.seeds,
  cases: count('cases'),
  seed,
  onViolation: 'collect',
  ...(flags['max-minutes'] === undefined ? {} : { timeLimitMs: Number(flags['max-minutes']) * 60_000 }),
  onProgress: (done) => progress(`${done} route cases, RSS ${mb(process.memoryUsage().rss)}`),
})
const logLines = world.logLineCount()
const logLeaks = [...world.logLeaks]
progress('token decoder')
const decoder = fuzzTokenDecoder(world.seeds, count('decoder-cases'), seed)
progress('CSR check')
const csr = await fuzzCsrCheck(world.seeds, count('csr-cases'), seed)
await world.unit.close()

progress('socket-level cases on a TLS listener')
const socketStarted = performance.now()
const server = await startServer({ clusters: {} })
const address = server.app.server.address()
if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
const target: RawTarget = { port: address.port, ca: server.ca.bundle().pem }
const socketFindings: Record<string, { count: number; example: string }> = {}
let socketCases = 0
for (let round = 0; round < count('socket-rounds'); round++) {
  for (const socketCase of SOCKET_CASES) {
    const finding = await socketCase.run(target, randomBytes(randomInt(1, 512)))
    socketCases++
    if (finding !== undefined) {
      const entry = socketFindings[socketCase.name] ?? { count: 0, example: finding }
      socketFindings[socketCase.name] = { ...entry, count: entry.count + 1 }
    }
  }
}
const stillServing = (await server.request('GET', '/live')).status === 200
await server.close()
const socketSeconds = (performance.now() - socketStarted) / 1000

const rssGrowth = (routes.rssAtEnd - routes.rssAfterWarmUp) / routes.rssAfterWarmUp
const violations = Object.entries(routes.violations)
const socketViolations = Object.entries(socketFindings)
const passed =
  violations.length === 0 &&
  socketViolations.length === 0 &&
  logLeaks.length === 0 &&
  stillServing &&
  rssGrowth < MAX_RSS_GROWTH

const statusRows = Object.entries(routes.byStatus).sort(([a], [b]) => Number(a) - Number(b))
const familyRows = Object.entries(
  Object.entries(routes.byFamily).reduce<Record<string, Record<string, number>>>(
    (sum, [family, byStatus]) => {
      const name = family.split(':')[0] ?? family
      const group = sum[name] ?? {}
      sum[name] = group
      for (const [status, n] of Object.entries(byStatus)) group[status] = (group[status] ?? 0) + n
      return sum
    },
    {},
  ),
).map(([family, byStatus]) => [
  family,
  Object.values(byStatus).reduce((a, b) => a + b, 0),
  Object.entries(byStatus)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([status, n]) => `${status}: ${n}`)
    .join(', '),
])

const report = [
  `Run ${started.toISOString()} on ${cpus().length} cores (shared), Node ${process.version}: ` +
    `\`pnpm fuzz --cases ${count('cases')} --seed ${seed}` +
    `${flags['max-minutes'] === undefined ? '' : ` --max-minutes ${flags['max-minutes']}`}\` — **${passed ? 'passed' : 'FAILED'}**` +
    `${routes.cases < count('cases') ? ` (time budget reached after ${routes.cases} of ${count('cases')} route cases)` : ''}.`,
  '',
  markdownTable(
    ['phase', 'cases', 'seconds', 'outcome'],
    [
      ['routes (inject)', routes.cases, routes.seconds.toFixed(0), `${violations.length} kinds of violation`],
      [
        'token decoder',
        decoder.cases,
        decoder.seconds.toFixed(1),
        `${decoder.accepted} decoded, ${decoder.refused} refused as malformed`,
      ],
      [
        'CSR check',
        csr.cases,
        csr.seconds.toFixed(1),
        `${csr.accepted} verified, ${csr.refused} refused by a named check`,
      ],
      [
        'socket level (TLS)',
        socketCases,
        socketSeconds.toFixed(1),
        `${socketViolations.length} kinds of violation; listener ${stillServing ? 'still serving' : 'NOT serving'}`,
      ],
    ],
  ),
  '',
  'Answers by status:',
  '',
  markdownTable(['status', 'answers'], statusRows),
  '',
  'By generator family:',
  '',
  markdownTable(['family', 'cases', 'statuses'], familyRows),
  '',
  (Number.isNaN(routes.rssAfterWarmUp)
    ? `Server RSS: the run stopped before the warm-up (${routes.warmUpCases} cases) ended; no trend measured. `
    : `Server RSS after warm-up (${routes.warmUpCases} cases) ${mb(routes.rssAfterWarmUp)}, at the end ` +
      `${mb(routes.rssAtEnd)}: ${(rssGrowth * 100).toFixed(1)} % (limit ${MAX_RSS_GROWTH * 100} %). `) +
    `${logLines} server log lines checked, ${logLeaks.length} with a secret.`,
  ...(violations.length + socketViolations.length === 0
    ? []
    : [
        '',
        'Findings (first example of each):',
        '',
        ...[...violations, ...socketViolations].map(
          ([kind, { count, example }]) =>
            `- ${kind} (${count}×): \`${example
              .replace(/^[^\n]*\n/, '')
              .replaceAll('\n', ' ')
              .slice(0, 300)
              .replaceAll('`', "'")}\``,
        ),
      ]),
].join('\n')

process.stdout.write(`${report}\n`)
if (!flags['no-docs']) {
  writeGeneratedSection('fuzz', report)
  progress('figures written into docs/failure-modes.md')
}
process.exitCode = passed ? 0 : 1

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`
}
