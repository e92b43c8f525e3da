import { describe, expect, it } from 'vitest'
import { parseServerMemoryOptions } from './server-memory-options.ts'

describe('parseServerMemoryOptions', () => {
  it("defaults to 10,000 attestations, the heap counted over 2,000 after 1,000, the image's server", () => {
    expect(parseServerMemoryOptions([])).toEqual({
      total: 10_000,
      warmup: 1_000,
      window: 2_000,
      agents: 64,
      serverCode: 'image',
    })
  })

  it('reads every flag', () => {
    expect(
      parseServerMemoryOptions([
        '--total',
        '3000',
        '--warmup=500',
        '--window',
        '1000',
        '--agents',
        '8',
        '--heap-profile',
        '/tmp/attest.heapprofile',
        '--server-v8-flags=--max-semi-space-size=4  --optimize-for-size',
        '--server-code',
        'source',
      ]),
    ).toEqual({
      total: 3_000,
      warmup: 500,
      window: 1_000,
      agents: 8,
      heapProfile: '/tmp/attest.heapprofile',
      serverV8Flags: ['--max-semi-space-size=4', '--optimize-for-size'],
      serverCode: 'source',
    })
  })

  it("takes an empty --server-v8-flags as V8's defaults", () => {
    expect(parseServerMemoryOptions(['--server-v8-flags='])?.serverV8Flags).toEqual([])
  })

  it('answers undefined for --help', () => {
    expect(parseServerMemoryOptions(['--help'])).toBeUndefined()
  })

  it.each([
    [['--total', '0'], '--total must be an integer ≥ 1, got "0"'],
    [['--window', '0'], '--window must be an integer ≥ 1, got "0"'],
    [['--warmup', '1.5'], '--warmup must be an integer ≥ 0, got "1.5"'],
    [
      ['--total', '2000'],
      '--warmup (1000) and --window (2000) add up to more than --total (2000) attestations',
    ],
    [['--heap-profile', ''], '--heap-profile needs a file name'],
    [['--heap'], "Unknown option '--heap'"],
    [['--server-code', 'dist'], '--server-code must be image, built or source, not "dist"'],
    [['3000'], 'Unexpected argument'],
  ])('refuses %j, saying why', (args, message) => {
    expect(() => parseServerMemoryOptions(args)).toThrow(
      new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    )
  })
})
