import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runToCompletion } from '../src/child-process.ts'
import { eventually } from '../src/system/eventually.ts'

/*
 * The demo as a newcomer meets it: `make demo` in a terminal, Ctrl-C at the end, flags typed
 * wrong, the same --dir twice, a server or an agent that dies while it runs. Every process is
 * real; the terminal is a pseudo-terminal from util-linux's `script`.
 */

const DEMO_MAIN = import.meta.resolve('../src/main.ts')
const SERVER_MAIN = import.meta.resolve('@k8s-attest/server/main')
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
/** A whole demo start on a loaded 2-core machine. */
const DEMO_TIMEOUT_MS = 120_000

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'k8s-attest-demo-cli-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('the demo command line', () => {
  it('prints usage and exits 2 for an unknown flag, without a stack trace', async () => {
    const run = await runToCompletion(DEMO_MAIN, ['--bogus'])
    expect(run.status).toBe(2)
    expect(run.stderr).toMatch(/^k8s-attest demo: Unknown option '--bogus'/)
    expect(run.stderr).toContain('usage: make demo')
    expect(run.stderr).not.toMatch(/\n\s+at /)
  })

  it("refuses, in one line, a --dir holding someone else's files", async () => {
    const dir = await mkdtemp(join(root, 'theirs-'))
    await writeFile(join(dir, 'notes.txt'), 'mine\n')
    const run = await runToCompletion(DEMO_MAIN, ['--once', '--dir', dir])
    expect(run).toEqual({
      status: 2,
      stdout: '',
      stderr: `k8s-attest demo: --dir ${dir} already holds files the demo did not write; give a new or empty directory\n`,
    })
  })
})

describe('make demo', () => {
  it(
    '--once, then again in the same --dir under a terminal: progress, URL, credentials, one line per change, server restarted, Ctrl-C exits 0',
    async () => {
      const dir = join(root, 'demo')
      const first = await runToCompletion(DEMO_MAIN, ['--once', '--dir', dir], DEMO_TIMEOUT_MS, embeddedEnv())
      expect(first.stderr).toBe('')
      expect(first.status).toBe(0)
      expect(first.stdout).toMatch(/^3 agents attested to https:/m)

      const demo = startInTerminal(`make --no-print-directory demo DEMO_ARGS='--dir ${dir}'`)
      try {
        await demo.waitFor(/t: the table again, Ctrl-C: stop/, DEMO_TIMEOUT_MS)
        const shown = demo.output()
        expect(shown).toContain("(the previous demo's files there were replaced)")
        // Progress, in order: cluster, server, each agent; then where everything is.
        const order = [
          'cluster   ',
          'server    ',
          'agent     demo-node-1',
          'agent     demo-node-2',
          'Dashboard',
        ]
        const positions = order.map((marker) => shown.indexOf(marker))
        expect(positions.every((position) => position >= 0)).toBe(true)
        expect([...positions].sort((a, b) => a - b)).toEqual(positions)
        expect(shown).toMatch(/Dashboard {5}https:\/\/127\.0\.0\.1:\d+\/dashboard\//)
        expect(shown).toContain(`Admin token   ${join(dir, 'server', 'admin-token')}`)
        expect(shown).toContain(`Trust bundle  ${join(dir, 'server', 'data', 'ca', 'bundle.pem')}`)

        // The command it offers works as printed (here from source: the same CLI).
        const offered = /Try {11}(.*)$/m.exec(shown)?.[1] ?? ''
        expect(offered).toBe(
          `. ${join(REPO_ROOT, 'scripts/toolchain.sh')} && k8s-attest-server agent list -config ${join(dir, 'server', 'server.conf')}`,
        )
        const listed = await runToCompletion(
          SERVER_MAIN,
          offered.split(' && k8s-attest-server ')[1]?.split(' ') ?? [],
        )
        expect(listed.stderr).toBe('')
        expect(listed.stdout).toMatch(/^Found 3 attested agents:/)

        // The server dies: the demo says so and brings it back, agents and cluster untouched.
        process.kill(pidAfter(shown, /server {4}https:\S+ \(pid (\d+)/), 'SIGKILL')
        await demo.waitFor(/server {2}exited \(killed by SIGKILL\); restarting it/, DEMO_TIMEOUT_MS)
        await demo.waitFor(/server {2}running again \(pid \d+\)/, DEMO_TIMEOUT_MS)

        // An agent dies: one line, and the table no longer calls it attested.
        const linesBefore = demo.output().split('\n').length
        process.kill(pidAfter(shown, /agent {5}demo-node-2 \(pid (\d+)/), 'SIGKILL')
        await demo.waitFor(/demo-node-2 {2}agent stopped: killed by SIGKILL/, 20_000)
        demo.type('t')
        await demo.waitFor(/demo-node-2 {2}stopped \(SIGKILL\)/, 20_000)
        const newLines = demo
          .output()
          .split('\n')
          .slice(linesBefore - 1)
        expect(newLines.filter((line) => line.includes('agent stopped'))).toHaveLength(1)

        // Ctrl-C, as a key in the terminal: everything stops, make itself exits 0.
        demo.type('\u0003')
        expect(await demo.exited).toBe(0)
        expect(demo.output()).toContain(`Stopped. Every file the demo wrote stays in ${dir}:`)
        expect(demo.output()).not.toMatch(/make: \*\*\*|Interrupt/)

        // The access log names method and route; the demo's watching never asked the server.
        const serverLog = await readFile(join(dir, 'server', 'server.log'), 'utf8')
        const adminCalls = serverLog
          .split('\n')
          .filter((line) => line.includes('"admin API call"'))
          .map((line) => JSON.parse(line) as { method: string; route: string })
        expect(adminCalls.length).toBeGreaterThan(0)
        for (const call of adminCalls) expect(call.route).toMatch(/^\/v1\/admin\/agents/)
        // waitForAgents() at start, `agent list` above, `t` once: a handful, not one per poll.
        expect(adminCalls.length).toBeLessThan(15)
      } finally {
        demo.kill()
      }
    },
    4 * DEMO_TIMEOUT_MS,
  )
})

/** This process's environment without KUBECONFIG: these runs are about the embedded cluster. */
function embeddedEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.KUBECONFIG
  return env
}

/** The pid in the first match of `pattern` (its first group) in `text`. */
function pidAfter(text: string, pattern: RegExp): number {
  const pid = Number(pattern.exec(text)?.[1])
  if (!Number.isInteger(pid)) throw new Error(`no pid matching ${pattern} in:\n${text}`)
  return pid
}

interface TerminalRun {
  /** Everything printed so far, with the terminal's CR LF as LF. */
  output(): string
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>
  /** Sends keys to the terminal, as typed. */
  type(keys: string): void
  readonly exited: Promise<number | null>
  kill(): void
}

/**
 * Runs a shell command in a pseudo-terminal (util-linux `script`, as a person's terminal), from
 * the repository root: Ctrl-C there is a key the line discipline turns into SIGINT for the
 * whole foreground process group — make included — unless the program took the terminal raw.
 */
function startInTerminal(command: string): TerminalRun {
  const env = embeddedEnv()
  // A make running this test must not hand its own flags (jobserver descriptors) to this one.
  for (const name of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL']) delete env[name]
  const child: ChildProcess = spawn(
    'script',
    ['--quiet', '--flush', '--return', '--command', command, '/dev/null'],
    {
      cwd: REPO_ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
  let text = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk.replaceAll('\r\n', '\n')
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk
  })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  return {
    output: () => text,
    waitFor: async (pattern, timeoutMs) => {
      await eventually(
        () => {
          if (pattern.test(text)) return true
          if (child.exitCode !== null)
            throw new Error(`the demo exited with ${child.exitCode} first:\n${text}`)
          return undefined
        },
        { what: `the demo to print ${pattern}`, timeoutMs, intervalMs: 200, describe: () => text },
      )
    },
    type: (keys) => {
      child.stdin?.write(keys)
    },
    exited,
    kill: () => {
      if (child.exitCode === null) child.kill('SIGTERM')
    },
  }
}
