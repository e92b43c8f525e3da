import {
  type BenchServerCode,
  integerFlag,
  parseBenchFlags,
  SERVER_CODE_USAGE,
  serverCodeFlag,
  v8FlagsFlag,
} from './command-line.ts'
import { SERVER_IMAGE_NODE_FLAGS } from './image-node-flags.ts'

/** What one `pnpm bench:server-memory` run measures, from its command line. */
export interface ServerMemoryOptions {
  /** Attestations in all; the RSS target is read after 10,000. */
  readonly total: number
  /** Attestations before the heap window. */
  readonly warmup: number
  /** Attestations over which the heap allocated per attestation is counted. */
  readonly window: number
  /** Agent pods in the embedded cluster. */
  readonly agents: number
  /** Where the window's sampling heap profile goes; absent: none is taken. */
  readonly heapProfile?: string
  /** The server's V8 options; absent: the image's (`SERVER_IMAGE_NODE_FLAGS`). */
  readonly serverV8Flags?: readonly string[]
  /** Which of the server's code runs. */
  readonly serverCode: BenchServerCode
}

export const SERVER_MEMORY_USAGE = `usage: pnpm bench:server-memory [options]

  --total N           attestations in all, 16 at a time on fresh TLS connections (default 10000;
                      the RSS target is read after 10,000)
  --warmup N          attestations before the heap window (default 1000)
  --window N          attestations over which the heap allocated per attestation is counted
                      (default 2000); --warmup + --window must not exceed --total
  --agents N          agent pods in the embedded cluster (default 64)
  --heap-profile FILE a sampling heap profile of the window, for Chrome DevTools
  --server-v8-flags="F …"
                      the server's V8 options, instead of the image's
                      (${SERVER_IMAGE_NODE_FLAGS.join(' ')}); "" for V8's defaults;
                      written with "=", as options that begin with a dash must be
${SERVER_CODE_USAGE}
  --help              this text
`

/**
 * The options of `args` (the arguments after `pnpm bench:server-memory`), or `undefined` for
 * `--help`.
 *
 * @throws {TypeError} for an unknown option, a stray argument, a count out of range, or a
 *   warm-up and window longer than the run.
 */
export function parseServerMemoryOptions(args: readonly string[]): ServerMemoryOptions | undefined {
  const values = parseBenchFlags(args, {
    total: { type: 'string', default: '10000' },
    warmup: { type: 'string', default: '1000' },
    window: { type: 'string', default: '2000' },
    agents: { type: 'string', default: '64' },
    'heap-profile': { type: 'string' },
    'server-v8-flags': { type: 'string' },
    'server-code': { type: 'string', default: 'image' },
  })
  if (values === undefined) return undefined
  const total = integerFlag(values.total, '--total', 1)
  const warmup = integerFlag(values.warmup, '--warmup', 0)
  const window = integerFlag(values.window, '--window', 1)
  if (warmup + window > total) {
    throw new TypeError(
      `--warmup (${warmup}) and --window (${window}) add up to more than --total (${total}) attestations`,
    )
  }
  const heapProfile = values['heap-profile'] as string | undefined
  if (heapProfile === '') throw new TypeError('--heap-profile needs a file name')
  const serverV8Flags = values['server-v8-flags'] as string | undefined
  return {
    total,
    warmup,
    window,
    agents: integerFlag(values.agents, '--agents', 1),
    ...(heapProfile === undefined ? {} : { heapProfile }),
    ...(serverV8Flags === undefined ? {} : { serverV8Flags: v8FlagsFlag(serverV8Flags) }),
    serverCode: serverCodeFlag(values['server-code'] as string),
  }
}
