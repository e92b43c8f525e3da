import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** How a process ended: its exit code, or the name of the signal that ended it. */
export type ExitStatus = number | NodeJS.Signals

/** A k8s-attest process started by the demo, its output going to a log file. */
export interface ChildHandle {
  readonly name: string
  readonly pid: number
  readonly logPath: string
  /** Settles with the exit status when the process ends; never rejects. */
  readonly exited: Promise<ExitStatus>
  /** The exit status if the process has ended, else `undefined`. */
  exitStatus(): ExitStatus | undefined
  /**
   * Sends SIGTERM and waits for the process to end, with SIGKILL after `graceMs` (default 5 s);
   * returns the exit status (at once if it had already ended).
   */
  stop(graceMs?: number): Promise<ExitStatus>
}

/**
 * Which code of an app a child runs: its TypeScript sources (`'source'`); the workspace build,
 * `dist/` through the package's `bin` (`'built'`, needs `pnpm build`); or what the app's image
 * runs, the bundle `deploy/images/app-deploy.ts` wrote into `deployed` (its `dist/main.js`).
 */
export type AppCode = 'source' | 'built' | { readonly deployed: string }

/**
 * The {@link ChildSpec} fields that run `code` of an app whose sources start at `sourceEntry`
 * and whose `bin` is `binEntry` (both `file:` URLs).
 */
export function appEntry(
  code: AppCode,
  sourceEntry: string,
  binEntry: string,
): Pick<ChildSpec, 'entry' | 'built'> {
  if (code === 'source') return { entry: sourceEntry, built: false }
  if (code === 'built') return { entry: binEntry, built: true }
  return { entry: pathToFileURL(join(code.deployed, 'dist', 'main.js')).href, built: true }
}

/** What to start. */
export interface ChildSpec {
  readonly name: string
  /**
   * A `file:` URL of the entry module: a TypeScript module (e.g. from `import.meta.resolve`),
   * run from source, or with `built` a JavaScript one such as a package's `bin`.
   */
  readonly entry: string
  readonly args: readonly string[]
  /**
   * Run `entry` as built JavaScript, as an operator's installation does: without the source
   * condition, so workspace packages resolve to their `dist/` (default false: from source).
   */
  readonly built?: boolean
  /** Node options before the entry (e.g. `--max-semi-space-size=1`); default none. */
  readonly nodeFlags?: readonly string[]
  /** Added to this process's environment for the child; default none. */
  readonly env?: Readonly<Record<string, string>>
  /** Standard output and error are appended here, so a restarted process continues the same file. */
  readonly logPath: string
}

/** The node arguments that run `entry` from source: Node 24 strips types, the condition picks `src/`. */
function nodeArgs(entry: string, args: readonly string[]): string[] {
  return ['--conditions=@k8s-attest/source', fileURLToPath(entry), ...args]
}

/**
 * Starts `spec.entry` with the same Node binary as the caller, resolving workspace packages to
 * their sources, so the demo and the system tests run the very CLIs an operator runs.
 */
export async function startChild(spec: ChildSpec): Promise<ChildHandle> {
  const log = await open(spec.logPath, 'a')
  const argv =
    spec.built === true
      ? [...(spec.nodeFlags ?? []), fileURLToPath(spec.entry), ...spec.args]
      : [...(spec.nodeFlags ?? []), ...nodeArgs(spec.entry, spec.args)]
  const child = spawn(process.execPath, argv, {
    stdio: ['ignore', log.fd, log.fd],
    env: { ...process.env, ...spec.env },
  })
  let status: ExitStatus | undefined
  const exited = once(child, 'exit').then(async (args) => {
    const [code, signal] = args as [number | null, NodeJS.Signals | null]
    status = code ?? signal ?? 'SIGKILL'
    await log.close()
    return status
  })
  // spawn() reports a missing binary asynchronously, as an 'error' event with no 'exit'.
  const spawnFailed = once(child, 'spawn').then(
    () => undefined,
    (error: unknown) => error,
  )
  const failure = await spawnFailed
  if (failure !== undefined) {
    await log.close()
    throw new Error(`cannot start ${spec.name} (${fileURLToPath(spec.entry)})`, { cause: failure })
  }
  return {
    name: spec.name,
    pid: child.pid as number,
    logPath: spec.logPath,
    exited,
    exitStatus: () => status,
    async stop(graceMs = 5_000) {
      if (status !== undefined) return status
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      const ended = await exited
      clearTimeout(timer)
      return ended
    },
  }
}

/** What a command run to completion printed, and how it ended. */
export interface CompletedRun {
  readonly status: ExitStatus
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs `entry` with `args` to completion, capturing its output: for one-shot commands such as
 * `k8s-attest-agent healthcheck`, as a Kubernetes exec probe runs them. A command still running
 * after `timeoutMs` (default 20 s) is killed, and the run rejects. `env` is its environment
 * (default: this process's).
 */
export async function runToCompletion(
  entry: string,
  args: readonly string[],
  timeoutMs = 20_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CompletedRun> {
  const child = spawn(process.execPath, nodeArgs(entry, args), { stdio: ['ignore', 'pipe', 'pipe'], env })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, timeoutMs)
  try {
    // 'close', not 'exit': it comes after the output streams have ended, so nothing is missing.
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null]
    if (timedOut) {
      throw new Error(`${fileURLToPath(entry)} ${args.join(' ')} did not finish within ${timeoutMs} ms`)
    }
    return { status: code ?? signal ?? 'SIGKILL', stdout, stderr }
  } finally {
    clearTimeout(timer)
  }
}
