import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliIo, EXIT_CODES, runCli } from './cli.ts'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agent-cli-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

function io(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = []
  const err: string[] = []
  return {
    out,
    err,
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
    onStopSignal: () => () => undefined,
    env: { DATA: join(dir, 'data') },
  }
}

async function writeConfig(name: string, dataDir = '$DATA'): Promise<string> {
  const path = join(dir, name)
  await writeFile(
    path,
    `agent {
  trust_domain = "example.org"
  server_address = "127.0.0.1"
  data_dir = "${dataDir}"
  insecure_bootstrap = true
}
plugins {
  NodeAttestor "k8s_psat" {
    plugin_data {
      cluster = "demo"
    }
  }
}
`,
  )
  return path
}

describe('runCli', () => {
  it('prints usage without a command (exit 2) and on -help (exit 0)', async () => {
    const none = io()
    expect(await runCli([], none)).toBe(EXIT_CODES.usage)
    expect(none.err.join('')).toContain('Usage: k8s-attest-agent <command> [flags]')
    const help = io()
    expect(await runCli(['-help'], help)).toBe(EXIT_CODES.ok)
  })

  it.each([
    [['serve'], 'unknown command "serve"'],
    [['run', '-config'], 'flag -config needs a file path'],
    [['run', '-verbose'], 'unknown flag -verbose'],
    [['run', 'agent.conf'], 'unexpected argument "agent.conf"'],
    [['run', '-expandEnv=maybe'], 'flag -expandEnv takes true or false; got "maybe"'],
  ])('refuses %j with exit 2', async (argv, message) => {
    const streams = io()
    expect(await runCli(argv, streams)).toBe(EXIT_CODES.usage)
    expect(streams.err.join('')).toContain(message)
  })

  it('lists every configuration problem and exits 2 before running', async () => {
    const path = join(dir, 'bad.conf')
    await writeFile(path, 'agent {\n  trust_domain = "Bad"\n}\n')
    const streams = io()
    expect(await runCli(['run', '-config', path], streams)).toBe(EXIT_CODES.usage)
    const text = streams.err.join('')
    expect(text).toContain(`invalid agent configuration "${path}"`)
    expect(text).toContain('agent.trust_domain:')
    expect(text).toContain('agent.server_address: is required')
    expect(text).toContain('plugins: is required')
  })

  it('healthcheck accepts Go flag spellings and -expandEnv, and reports the reason it is unhealthy', async () => {
    const path = await writeConfig('agent.conf')
    for (const argv of [
      ['healthcheck', '-config', path, '-expandEnv'],
      ['healthcheck', `-config=${path}`, '-expandEnv=true'],
      ['healthcheck', '--config', path, '--expandEnv'],
    ]) {
      const streams = io()
      expect(await runCli(argv, streams)).toBe(EXIT_CODES.failure)
      expect(streams.err.join('')).toBe(
        `unhealthy: no trust bundle at ${join(dir, 'data', 'bundle.pem')}: the agent has not attested yet\n`,
      )
    }
  })

  it('healthcheck fails (exit 1) on a missing configuration, naming it', async () => {
    const streams = io()
    expect(await runCli(['healthcheck', '-config', join(dir, 'none.conf')], streams)).toBe(EXIT_CODES.failure)
    expect(streams.err.join('')).toContain('cannot read the configuration file (no such file)')
  })
})
