import {
  integerFlag,
  parseBenchFlags,
  SERVER_PROCESS_FLAGS,
  SERVER_PROCESS_USAGE,
  type ServerProcessOptions,
  serverProcessOptions,
} from './command-line.ts'

/** What one `pnpm bench:server-memory` run measures, from its command line. */
export interface ServerMemoryOptions extends ServerProcessOptions {
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
}

export const SERVER_MEMORY_USAGE = `usage: pnpm bench:server-memory [options]

  --total N           attestations in all, 16 at a time on fresh TLS connections (default 10000;
                      the RSS target is read after 10,000)
  --warmup N          attestations before the heap window (default 1000)
  --window N          attestations over which the heap allocated per attestation is counted
                      (default 2000); --warmup + --window must not exceed --total
  --agents N          agent pods in the embedded cluster (default 64)
  --heap-profile FILE a sampling heap profile of the window, for Chrome DevTools
${SERVER_PROCESS_USAGE}
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
    ...SERVER_PROCESS_FLAGS,
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
  return {
    total,
    warmup,
    window,
    agents: integerFlag(values.agents, '--agents', 1),
    ...(heapProfile === undefined ? {} : { heapProfile }),
    ...serverProcessOptions(values),
  }
}
