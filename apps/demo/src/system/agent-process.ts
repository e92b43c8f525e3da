import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  type AppCode,
  appEntry,
  type ChildHandle,
  type CompletedRun,
  type ExitStatus,
  runToCompletion,
  startChild,
} from '../child-process.ts'
import { type AgentConfigInput, renderAgentConfig } from './agent-config.ts'
import { eventually } from './eventually.ts'
import { JsonLog, type LogEntry } from './json-log.ts'
import { createTokenVolume, type TokenVolume } from './token-volume.ts'

/**
 * Exit codes of `k8s-attest-agent` (apps/agent/src/cli.ts), as an operator or a controller
 * reads them.
 */
export const AGENT_EXIT_CODES = {
  /** `run` stopped by a signal; `healthcheck` found a valid SVID. */
  ok: 0,
  /** `run` crashed; `healthcheck` found no valid SVID. */
  failure: 1,
  /** Bad command line or configuration. */
  usage: 2,
  /** `run`: the server banned this agent. */
  banned: 3,
} as const

/** Options of {@link installAgent}. */
export interface AgentInstallOptions extends Omit<AgentConfigInput, 'dataDir' | 'tokenPath'> {
  /** A directory of the agent's own: config, token volume, data_dir, log. Created if missing. */
  readonly dir: string
  /** The first token, written to the agent's token volume. */
  readonly token: string
}

/** An agent installed on one node: its configuration, token volume and data_dir. */
export interface AgentInstallation {
  readonly dir: string
  readonly configPath: string
  readonly dataDir: string
  /** The projected token volume; `tokens.write()` rotates the token as kubelet does. */
  readonly tokens: TokenVolume
  /** Standard output (JSON lines) and error of every run, appended. */
  readonly logPath: string
}

/** Writes agent.conf and the token volume into `options.dir`. */
export async function installAgent(options: AgentInstallOptions): Promise<AgentInstallation> {
  const { dir, token, ...config } = options
  await mkdir(dir, { recursive: true })
  const tokens = await createTokenVolume(join(dir, 'tokens'), token)
  const dataDir = join(dir, 'data')
  const configPath = join(dir, 'agent.conf')
  await writeFile(configPath, renderAgentConfig({ ...config, dataDir, tokenPath: tokens.tokenPath }))
  return { dir, configPath, dataDir, tokens, logPath: join(dir, 'agent.log') }
}

/** A running `k8s-attest-agent run` process. */
export interface RunningAgent {
  readonly installation: AgentInstallation
  readonly process: ChildHandle
  /** This run's part of the log. */
  readonly log: JsonLog
  /**
   * The first entry of this run's log that `match` accepts, waiting up to `timeoutMs`
   * (default 20 s).
   *
   * @throws {Error} if the agent exits first, or on timeout; both name `what` and end with the
   *   log's tail.
   */
  waitForLog(match: (entry: LogEntry) => boolean, what: string, timeoutMs?: number): Promise<LogEntry>
  /**
   * The exit status once the agent ends on its own (a ban, a crash), waiting up to
   * `timeoutMs` (default 20 s).
   */
  waitForExit(timeoutMs?: number): Promise<ExitStatus>
  /** SIGTERM, then the exit status (0 when the agent stopped cleanly). */
  stop(): Promise<ExitStatus>
}

const AGENT_MAIN = import.meta.resolve('@k8s-attest/agent/main')
/** The installed command (`apps/agent/bin`), which runs the built `dist/`. */
const AGENT_BIN = new URL('../../../agent/bin/k8s-attest-agent.js', import.meta.url).href

/** How {@link startAgent} runs the agent. */
export interface AgentRunOptions {
  /** Which of the agent's code runs (default `'source'`). */
  readonly code?: AppCode
  /** Node options for the agent process, as the image sets them in NODE_OPTIONS; default none. */
  readonly nodeFlags?: readonly string[]
  /** Added to the agent's environment; default none. */
  readonly env?: Readonly<Record<string, string>>
}

/** Starts `k8s-attest-agent run -config <installation>/agent.conf`: the real CLI, from source by default. */
export async function startAgent(
  installation: AgentInstallation,
  options: AgentRunOptions = {},
): Promise<RunningAgent> {
  const log = await JsonLog.fromEnd(installation.logPath)
  const child = await startChild({
    name: `agent ${installation.dir}`,
    ...appEntry(options.code ?? 'source', AGENT_MAIN, AGENT_BIN),
    args: ['run', '-config', installation.configPath],
    logPath: installation.logPath,
    ...(options.nodeFlags === undefined ? {} : { nodeFlags: options.nodeFlags }),
    ...(options.env === undefined ? {} : { env: options.env }),
  })
  return {
    installation,
    process: child,
    log,
    waitForLog: (match, what, timeoutMs = 20_000) =>
      eventually(
        async () => {
          const entry = await log.find(match)
          if (entry !== undefined) return entry
          const status = child.exitStatus()
          if (status !== undefined) {
            throw new Error(`the agent exited with ${status} before logging ${what}\n${await log.tail()}`)
          }
          return undefined
        },
        { what: `the agent to log ${what}`, timeoutMs, describe: () => log.tail() },
      ),
    waitForExit: (timeoutMs = 20_000) =>
      eventually(() => child.exitStatus(), {
        what: 'the agent to exit',
        timeoutMs,
        describe: () => log.tail(),
      }),
    stop: () => child.stop(),
  }
}

/**
 * Runs `k8s-attest-agent healthcheck -config <installation>/agent.conf` to completion, as a
 * Kubernetes exec probe does: exit 0 while data_dir holds a valid SVID, 1 otherwise.
 */
export function runHealthcheck(installation: AgentInstallation): Promise<CompletedRun> {
  return runToCompletion(AGENT_MAIN, ['healthcheck', '-config', installation.configPath])
}
