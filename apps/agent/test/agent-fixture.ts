import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DestinationStream } from 'pino'
import { captureLogLine, recordSecret } from '../../../scripts/log-audit/captured-logs.ts'
import { type AgentConfig, parseAgentConfig } from '../src/config.ts'
import { createLogger } from '../src/logger.ts'

/** Options of {@link createAgentFixture}. */
export interface AgentFixtureOptions {
  readonly serverPort: number
  /** Default `"k8s_psat"`. */
  readonly attestor?: 'k8s_psat' | 'k8s_sat'
  /** The bootstrap bundle (PEM) written to `bootstrap-bundle.pem`; omit with `insecureBootstrap`. */
  readonly bundlePem?: string
  readonly insecureBootstrap?: boolean
  /** The first token written. Default: a JWT-looking string unique to the fixture. */
  readonly token?: string
  /** Extra lines inside `agent { … }`. */
  readonly agentExtra?: string
  /** Extra top-level HCL (e.g. a telemetry block). */
  readonly extra?: string
}

/**
 * A temporary agent installation: a directory holding the configuration file, data_dir, and a
 * token volume laid out as kubelet lays out projected volumes (the token is a symlink through
 * `..data`, swapped atomically on rotation).
 */
export interface AgentFixture {
  readonly dir: string
  readonly configPath: string
  readonly dataDir: string
  readonly tokenPath: string
  readonly config: AgentConfig
  /** Rotates the token the way kubelet does: a new timestamped directory, then a `..data` symlink swap. */
  writeToken(token: string): Promise<void>
  cleanup(): Promise<void>
}

/** Creates an {@link AgentFixture} for an agent talking to the server on `serverPort`. */
export async function createAgentFixture(options: AgentFixtureOptions): Promise<AgentFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'k8s-attest-agent-'))
  const volume = join(dir, 'tokens')
  await mkdir(volume)
  const tokenPath = join(volume, 'spire-agent')
  let generation = 0
  const writeToken = async (token: string) => {
    // No captured log line of the suite may hold it (scripts/log-audit/).
    recordSecret(token)
    generation++
    const versionDir = `..2026_11_24_00_00_0${generation}`
    await mkdir(join(volume, versionDir))
    await writeFile(join(volume, versionDir, 'spire-agent'), token)
    await symlink(versionDir, join(volume, '..data_tmp'))
    await rename(join(volume, '..data_tmp'), join(volume, '..data'))
  }
  await writeToken(options.token ?? `eyJhbGciOiJSUzI1NiJ9.test-token-${Date.now()}.signature`)
  await symlink(join('..data', 'spire-agent'), tokenPath)

  const bootstrap =
    options.insecureBootstrap === true
      ? 'insecure_bootstrap = true'
      : `trust_bundle_path = "${join(dir, 'bootstrap-bundle.pem')}"`
  if (options.bundlePem !== undefined) await writeFile(join(dir, 'bootstrap-bundle.pem'), options.bundlePem)

  const configPath = join(dir, 'agent.conf')
  const text = `
agent {
  trust_domain = "example.org"
  server_address = "127.0.0.1"
  server_port = ${options.serverPort}
  data_dir = "./data"
  ${bootstrap}
  log_level = "DEBUG"
  retry_initial_interval = "1s"
  retry_max_interval = "60s"
  ${options.agentExtra ?? ''}
}

plugins {
  NodeAttestor "${options.attestor ?? 'k8s_psat'}" {
    plugin_data {
      cluster = "demo"
      token_path = "${tokenPath}"
    }
  }
}
${options.extra ?? ''}
`
  await writeFile(configPath, text)
  const config = await parseAgentConfig(text, configPath)
  return {
    dir,
    configPath,
    dataDir: join(dir, 'data'),
    tokenPath,
    config,
    writeToken,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}

/** Captures a logger's JSON lines in memory. */
export class LogCapture implements DestinationStream {
  readonly lines: string[] = []

  write(line: string): void {
    this.lines.push(line)
    captureLogLine('agent', line)
  }

  /** A debug-level agent logger writing here. */
  logger() {
    return createLogger({ level: 'debug', destination: this })
  }

  /** Every line, parsed. */
  entries(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  }

  /** The entries whose `msg` contains `text`. */
  find(text: string): Array<Record<string, unknown>> {
    return this.entries().filter((entry) => String(entry.msg).includes(text))
  }

  text(): string {
    return this.lines.join('')
  }
}
