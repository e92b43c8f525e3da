import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))

/** A `k8s-attest-server run` process, its output drained and searchable. */
export interface ServerProcess {
  readonly child: ChildProcess
  /** Resolves with the first group (or the whole match) of the first match after the previous one. */
  waitFor(pattern: RegExp): Promise<string>
  /** Everything the process wrote so far, stdout and stderr. */
  output(): string
  /** SIGKILL, and the exit. */
  kill(): Promise<void>
}

/** Starts `k8s-attest-server run -config <configFile>` from source and resolves once it listens. */
export async function spawnServer(configFile: string): Promise<ServerProcess & { readonly url: string }> {
  const child = spawn(
    process.execPath,
    ['--conditions=@k8s-attest/source', MAIN, 'run', '-config', configFile],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const log = childLog(child)
  const url = await log.waitFor(/Server listening at (https:\/\/127\.0\.0\.1:\d+)/)
  return {
    ...log,
    url,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    },
  }
}

/**
 * Drains the child's output (a child whose pipes are not read can stall in a log write) and
 * lets a test wait for what it logs.
 */
export function childLog(child: ChildProcess): Omit<ServerProcess, 'kill'> {
  let output = ''
  let consumed = 0
  const waiters: Array<() => void> = []
  const onData = (chunk: Buffer) => {
    output += chunk.toString()
    for (const waiter of waiters.splice(0)) waiter()
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  return {
    child,
    output: () => output,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output.slice(consumed))
          if (match !== null) {
            consumed += match.index + match[0].length
            resolve(match[1] ?? match[0])
            return
          }
          if (child.exitCode !== null || child.signalCode !== null) {
            reject(new Error(`the server exited:\n${output}`))
            return
          }
          waiters.push(check)
        }
        child.once('exit', check)
        check()
      })
    },
  }
}
