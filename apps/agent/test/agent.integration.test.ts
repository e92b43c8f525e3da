import { readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { writeFileAtomic } from '../src/atomic-file.ts'
import { checkHealth } from '../src/healthcheck.ts'
import { AgentMetrics } from '../src/metrics.ts'
import { type AgentDeps, type AgentHandle, MAX_ROTATION_WAIT_MS, runAgent } from '../src/run-agent.ts'
import { BUNDLE_FILE_NAME, SVID_FILE_NAME } from '../src/svid-store.ts'
import {
  type AgentFixture,
  type AgentFixtureOptions,
  createAgentFixture,
  LogCapture,
} from './agent-fixture.ts'
import { FakeServer, type FakeServerOptions } from './fake-server.ts'
import { ManualScheduler } from './manual-scheduler.ts'
import { ExtendedKeyUsage, TestCa } from './test-ca.ts'

const TTL_MS = 60_000
const HALF_LIFE_MS = TTL_MS / 2

interface Setup {
  readonly server: FakeServer
  readonly fixture: AgentFixture
  readonly scheduler: ManualScheduler
  readonly logs: LogCapture
  readonly metrics: AgentMetrics
  start(): AgentHandle
}

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/**
 * A fake server and an agent installation sharing one manual clock that starts on a whole
 * second (X.509 times have second precision, so rotation waits come out exact).
 */
async function setup(
  serverOptions: Omit<FakeServerOptions, 'now'> = {},
  fixtureOptions: Omit<AgentFixtureOptions, 'serverPort'> = {},
  faults: { readonly serverClockOffsetMs?: number; readonly writeFile?: AgentDeps['writeFile'] } = {},
): Promise<Setup> {
  const scheduler = new ManualScheduler(Math.floor(Date.now() / 1000) * 1000)
  const offset = faults.serverClockOffsetMs ?? 0
  const server = await FakeServer.start({
    svidTtlMs: TTL_MS,
    ...serverOptions,
    now: () => scheduler.now() + offset,
  })
  cleanups.push(() => server.close())
  const fixture = await createAgentFixture({
    serverPort: server.port,
    bundlePem: server.ca.certPem,
    ...fixtureOptions,
  })
  cleanups.push(() => fixture.cleanup())
  const logs = new LogCapture()
  const metrics = new AgentMetrics(() => scheduler.now())
  const start = () => {
    const agent = runAgent(fixture.config, {
      scheduler,
      logger: logs.logger(),
      metrics,
      random: () => 0.5,
      ...(faults.writeFile === undefined ? {} : { writeFile: faults.writeFile }),
    })
    cleanups.push(() => agent.stop())
    return agent
  }
  return { server, fixture, scheduler, logs, metrics, start }
}

async function counterValue(
  metrics: AgentMetrics,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get()
  const sample = metric?.values.find((value) =>
    Object.entries(labels).every(([key, expected]) => value.labels[key] === expected),
  )
  return sample?.value ?? 0
}

describe('first attestation', () => {
  it('sends the token, verifies the SVID and stores SVID, key (0600) and bundle in data_dir', async () => {
    const { server, fixture, logs, metrics, start } = await setup()
    const token = await readFile(fixture.tokenPath, 'utf8')

    const svid = await start().nextSvid()

    expect(server.attestations).toEqual([
      expect.objectContaining({ type: 'k8s_psat', cluster: 'demo', token }),
    ])
    expect(svid.spiffeId).toBe('spiffe://example.org/spire/agent/k8s_psat/demo/node-uid-1')
    expect(svid.notAfter.getTime() - svid.notBefore.getTime()).toBe(TTL_MS)
    const svidFile = join(fixture.dataDir, SVID_FILE_NAME)
    expect((await stat(svidFile)).mode & 0o777).toBe(0o600)
    const stored = await readFile(svidFile, 'utf8')
    expect(stored).toContain(svid.chainPem[0]?.trim())
    expect(stored).toContain('-----BEGIN PRIVATE KEY-----')
    expect((await readFile(join(fixture.dataDir, BUNDLE_FILE_NAME), 'utf8')).trim()).toBe(
      server.ca.certPem.trim(),
    )
    expect(logs.find('SVID obtained')[0]).toMatchObject({ spiffe_id: svid.spiffeId, level: 'info' })
    expect(await counterValue(metrics, 'k8s_attest_agent_attestations_total', { result: 'success' })).toBe(1)
  })

  it('tells an operator why it cannot attest: the token file is missing', async () => {
    const { server, fixture, logs, scheduler } = await setup()
    const config = {
      ...fixture.config,
      nodeAttestor: { ...fixture.config.nodeAttestor, tokenPath: '/nonexistent/token' },
    }
    const agent = runAgent(config, { scheduler, logger: logs.logger(), random: () => 0.5 })
    cleanups.push(() => agent.stop())

    expect(await scheduler.nextSleep()).toBe(750)
    const [entry] = logs.find('attestation failed')
    expect(entry).toMatchObject({
      code: 'ATT_ERR_TOKEN_FILE_MISSING',
      failure: 'transient',
      value: '/nonexistent/token',
    })
    expect(String(entry?.msg)).toContain('"/nonexistent/token"')
    expect(server.attestations).toHaveLength(0)
  })
})

describe('restart', () => {
  it('reuses the stored SVID without attesting, and sleeps until its half-life', async () => {
    const { server, scheduler, logs, start } = await setup()
    const first = start()
    const svid = await first.nextSvid()
    expect(await scheduler.nextSleep()).toBe(HALF_LIFE_MS)
    await first.stop()

    const second = start()
    const reused = await second.nextSvid()
    expect(reused.serialNumber).toBe(svid.serialNumber)
    expect(await scheduler.nextSleep()).toBe(HALF_LIFE_MS)
    expect(server.attestations).toHaveLength(1)
    expect(logs.find('reusing the SVID stored in data_dir')).toHaveLength(1)
  })

  it('attests again when the stored SVID has expired', async () => {
    const { server, scheduler, logs, start } = await setup()
    const first = start()
    await first.nextSvid()
    await scheduler.nextSleep()
    await first.stop()

    scheduler.skip(TTL_MS + 1000)
    await start().nextSvid()

    expect(server.attestations).toHaveLength(2)
    expect(logs.find('cannot reuse the stored SVID')[0]).toMatchObject({
      code: 'ATT_ERR_SVID_VERIFICATION_FAILED',
      check: 'svid_validity',
    })
  })
})

describe('rotation (k8s_psat)', () => {
  it('attests again at half-life, with the token kubelet has rotated on disk meanwhile', async () => {
    const { server, fixture, scheduler, start } = await setup()
    const agent = start()
    const first = await agent.nextSvid()
    const attestedAt = scheduler.now()

    await fixture.writeToken('eyJhbGciOiJSUzI1NiJ9.rotated-token.signature')
    expect(await scheduler.advanceThroughNextSleep()).toBe(HALF_LIFE_MS)
    const second = await agent.nextSvid(first)

    expect(server.attestations.map((attestation) => attestation.token)).toEqual([
      expect.stringContaining('test-token'),
      'eyJhbGciOiJSUzI1NiJ9.rotated-token.signature',
    ])
    expect(server.attestations[1]?.at).toBe(attestedAt + HALF_LIFE_MS)
    expect(second.serialNumber).not.toBe(first.serialNumber)
    expect(await scheduler.nextSleep()).toBe(HALF_LIFE_MS)
  })

  it('checks the wall clock at least every minute, so a suspended host rotates as soon as it resumes', async () => {
    const { server, scheduler, start } = await setup({ svidTtlMs: 2 * 3_600_000 })
    const agent = start()
    const first = await agent.nextSvid()

    // Node's timers count monotonic time, which stands still while the host is suspended:
    // one timer for the whole hour to half-life would fire an hour after the host resumes.
    expect(await scheduler.nextSleep()).toBe(MAX_ROTATION_WAIT_MS)
    // The host sleeps through the half-life; the wall clock jumps past it during that wait.
    scheduler.advance(3_600_000)
    const second = await agent.nextSvid(first)

    expect(server.attestations).toHaveLength(2)
    expect(second.serialNumber).not.toBe(first.serialNumber)
  })

  it('keeps the old SVID in place while the server is down, backs off with jitter, and recovers', async () => {
    const { server, fixture, scheduler, logs, start } = await setup()
    const agent = start()
    const first = await agent.nextSvid()
    const storedBefore = await readFile(join(fixture.dataDir, SVID_FILE_NAME), 'utf8')

    await server.stop()
    expect(await scheduler.advanceThroughNextSleep()).toBe(HALF_LIFE_MS)
    // random() = 0.5: the n-th wait is 3/4 of min(60 s, 1 s * 2^(n-1)).
    expect(await scheduler.advanceThroughNextSleep()).toBe(750)
    expect(await scheduler.advanceThroughNextSleep()).toBe(1500)
    expect(await scheduler.nextSleep()).toBe(3000)
    expect(await readFile(join(fixture.dataDir, SVID_FILE_NAME), 'utf8')).toBe(storedBefore)
    expect(agent.current()?.serialNumber).toBe(first.serialNumber)

    await server.restart()
    scheduler.advance()
    const second = await agent.nextSvid(first)
    expect(second.serialNumber).not.toBe(first.serialNumber)
    // The new SVID starts at the recovery (X.509 times are whole seconds): its own half-life.
    expect(await scheduler.nextSleep()).toBe(second.notBefore.getTime() + HALF_LIFE_MS - scheduler.now())

    const failures = logs.find('attestation failed')
    expect(failures).toHaveLength(3)
    expect(failures[0]).toMatchObject({
      level: 'warn',
      code: 'ATT_ERR_SERVER_UNREACHABLE',
      failure: 'transient',
      retry_in_ms: 750,
    })
  })

  it('honours Retry-After on a 429', async () => {
    const { server, scheduler, logs, start } = await setup()
    server.refuseNext({ status: 429, code: 'ATT_ERR_RATE_LIMITED', retryAfterSeconds: 120 })
    const agent = start()

    expect(await scheduler.advanceThroughNextSleep()).toBe(120_000)
    await agent.nextSvid()
    expect(logs.find('attestation failed')[0]).toMatchObject({ code: 'ATT_ERR_RATE_LIMITED', status: 429 })
  })

  it('logs a permanent refusal (403) as an error naming the check, and retries at the backoff cap', async () => {
    const { server, scheduler, logs, start } = await setup()
    server.refuseNext({
      status: 403,
      code: 'ATT_ERR_SA_NOT_ALLOWED',
      detail: 'service account "spire:default" is not allowed for cluster "demo"',
      check: 'service_account_allow_list',
    })
    const agent = start()

    expect(await scheduler.advanceThroughNextSleep()).toBe(45_000)
    await agent.nextSvid()
    expect(logs.find('attestation refused (permanent')[0]).toMatchObject({
      level: 'error',
      code: 'ATT_ERR_SA_NOT_ALLOWED',
      source: 'server',
      failure: 'permanent',
      status: 403,
      check: 'service_account_allow_list',
    })
  })

  it('stops with the ban when the server has banned the agent', async () => {
    const { server, scheduler, logs, start } = await setup()
    const agent = start()
    const svid = await agent.nextSvid()
    server.ban(svid.spiffeId)

    scheduler.advance(await scheduler.nextSleep())
    const outcome = await agent.done

    expect(outcome).toMatchObject({
      reason: 'banned',
      error: { code: 'ATT_ERR_AGENT_BANNED', httpStatus: 403 },
    })
    expect(logs.find('the server banned this agent')[0]).toMatchObject({ level: 'error', failure: 'banned' })
    await expect(agent.nextSvid(svid)).rejects.toMatchObject({ name: 'AgentStoppedError' })
  })

  it('removes its SVID from data_dir when banned, so a restart or a probe does not pass for attested', async () => {
    const { server, fixture, scheduler, start } = await setup()
    const agent = start()
    const svid = await agent.nextSvid()
    server.ban(svid.spiffeId)

    scheduler.advance(await scheduler.nextSleep())
    expect(await agent.done).toMatchObject({ reason: 'banned' })

    expect(agent.current()).toBeUndefined()
    expect(await readdir(fixture.dataDir)).toEqual([BUNDLE_FILE_NAME])
    expect(await checkHealth(fixture.config, scheduler.now())).toMatchObject({ healthy: false })
  })
  it('backs off instead of looping when each new SVID is already past half-life', async () => {
    const scheduler = new ManualScheduler(Math.floor(Date.now() / 1000) * 1000)
    // The server's clock is 40 s behind: a 60 s SVID is due for rotation as soon as it arrives.
    const server = await FakeServer.start({ svidTtlMs: TTL_MS, now: () => scheduler.now() - 40_000 })
    cleanups.push(() => server.close())
    const fixture = await createAgentFixture({ serverPort: server.port, bundlePem: server.ca.certPem })
    cleanups.push(() => fixture.cleanup())
    const logs = new LogCapture()
    const agent = runAgent(fixture.config, { scheduler, logger: logs.logger(), random: () => 0.5 })
    cleanups.push(() => agent.stop())

    expect(await scheduler.advanceThroughNextSleep()).toBe(750)
    expect(await scheduler.nextSleep()).toBe(1500)
    expect(server.attestations).toHaveLength(2)
    expect(logs.find('already past half its lifetime')[0]).toMatchObject({ level: 'warn', retry_in_ms: 750 })
  })
})

describe('stop() during an attestation', () => {
  it('lets a k8s_sat attestation already sent finish and stores its SVID: the token is spent', async () => {
    const { server, fixture, start } = await setup({}, { attestor: 'k8s_sat' })
    const held = server.holdNextAttestation()
    const agent = start()
    await held.arrived
    const stopped = agent.stop()
    await new Promise((resolve) => setTimeout(resolve, 50))
    held.release()
    expect((await stopped).reason).toBe('stopped')
    expect(await readFile(join(fixture.dataDir, SVID_FILE_NAME), 'utf8')).toContain('BEGIN CERTIFICATE')
    expect(server.attestations).toHaveLength(1)
  })

  it('cuts a k8s_psat attestation off at once: its next token is a fresh one', async () => {
    const { server, fixture, start } = await setup()
    const held = server.holdNextAttestation()
    const agent = start()
    await held.arrived
    expect((await agent.stop()).reason).toBe('stopped')
    held.release()
    await expect(readFile(join(fixture.dataDir, SVID_FILE_NAME), 'utf8')).rejects.toMatchObject({
      code: 'ENOENT',
    })
  })
})

describe('renewal (k8s_sat)', () => {
  it('renews over mTLS with the current SVID at half-life, keeping its identity', async () => {
    const { server, scheduler, metrics, start } = await setup({}, { attestor: 'k8s_sat' })
    const agent = start()
    const first = await agent.nextSvid()
    expect(first.spiffeId).toMatch(/^spiffe:\/\/example\.org\/spire\/agent\/k8s_sat\/demo\/[0-9a-f-]{36}$/)

    await scheduler.advanceThroughNextSleep()
    const second = await agent.nextSvid(first)

    expect(server.renewals).toEqual([expect.objectContaining({ clientId: first.spiffeId })])
    expect(server.attestations).toHaveLength(1)
    expect(second.spiffeId).toBe(first.spiffeId)
    expect(await counterValue(metrics, 'k8s_attest_agent_renewals_total', { result: 'success' })).toBe(1)
  })

  it('refuses a renewed SVID for another agent: a renewal keeps the identity', async () => {
    const { server, scheduler, logs, start } = await setup({}, { attestor: 'k8s_sat' })
    const agent = start()
    const first = await agent.nextSvid()
    server.issueAs = 'spiffe://example.org/spire/agent/k8s_sat/demo/3b241101-e2bb-4255-8caf-4136c566a962'

    await scheduler.advanceThroughNextSleep()
    await scheduler.nextSleep()
    expect(agent.current()?.spiffeId).toBe(first.spiffeId)
    expect(logs.find('renewal refused')[0]).toMatchObject({
      code: 'ATT_ERR_SVID_VERIFICATION_FAILED',
      check: 'svid_spiffe_id_kept',
      value: server.issueAs,
      expected: first.spiffeId,
    })
  })

  it('attests again when evicted (ATT_ERR_SVID_NOT_CURRENT)', async () => {
    const { server, scheduler, logs, start } = await setup({}, { attestor: 'k8s_sat' })
    const agent = start()
    const first = await agent.nextSvid()
    server.evict(first.spiffeId)

    await scheduler.advanceThroughNextSleep()
    const second = await agent.nextSvid(first)

    expect(server.renewals).toHaveLength(1)
    expect(server.attestations).toHaveLength(2)
    expect(second.spiffeId).not.toBe(first.spiffeId)
    expect(logs.find('attesting again')[0]).toMatchObject({ code: 'ATT_ERR_SVID_NOT_CURRENT' })
  })

  it('attests when the server answers ATT_ERR_REATTESTATION_REQUIRED or ATT_ERR_AGENT_NOT_FOUND', async () => {
    const { server, scheduler, start } = await setup({}, { attestor: 'k8s_sat' })
    const agent = start()
    let svid = await agent.nextSvid()
    for (const [status, code] of [
      [403, 'ATT_ERR_REATTESTATION_REQUIRED'],
      [404, 'ATT_ERR_AGENT_NOT_FOUND'],
    ] as const) {
      server.refuseNext({ status, code })
      await scheduler.advanceThroughNextSleep()
      svid = await agent.nextSvid(svid)
    }
    expect(server.renewals).toHaveLength(2)
    expect(server.attestations).toHaveLength(3)
  })

  it('stops when the renewal answers that the agent is banned', async () => {
    const { server, scheduler, start } = await setup({}, { attestor: 'k8s_sat' })
    const agent = start()
    const svid = await agent.nextSvid()
    server.ban(svid.spiffeId)

    await scheduler.advanceThroughNextSleep()

    expect(await agent.done).toMatchObject({ reason: 'banned' })
    expect(server.attestations).toHaveLength(1)
  })
})

describe('server verification', () => {
  it('refuses to talk to a server whose certificate does not chain to the trust bundle', async () => {
    const otherCa = await TestCa.create('CN=some other CA')
    const { server, scheduler, logs, start } = await setup({}, { bundlePem: otherCa.certPem })
    start()

    expect(await scheduler.nextSleep()).toBe(45_000)
    expect(server.attestations).toHaveLength(0)
    expect(logs.find('attestation refused')[0]).toMatchObject({
      code: 'ATT_ERR_SERVER_UNTRUSTED',
      check: 'server_certificate_chain',
      failure: 'permanent',
    })
  })

  it('refuses a server whose certificate is not for serving TLS (no serverAuth) as untrusted, not unreachable', async () => {
    const { server, scheduler, logs, start } = await setup({
      servingExtendedKeyUsages: [ExtendedKeyUsage.clientAuth],
    })
    start()

    expect(await scheduler.nextSleep()).toBe(45_000)
    expect(server.attestations).toHaveLength(0)
    expect(logs.find('attestation refused')[0]).toMatchObject({
      code: 'ATT_ERR_SERVER_UNTRUSTED',
      check: 'server_certificate_chain',
      failure: 'permanent',
    })
  })

  it("refuses an SVID that is not an agent ID of its cluster, such as the server's own", async () => {
    const { server, scheduler, logs, start } = await setup()
    server.issueAs = 'spiffe://example.org/spire/server'
    const agent = start()

    await scheduler.nextSleep()
    expect(agent.current()).toBeUndefined()
    expect(logs.find('attestation refused')[0]).toMatchObject({
      code: 'ATT_ERR_SVID_VERIFICATION_FAILED',
      check: 'svid_agent_id',
      value: 'spiffe://example.org/spire/server',
      expected: 'spiffe://example.org/spire/agent/k8s_psat/demo/…',
    })
  })

  it('refuses a server presenting another SPIFFE ID, even with a certificate from the right CA', async () => {
    const { server, scheduler, logs, start } = await setup({
      servingId: 'spiffe://example.org/not-the-server',
    })
    start()

    await scheduler.nextSleep()
    expect(server.attestations).toHaveLength(0)
    expect(logs.find('attestation refused')[0]).toMatchObject({
      code: 'ATT_ERR_SERVER_UNTRUSTED',
      check: 'server_spiffe_id',
      value: 'spiffe://example.org/not-the-server',
      expected: 'spiffe://example.org/spire/server',
    })
  })

  it('with insecure_bootstrap, still refuses a server presenting another SPIFFE ID', async () => {
    const { server, scheduler, logs, start } = await setup(
      { servingId: 'spiffe://example.org/not-the-server' },
      { insecureBootstrap: true },
    )
    start()

    await scheduler.nextSleep()
    expect(server.attestations).toHaveLength(0)
    expect(logs.find('attestation refused')[0]).toMatchObject({
      code: 'ATT_ERR_SERVER_UNTRUSTED',
      check: 'server_spiffe_id',
    })
  })

  it('with insecure_bootstrap, attests, stores the returned bundle and verifies the server with it afterwards', async () => {
    const { server, fixture, scheduler, logs, start } = await setup({}, { insecureBootstrap: true })
    const agent = start()
    const first = await agent.nextSvid()
    expect((await readFile(join(fixture.dataDir, BUNDLE_FILE_NAME), 'utf8')).trim()).toBe(
      server.ca.certPem.trim(),
    )
    expect(logs.find('insecure_bootstrap')).toHaveLength(1)

    await scheduler.advanceThroughNextSleep()
    await agent.nextSvid(first)
    expect(server.attestations).toHaveLength(2)
  })
})

describe('stop', () => {
  it('aborts a request in flight at once, without counting or logging it as a failure', async () => {
    const ca = await TestCa.create()
    const serving = await ca.issueWithKey({ uris: ['spiffe://example.org/spire/server'] })
    let arrived: () => void = () => {}
    const requestArrived = new Promise<void>((resolve) => {
      arrived = resolve
    })
    // A server that reads the request and never answers, as one stuck on a slow datastore.
    const stuck = createHttpsServer({ cert: serving.certPem, key: serving.keyPem }, (request) => {
      request.resume()
      arrived()
    })
    await new Promise<void>((resolve) => stuck.listen(0, '127.0.0.1', resolve))
    cleanups.push(
      () =>
        new Promise((resolve) => {
          stuck.closeAllConnections()
          stuck.close(resolve)
        }),
    )
    const fixture = await createAgentFixture({
      serverPort: (stuck.address() as AddressInfo).port,
      bundlePem: ca.certPem,
    })
    cleanups.push(() => fixture.cleanup())
    const logs = new LogCapture()
    const metrics = new AgentMetrics()
    const agent = runAgent(fixture.config, {
      logger: logs.logger(),
      metrics,
      scheduler: new ManualScheduler(),
    })

    await requestArrived
    expect(await agent.stop()).toEqual({ reason: 'stopped' })

    expect(logs.entries().filter((entry) => entry.level === 'warn' || entry.level === 'error')).toEqual([])
    expect(await counterValue(metrics, 'k8s_attest_agent_attestations_total', { result: 'failure' })).toBe(0)
  })
})

describe('a misbehaving server or proxy', () => {
  it('treats an error page without a problem document by its status: a 502 from a proxy is transient', async () => {
    const { server, scheduler, logs, start } = await setup()
    server.answerNextRaw({ status: 502, contentType: 'text/html', body: '<html>Bad Gateway</html>' })
    const agent = start()

    expect(await scheduler.advanceThroughNextSleep()).toBe(750)
    await agent.nextSvid()
    expect(logs.find('attestation failed')[0]).toMatchObject({
      code: 'ATT_ERR_SERVER_RESPONSE_INVALID',
      status: 502,
      failure: 'transient',
    })
  })

  it('refuses a 200 answer that is not an SVID response, or an SVID that does not verify', async () => {
    const { server, scheduler, logs, start } = await setup()
    const stranger = await TestCa.create('CN=stranger')
    server.answerNextRaw({ status: 200, contentType: 'application/json', body: '{"spiffe_id": 42}' })
    server.answerNextRaw({
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({
        spiffe_id: 'spiffe://example.org/spire/agent/k8s_psat/demo/node-uid-1',
        svid: [
          (
            await stranger.issueWithKey({
              uris: ['spiffe://example.org/spire/agent/k8s_psat/demo/node-uid-1'],
            })
          ).certPem,
        ],
        bundle: [],
        selectors: [],
        expires_at: new Date(scheduler.now() + TTL_MS).toISOString(),
        reattestable: true,
      }),
    })
    const agent = start()
    await scheduler.advanceThroughNextSleep()
    await scheduler.advanceThroughNextSleep()
    await agent.nextSvid()

    const refusals = logs.find('attestation refused')
    expect(refusals[0]).toMatchObject({ code: 'ATT_ERR_SERVER_RESPONSE_INVALID', failure: 'permanent' })
    expect(String(refusals[0]?.msg)).toContain('is not an SVID response')
    expect(refusals[1]).toMatchObject({ code: 'ATT_ERR_SVID_VERIFICATION_FAILED', check: 'svid_public_key' })
  })
})

describe('logs', () => {
  it('never contain the token, through attestations, refusals and rotations', async () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2VuLXRleHQ.c2lnbmF0dXJlLXRleHQ'
    const { server, fixture, scheduler, logs, start } = await setup({}, { token })
    server.refuseNext(
      { status: 401, code: 'ATT_ERR_TOKEN_NOT_AUTHENTICATED' },
      { status: 503, code: 'ATT_ERR_KUBE_API_UNAVAILABLE' },
    )
    const agent = start()
    await scheduler.advanceThroughNextSleep()
    await scheduler.advanceThroughNextSleep()
    const first = await agent.nextSvid()
    await fixture.writeToken(`${token}.rotated`)
    await scheduler.advanceThroughNextSleep()
    await agent.nextSvid(first)
    await agent.stop()

    expect(server.attestations.map((attestation) => attestation.token)).toContain(token)
    expect(logs.lines.length).toBeGreaterThan(5)
    expect(logs.text()).not.toContain('c2VjcmV0LXRva2VuLXRleHQ')
    expect(logs.text()).not.toContain('PRIVATE KEY')
  })
})

/*
 * The fault matrix, agent side (docs/failure-modes.md): each fault clears without restarting
 * the agent, and the agent recovers within its backoff bound (here 1 s initial, 60 s cap,
 * jitter 0.5: the n-th wait is 3/4 of min(60 s, 2^(n-1) s)).
 */
describe('fault matrix', () => {
  it('token file missing, then written: transient, attests at the next backoff step', async () => {
    const { server, fixture, scheduler, logs, start } = await setup()
    const tokenFile = join(fixture.dir, 'tokens', '..data', 'spire-agent')
    const token = await readFile(tokenFile, 'utf8')
    await unlink(tokenFile)
    const agent = start()
    expect(await scheduler.advanceThroughNextSleep()).toBe(750)
    expect(await scheduler.nextSleep()).toBe(1500)
    await fixture.writeToken(token)
    scheduler.advance()
    await agent.nextSvid()
    expect(logs.find('attestation failed').map((entry) => entry.code)).toEqual([
      'ATT_ERR_TOKEN_FILE_MISSING',
      'ATT_ERR_TOKEN_FILE_MISSING',
    ])
    expect(server.attestations).toHaveLength(1)
  })

  it('token file empty (written but not yet filled): transient, never sent, attests once it is filled', async () => {
    const { server, fixture, scheduler, logs, start } = await setup()
    await fixture.writeToken('')
    const agent = start()
    expect(await scheduler.nextSleep()).toBe(750)
    expect(logs.find('attestation failed')[0]).toMatchObject({
      code: 'ATT_ERR_TOKEN_FILE_EMPTY',
      failure: 'transient',
    })
    await fixture.writeToken('eyJhbGciOiJSUzI1NiJ9.filled.signature')
    scheduler.advance()
    await agent.nextSvid()
    expect(server.attestations.map((attestation) => attestation.token)).toEqual([
      'eyJhbGciOiJSUzI1NiJ9.filled.signature',
    ])
  })

  it('disk full in data_dir: keeps the new SVID in memory and the old files whole, stores it once space is back', async () => {
    let diskFull = false
    // The kernel's own ENOSPC: while "full", every data_dir write goes to /dev/full.
    const writeFileOrFull: AgentDeps['writeFile'] = (path, data, mode) =>
      diskFull ? writeFile('/dev/full', data) : writeFileAtomic(path, data, mode)
    const { server, fixture, scheduler, logs, start } = await setup({}, {}, { writeFile: writeFileOrFull })
    const agent = start()
    const first = await agent.nextSvid()
    const storedBefore = await readFile(join(fixture.dataDir, SVID_FILE_NAME), 'utf8')

    diskFull = true
    expect(await scheduler.advanceThroughNextSleep()).toBe(HALF_LIFE_MS)
    const second = await agent.nextSvid(first)
    // Held although it could not be stored; the attempt counts as failed and is retried.
    expect(agent.current()?.serialNumber).toBe(second.serialNumber)
    expect(await scheduler.nextSleep()).toBe(750)
    expect(logs.find('attestation failed')[0]).toMatchObject({
      code: 'ATT_ERR_DATA_DIR_FAILED',
      failure: 'transient',
    })
    expect(String(logs.find('attestation failed')[0]?.msg)).toContain('ENOSPC')
    expect(await readFile(join(fixture.dataDir, SVID_FILE_NAME), 'utf8')).toBe(storedBefore)
    expect((await readdir(fixture.dataDir)).filter((name) => name.endsWith('.tmp'))).toEqual([])

    // Space is back: the next backoff step stores the held SVID, without attesting again.
    diskFull = false
    scheduler.advance()
    await vi.waitUntil(
      async () => (await readFile(join(fixture.dataDir, SVID_FILE_NAME), 'utf8')) !== storedBefore,
    )
    expect(logs.find('SVID stored in data_dir after an earlier failure')).toHaveLength(1)
    expect(await scheduler.nextSleep()).toBe(second.notBefore.getTime() + HALF_LIFE_MS - scheduler.now())
    expect(agent.current()?.serialNumber).toBe(second.serialNumber)
    expect(server.attestations).toHaveLength(2)
  })

  it('server clock 5 minutes behind: attests, and rotates at the SVID’s half-life by the agent’s own clock', async () => {
    const { server, scheduler, logs, start } = await setup(
      { svidTtlMs: 3_600_000 },
      {},
      { serverClockOffsetMs: -5 * 60_000 },
    )
    const svid = await start().nextSvid()
    expect(logs.find('attestation failed')).toEqual([])
    const halfLife = (svid.notBefore.getTime() + svid.notAfter.getTime()) / 2
    expect(await scheduler.nextSleep()).toBe(Math.min(MAX_ROTATION_WAIT_MS, halfLife - scheduler.now()))
    expect(server.attestations).toHaveLength(1)
  })

  it('server clock 5 minutes ahead: refuses the not-yet-valid SVID, and attests at the backoff cap once clocks agree', async () => {
    const clock = { offsetMs: 5 * 60_000 }
    const scheduler = new ManualScheduler(Math.floor(Date.now() / 1000) * 1000)
    const server = await FakeServer.start({
      svidTtlMs: 3_600_000,
      now: () => scheduler.now() + clock.offsetMs,
    })
    cleanups.push(() => server.close())
    const fixture = await createAgentFixture({ serverPort: server.port, bundlePem: server.ca.certPem })
    cleanups.push(() => fixture.cleanup())
    const logs = new LogCapture()
    const agent = runAgent(fixture.config, { scheduler, logger: logs.logger(), random: () => 0.5 })
    cleanups.push(() => agent.stop())
    // Beyond the agent's 60 s tolerance on notBefore: a permanent refusal, retried at the cap.
    expect(await scheduler.nextSleep()).toBe(45_000)
    expect(logs.entries().find((entry) => entry.code === 'ATT_ERR_SVID_VERIFICATION_FAILED')).toMatchObject({
      level: 'error',
      failure: 'permanent',
      check: 'svid_validity',
    })
    clock.offsetMs = 30_000
    scheduler.advance()
    await agent.nextSvid()
    expect(server.attestations).toHaveLength(2)
  })

  it('server clock 5 minutes ahead, k8s_sat: keeps the not-yet-valid SVID its single-use token bought, also across a restart', async () => {
    const scheduler = new ManualScheduler(Math.floor(Date.now() / 1000) * 1000)
    const server = await FakeServer.start({ svidTtlMs: 3_600_000, now: () => scheduler.now() + 5 * 60_000 })
    cleanups.push(() => server.close())
    const fixture = await createAgentFixture({
      serverPort: server.port,
      bundlePem: server.ca.certPem,
      attestor: 'k8s_sat',
    })
    cleanups.push(() => fixture.cleanup())
    const logs = new LogCapture()
    const agent = runAgent(fixture.config, { scheduler, logger: logs.logger() })
    const svid = await agent.nextSvid()
    expect(svid.notBefore.getTime()).toBeGreaterThan(scheduler.now() + 60_000)
    expect(logs.entries().filter((entry) => entry.code === 'ATT_ERR_SVID_VERIFICATION_FAILED')).toEqual([])
    expect(logs.entries().map((entry) => entry.msg)).toContain(
      `the SVID is not valid for another ${Math.ceil((svid.notBefore.getTime() - scheduler.now()) / 1000)} s by this agent's clock (the server's clock runs ahead?); kept, since the k8s_sat token that bought it is single-use, and renewed at its half-life`,
    )
    await agent.stop()
    // A restart reuses it from data_dir instead of spending the token again.
    const restarted = runAgent(fixture.config, { scheduler, logger: new LogCapture().logger() })
    cleanups.push(() => restarted.stop())
    await scheduler.nextSleep()
    expect(restarted.current()?.serialNumber).toBe(svid.serialNumber)
    expect(server.attestations).toHaveLength(1)
  })
})
