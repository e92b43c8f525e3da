import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { open } from 'node:fs/promises'

/** A k8s-attest process started by the demo, its output going to a log file. */
export interface ChildHandle {
  readonly name: string
  readonly logPath: string
  /** Settles with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>
  /** Sends SIGTERM and waits for the process to end (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>
}

/** What to start. */
export interface ChildSpec {
  readonly name: string
  /** A `file:` URL of a TypeScript entry module, run from source (Node 24 strips types). */
  readonly entry: string
  readonly args: readonly string[]
  readonly logPath: string
}

/**
 * Starts `spec.entry` with the same Node binary as the demo, resolving workspace packages to
 * their sources, so the demo runs the very CLIs an operator runs.
 */
export async function startChild(spec: ChildSpec): Promise<ChildHandle> {
  const log = await open(spec.logPath, 'a')
  const child = spawn(
    process.execPath,
    ['--conditions=@k8s-attest/source', new URL(spec.entry).pathname, ...spec.args],
    { stdio: ['ignore', log.fd, log.fd] },
  )
  const exited = once(child, 'exit').then(([code, signal]: [number | null, NodeJS.Signals | null]) => {
    void log.close()
    return code ?? signal ?? 'unknown'
  })
  return {
    name: spec.name,
    logPath: spec.logPath,
    exited,
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
  }
}
