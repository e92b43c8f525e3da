import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { captureLogLine } from '../../../scripts/log-audit/captured-logs.ts'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))

/** A `k8s-attest-agent` child process, with what it wrote so far. */
export type AgentProcess = ChildProcess & { readonly output: { stdout: string; stderr: string } }

/** Options of {@link spawnAgent}. */
export interface SpawnAgentOptions {
  /** Where the process's SIGKILL-if-still-running cleanup is pushed. */
  readonly cleanups: Array<() => Promise<unknown>>
  /** Modules loaded with `node --import` before the agent (test instrumentation). */
  readonly preload?: readonly string[]
  /** Added to the environment. */
  readonly env?: Readonly<Record<string, string>>
}

/** Runs `k8s-attest-agent` as a real process, as a Kubernetes probe or container would. */
export function spawnAgent(args: readonly string[], options: SpawnAgentOptions): AgentProcess {
  const imports = (options.preload ?? []).flatMap((module) => ['--import', module])
  const child = spawn(process.execPath, ['--conditions=@k8s-attest/source', ...imports, MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  })
  const output = { stdout: '', stderr: '' }
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output.stdout += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output.stderr += chunk
  })
  // The suite's log audit reads what the process wrote, once it is gone (whole lines only then).
  child.once('exit', () => captureLogLine('agent-process', output.stdout + output.stderr))
  options.cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
  })
  return Object.assign(child, { output })
}

/** The process's exit code, once it has exited. */
export async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode
  const [code] = (await once(child, 'exit')) as [number | null]
  return code
}

/** SIGKILLs the process and waits until it is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

/**
 * Resolves with the first JSON log line on stdout whose `msg` contains `text` (or one of the
 * texts); rejects if the process exits first.
 */
export function logLine(
  child: AgentProcess,
  text: string | readonly string[],
): Promise<Record<string, unknown>> {
  const texts = typeof text === 'string' ? [text] : text
  return waitForOutput(
    child,
    'stdout',
    (line) => {
      if (!texts.some((one) => line.includes(one))) return undefined
      const entry = JSON.parse(line) as Record<string, unknown>
      return texts.some((one) => String(entry.msg).includes(one)) ? entry : undefined
    },
    `logging ${texts.map((one) => JSON.stringify(one)).join(' or ')}`,
  )
}

/** Resolves with the first stderr line that contains `text`; rejects if the process exits first. */
export function stderrLine(child: AgentProcess, text: string): Promise<string> {
  return waitForOutput(
    child,
    'stderr',
    (line) => (line.includes(text) ? line : undefined),
    `writing ${JSON.stringify(text)} to stderr`,
  )
}

function waitForOutput<T>(
  child: AgentProcess,
  stream: 'stdout' | 'stderr',
  match: (line: string) => T | undefined,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      // Only whole lines: a chunk may end in the middle of one.
      for (const line of child.output[stream].split('\n').slice(0, -1)) {
        const found = match(line)
        if (found !== undefined) {
          child[stream]?.off('data', check)
          child.off('exit', onExit)
          resolve(found)
          return
        }
      }
    }
    const onExit = () => reject(new Error(`the agent exited before ${what}`))
    child[stream]?.on('data', check)
    child.once('exit', onExit)
    check()
  })
}
