// Only what every command needs is imported here; `run` and `healthcheck` load their own modules
// when chosen, so a probe's `healthcheck` never pays for undici, pino and prom-client.
import { type AgentConfig, loadAgentConfig } from './config.ts'
import { isAgentError } from './errors.ts'
import type { MetricsListener } from './metrics-listener.ts'
import type { MetricsRecorder } from './metrics-recorder.ts'
import type { AgentDeps, AgentOutcome } from './run-agent.ts'

/**
 * Exit codes of `k8s-attest-agent`. A banned agent has its own, so an operator (or a
 * controller) can tell "refused for good" from "crashed" without reading logs.
 */
export const EXIT_CODES = {
  /** `run` stopped by a signal; `healthcheck` found a valid SVID. */
  ok: 0,
  /** `run` crashed; `healthcheck` found no valid SVID. */
  failure: 1,
  /** Bad command line or configuration (as Go's flag package exits). */
  usage: 2,
  /** `run`: the server banned this agent. */
  banned: 3,
} as const

/** What the CLI needs from the process; `main.ts` passes the real ones, tests their own. */
export interface CliIo {
  /** Logs (JSON lines) and `healthcheck`'s verdict when healthy. */
  readonly stdout: { write(text: string): unknown }
  /** Usage, configuration errors, `healthcheck`'s reason when unhealthy. */
  readonly stderr: { write(text: string): unknown }
  /**
   * Calls `stop` on SIGTERM or SIGINT, until the returned function is called. The agent then
   * closes its connections and exits 0.
   */
  readonly onStopSignal: (stop: (signal: string) => void) => () => void
  /** The environment for `-expandEnv`. Default: `process.env` (read by config.ts only). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Extra dependencies for `run`, for tests (a scheduler, URL CAs). */
  readonly agentDeps?: Omit<AgentDeps, 'logger' | 'metrics'>
}

const USAGE = `Usage: k8s-attest-agent <command> [flags]

Commands:
  run          attest this node and keep its SVID fresh until SIGTERM
  healthcheck  exit 0 if data_dir holds a valid SVID, 1 otherwise (for Kubernetes probes)

Flags:
  -config <path>  configuration file (default "conf/agent.conf")
  -expandEnv      substitute $VAR and \${VAR} in the configuration file
`

interface Flags {
  readonly config: string
  readonly expandEnv: boolean
}

/**
 * `k8s-attest-agent run|healthcheck [-config <path>] [-expandEnv]`, with flags in Go's
 * style as SPIRE's CLI has them (`-config x`, `-config=x`, `--config x`). Returns the exit code.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv
  if (
    command === undefined ||
    command === 'help' ||
    command === '-h' ||
    command === '-help' ||
    command === '--help'
  ) {
    io.stderr.write(USAGE)
    return command === undefined ? EXIT_CODES.usage : EXIT_CODES.ok
  }
  if (command !== 'run' && command !== 'healthcheck') {
    io.stderr.write(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`)
    return EXIT_CODES.usage
  }
  const flags = parseFlags(rest)
  if (typeof flags === 'string') {
    io.stderr.write(`${flags}\n\n${USAGE}`)
    return EXIT_CODES.usage
  }

  let config: AgentConfig
  try {
    config = await loadAgentConfig(flags.config, {
      expandEnv: flags.expandEnv,
      ...(io.env === undefined ? {} : { env: io.env }),
    })
  } catch (error) {
    if (!isAgentError(error)) throw error
    io.stderr.write(`${error.message}\n`)
    return command === 'healthcheck' ? EXIT_CODES.failure : EXIT_CODES.usage
  }
  return command === 'run' ? run(config, io) : healthcheck(config, io)
}

async function healthcheck(config: AgentConfig, io: CliIo): Promise<number> {
  const { checkHealth } = await import('./healthcheck.ts')
  const report = await checkHealth(config)
  if (report.healthy) {
    io.stdout.write(`healthy: ${report.message}\n`)
    return EXIT_CODES.ok
  }
  io.stderr.write(`unhealthy: ${report.message}\n`)
  return EXIT_CODES.failure
}

async function run(config: AgentConfig, io: CliIo): Promise<number> {
  const [{ createLogger }, { runAgent }, { systemScheduler }] = await Promise.all([
    import('./logger.ts'),
    import('./run-agent.ts'),
    import('./scheduler.ts'),
  ])
  const logger = createLogger({ level: config.logLevel, destination: io.stdout })
  const scheduler = io.agentDeps?.scheduler ?? systemScheduler
  let metrics: MetricsRecorder | undefined
  let listener: MetricsListener | undefined
  if (config.metrics !== undefined) {
    // prom-client and the listener only when someone scrapes them (see metrics-recorder.ts).
    const [{ AgentMetrics }, { startMetricsListener }] = await Promise.all([
      import('./metrics.ts'),
      import('./metrics-listener.ts'),
    ])
    const agentMetrics = new AgentMetrics(() => scheduler.now())
    metrics = agentMetrics
    try {
      listener = await startMetricsListener(config.metrics, agentMetrics.registry)
    } catch (error) {
      logger.fatal(
        { err: error },
        `cannot listen for /metrics on ${config.metrics.host}:${config.metrics.port}`,
      )
      return EXIT_CODES.failure
    }
    logger.info({ host: listener.address.address, port: listener.address.port }, 'serving /metrics')
  }

  const agent = runAgent(config, { ...io.agentDeps, logger, ...(metrics === undefined ? {} : { metrics }) })
  const stopListening = io.onStopSignal((signal) => {
    logger.info({ signal }, 'stop signal received; stopping')
    void agent.stop()
  })
  const outcome = await agent.done
  stopListening()
  await listener?.close()
  return exitCodeOf(outcome)
}

function exitCodeOf(outcome: AgentOutcome): number {
  switch (outcome.reason) {
    case 'stopped':
      return EXIT_CODES.ok
    case 'banned':
      return EXIT_CODES.banned
    case 'crashed':
      return EXIT_CODES.failure
  }
}

/** Go `flag` semantics for our two flags: one or two dashes, `-name value` or `-name=value`. */
function parseFlags(args: readonly string[]): Flags | string {
  let config = 'conf/agent.conf'
  let expandEnv = false
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string
    const match = /^--?([A-Za-z]+)(?:=(.*))?$/s.exec(arg)
    if (match === null) return `unexpected argument ${JSON.stringify(arg)}`
    const [, name, inlineValue] = match
    if (name === 'config') {
      const value = inlineValue ?? args[++index]
      if (value === undefined || value === '') return 'flag -config needs a file path'
      config = value
    } else if (name === 'expandEnv') {
      if (inlineValue !== undefined && inlineValue !== 'true' && inlineValue !== 'false') {
        return `flag -expandEnv takes true or false; got ${JSON.stringify(inlineValue)}`
      }
      expandEnv = inlineValue !== 'false'
    } else {
      return `unknown flag -${name}`
    }
  }
  return { config, expandEnv }
}
