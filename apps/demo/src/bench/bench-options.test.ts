import { describe, expect, it } from 'vitest'
import { BENCH_POSTGRES_URL_VARIABLE, parseBenchOptions } from './bench-options.ts'

describe('parseBenchOptions', () => {
  it('defaults to the embedded cluster, 100,000 listed agents and a PostgreSQL started by the run', () => {
    expect(parseBenchOptions([], {})).toEqual({
      requests: 300,
      warmup: 1000,
      firstStarts: 5,
      agents: 64,
      listAgents: 100_000,
      listRequests: 200,
      skipPostgres: false,
      serverCode: 'image',
    })
  })

  it('reads every flag, and PostgreSQL from the environment', () => {
    const options = parseBenchOptions(
      [
        '--requests',
        '10',
        '--warmup',
        '0',
        '--first-starts',
        '2',
        '--agents',
        '4',
        '--kubeconfig',
        '/tmp/kc',
        '--list-agents',
        '0',
        '--list-requests',
        '5',
        '--skip-postgres',
        '--server-v8-flags=--max-semi-space-size=4  --no-opt',
        '--server-code=built',
      ],
      { [BENCH_POSTGRES_URL_VARIABLE]: 'postgres://u:p@127.0.0.1:5432/db' },
    )
    expect(options).toEqual({
      requests: 10,
      warmup: 0,
      firstStarts: 2,
      agents: 4,
      kubeconfig: '/tmp/kc',
      listAgents: 0,
      listRequests: 5,
      postgresUrl: 'postgres://u:p@127.0.0.1:5432/db',
      skipPostgres: true,
      serverV8Flags: ['--max-semi-space-size=4', '--no-opt'],
      serverCode: 'built',
    })
  })

  it("takes an empty --server-v8-flags as V8's defaults, not the image's options", () => {
    expect(parseBenchOptions(['--server-v8-flags', ''], {})?.serverV8Flags).toEqual([])
  })

  it('does not take KUBECONFIG from the environment: the embedded cluster stays the default', () => {
    expect(parseBenchOptions([], { KUBECONFIG: '/home/me/.kube/config' })?.kubeconfig).toBeUndefined()
  })

  it('answers undefined for --help', () => {
    expect(parseBenchOptions(['--help'], {})).toBeUndefined()
  })

  it.each([
    [['--requests', '0'], '--requests must be an integer ≥ 1, got "0"'],
    [['--warmup=-1'], '--warmup must be an integer ≥ 0, got "-1"'],
    [['--first-starts', '0'], '--first-starts must be an integer ≥ 1, got "0"'],
    [['--agents', '2.5'], '--agents must be an integer ≥ 1, got "2.5"'],
    [['--list-agents', '1e5'], '--list-agents must be an integer ≥ 0, got "1e5"'],
    [['--kubeconfig', ''], '--kubeconfig needs a file name'],
    [['--agnets', '3'], "Unknown option '--agnets'"],
    [['--server-code', ''], '--server-code must be image, built or source, not ""'],
    [['stray'], 'Unexpected argument'],
  ])('refuses %j, saying why', (args, message) => {
    expect(() => parseBenchOptions(args, {})).toThrow(
      new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    )
  })
})
