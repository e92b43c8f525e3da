import { readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { type CliIo, EXIT_CODES, runCli } from '../src/cli.ts'
import { runAgent } from '../src/run-agent.ts'
import { type AgentFixture, createAgentFixture, LogCapture } from './agent-fixture.ts'
import { exitCode, logLine, spawnAgent } from './agent-process.ts'
import { FakeServer } from './fake-server.ts'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function serverAndFixture(extra?: string): Promise<{ server: FakeServer; fixture: AgentFixture }> {
  const server = await FakeServer.start()
  cleanups.push(() => server.close())
  const fixture = await createAgentFixture({
    serverPort: server.port,
    bundlePem: server.ca.certPem,
    token: 'eyJhbGciOiJSUzI1NiJ9.Y2xpLXNlY3JldC10b2tlbg.c2ln',
    ...(extra === undefined ? {} : { extra }),
  })
  cleanups.push(() => fixture.cleanup())
  return { server, fixture }
}

describe('k8s-attest-agent healthcheck', () => {
  it('exits 1 with the reason before the first attestation, and 0 once an SVID is held', async () => {
    const { fixture } = await serverAndFixture()

    const before = spawnAgent(['healthcheck', '-config', fixture.configPath], { cleanups })
    expect(await exitCode(before)).toBe(EXIT_CODES.failure)
    expect(before.output.stderr).toMatch(
      /^unhealthy: no trust bundle at .*: the agent has not attested yet\n$/,
    )

    const agent = runAgent(fixture.config, { logger: new LogCapture().logger() })
    const svid = await agent.nextSvid()
    await agent.stop()

    const after = spawnAgent(['healthcheck', '-config', fixture.configPath], { cleanups })
    expect(await exitCode(after)).toBe(EXIT_CODES.ok)
    expect(after.output.stdout).toBe(
      `healthy: SVID ${svid.spiffeId} valid until ${svid.notAfter.toISOString()}\n`,
    )

    // The bootstrap file (a ConfigMap) emptied: the SVID in data_dir is what health is about.
    await writeFile(join(dirname(fixture.configPath), 'bootstrap-bundle.pem'), '')
    const emptied = spawnAgent(['healthcheck', '-config', fixture.configPath], { cleanups })
    expect(await exitCode(emptied)).toBe(EXIT_CODES.ok)
  })
})

describe('k8s-attest-agent run', () => {
  it('attests, serves /metrics, stops on SIGTERM with exit 0, and never logs the token', async () => {
    const { server, fixture } = await serverAndFixture('telemetry {\n  Prometheus {\n    port = 0\n  }\n}')

    const child = spawnAgent(['run', '-config', fixture.configPath], { cleanups })
    const listening = await logLine(child, 'serving /metrics')
    const obtained = await logLine(child, 'SVID obtained')

    const metrics = await request(`http://127.0.0.1:${listening.port}/metrics`)
    const text = await metrics.body.text()
    expect(text).toContain('k8s_attest_agent_attestations_total{result="success",code="none"} 1')
    expect(text).toContain(`k8s_attest_agent_svid_expiry_seconds{spiffe_id="${obtained.spiffe_id}"}`)

    child.kill('SIGTERM')
    expect(await exitCode(child)).toBe(EXIT_CODES.ok)
    expect(child.output.stdout).toContain('"msg":"agent stopped"')
    expect(server.attestations.map((attestation) => attestation.token)).toEqual([
      await readFile(fixture.tokenPath, 'utf8'),
    ])
    expect(child.output.stdout).not.toContain('Y2xpLXNlY3JldC10b2tlbg')
    expect(child.output.stderr).toBe('')
  })

  it('exits with the banned code when the server has banned the agent', async () => {
    const { server, fixture } = await serverAndFixture()
    server.refuseAlways({ status: 403, code: 'ATT_ERR_AGENT_BANNED', detail: 'agent is banned' })
    const logs = new LogCapture()
    const io: CliIo = {
      stdout: logs,
      stderr: { write: (text: string) => logs.write(text) },
      onStopSignal: () => () => undefined,
    }

    expect(await runCli(['run', '-config', fixture.configPath], io)).toBe(EXIT_CODES.banned)
    expect(logs.find('the server banned this agent')[0]).toMatchObject({
      code: 'ATT_ERR_AGENT_BANNED',
      level: 'error',
    })
  })
})
