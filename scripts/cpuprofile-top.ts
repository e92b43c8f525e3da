import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

/*
 * `node scripts/cpuprofile-top.ts FILE.cpuprofile [--top 15] [--by function|package]`: the
 * self time of a V8 CPU profile (`node --cpu-prof`), summed by function (name, file, line) or
 * by package (the node_modules package, `node:` built-ins, our workspace's own `apps/...` /
 * `packages/...`, or V8's `(garbage collector)`, `(program)`, `(idle)`), largest first. A
 * script that prints figures, for docs/performance.md's "Profiling the server".
 */

interface ProfileNode {
  readonly id: number
  readonly callFrame: {
    readonly functionName: string
    readonly url: string
    readonly lineNumber: number
  }
  readonly hitCount?: number
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[]
  readonly startTime: number
  readonly endTime: number
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '15' }, by: { type: 'string', default: 'function' } },
})
const file = positionals[0]
if (file === undefined || (values.by !== 'function' && values.by !== 'package')) {
  process.stderr.write('usage: cpuprofile-top.ts FILE.cpuprofile [--top N] [--by function|package]\n')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile

/** The package a script URL belongs to: the last node_modules package in it, else our own tree. */
function packageOf(url: string): string {
  if (url === '') return '(native / V8)'
  if (url.startsWith('node:')) return url
  const modules = url.lastIndexOf('/node_modules/')
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/')
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url)
  }
  const own = /\/((?:apps|packages)\/[^/]+)\//.exec(url)
  return own?.[1] ?? url
}

function keyOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame
  if (values.by === 'package') return url === '' ? functionName || '(anonymous)' : packageOf(url)
  const where =
    url === ''
      ? ''
      : ` ${url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*?\/((?:apps|packages)\/)/, '$1')}:${lineNumber + 1}`
  return `${functionName || '(anonymous)'}${where}`
}

// Self time per node id: each sample's time delta belongs to the node sampled.
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const selfMicros = new Map<string, number>()
let total = 0
for (let index = 0; index < profile.samples.length; index++) {
  const node = byId.get(profile.samples[index] as number)
  const delta = profile.timeDeltas[index] ?? 0
  if (node === undefined) continue
  total += delta
  const key = keyOf(node)
  selfMicros.set(key, (selfMicros.get(key) ?? 0) + delta)
}
const idle = selfMicros.get(values.by === 'package' ? '(idle)' : '(idle)') ?? 0
const busy = total - idle
process.stdout.write(
  `${file}: ${(total / 1e3).toFixed(0)} ms sampled, ${(busy / 1e3).toFixed(0)} ms not idle; self time, % of not idle\n`,
)
const rows = [...selfMicros].filter(([key]) => key !== '(idle)').sort((a, b) => b[1] - a[1])
for (const [key, micros] of rows.slice(0, Number(values.top))) {
  process.stdout.write(
    `${(micros / 1e3).toFixed(0).padStart(8)} ms ${((100 * micros) / busy).toFixed(1).padStart(5)} %  ${key}\n`,
  )
}
