import {
  integerFlag,
  parseBenchFlags,
  SERVER_PROCESS_FLAGS,
  SERVER_PROCESS_USAGE,
  type ServerProcessOptions,
  serverProcessOptions,
} from './command-line.ts'

/** Names the PostgreSQL server `pnpm bench` lists agents on, when set (else one is started). */
export const BENCH_POSTGRES_URL_VARIABLE = 'K8S_ATTEST_BENCH_POSTGRES_URL'

/** What one `pnpm bench` run measures, from its command line. */
export interface BenchOptions extends ServerProcessOptions {
  /** Requests per series. */
  readonly requests: number
  /** Attestations before the measured series. */
  readonly warmup: number
  /** Server starts whose first attestation is timed (the median is held to its target). */
  readonly firstStarts: number
  /** Agent pods to attest with (embedded cluster only: a real cluster gives one per node). */
  readonly agents: number
  /** A real cluster's kubeconfig; absent: the embedded Kubernetes test API. */
  readonly kubeconfig?: string
  /** Agent records seeded for the `agent list` figures; 0 skips them. */
  readonly listAgents: number
  /** Requests per `agent list` series. */
  readonly listRequests: number
  /** PostgreSQL for the `agent list` figures; absent: started with scripts/postgres.sh. */
  readonly postgresUrl?: string
  /** Skip the PostgreSQL `agent list` figures. */
  readonly skipPostgres: boolean
}

export const BENCH_USAGE = `usage: pnpm bench [options]

  --requests N        requests per series (default 300)
  --warmup N          attestations before the measured series (default 1000)
  --first-starts N    fresh server starts whose first attestation is timed (default 5)
  --agents N          agent pods in the embedded cluster (default 64)
  --kubeconfig FILE   run against the cluster FILE names (its current context) instead of the
                      embedded Kubernetes test API: namespace, service accounts, RBAC and one
                      agent pod per node are created there and removed afterwards
  --list-agents N     agents stored for the \`agent list\` figures (default 100000; 0 skips them)
  --list-requests N   requests per \`agent list\` series (default 200)
  --skip-postgres     \`agent list\` on SQLite only
${SERVER_PROCESS_USAGE}
  --help              this text

  ${BENCH_POSTGRES_URL_VARIABLE}  PostgreSQL for the \`agent list\` figures (a role allowed to
                      CREATE DATABASE); without it, scripts/postgres.sh starts a throwaway server
`

/**
 * The options of `args` (the arguments after `pnpm bench`), or `undefined` for `--help`.
 *
 * @throws {TypeError} for an unknown option, a stray argument, or a count that is not an
 *   integer in range.
 */
export function parseBenchOptions(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): BenchOptions | undefined {
  const values = parseBenchFlags(args, {
    requests: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '1000' },
    'first-starts': { type: 'string', default: '5' },
    agents: { type: 'string', default: '64' },
    kubeconfig: { type: 'string' },
    'list-agents': { type: 'string', default: '100000' },
    'list-requests': { type: 'string', default: '200' },
    'skip-postgres': { type: 'boolean', default: false },
    ...SERVER_PROCESS_FLAGS,
  })
  if (values === undefined) return undefined
  const kubeconfig = values.kubeconfig as string | undefined
  if (kubeconfig === '') throw new TypeError('--kubeconfig needs a file name')
  const postgresUrl = env[BENCH_POSTGRES_URL_VARIABLE] || undefined
  return {
    requests: integerFlag(values.requests, '--requests', 1),
    warmup: integerFlag(values.warmup, '--warmup', 0),
    firstStarts: integerFlag(values['first-starts'], '--first-starts', 1),
    agents: integerFlag(values.agents, '--agents', 1),
    ...(kubeconfig === undefined ? {} : { kubeconfig }),
    listAgents: integerFlag(values['list-agents'], '--list-agents', 0),
    listRequests: integerFlag(values['list-requests'], '--list-requests', 1),
    ...(postgresUrl === undefined ? {} : { postgresUrl }),
    skipPostgres: values['skip-postgres'] === true,
    ...serverProcessOptions(values),
  }
}
