import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { TrustBootstrap } from '../src/config.ts'
import type { AgentError } from '../src/errors.ts'
import { runAgent } from '../src/run-agent.ts'
import { bootstrapTrustBundle } from '../src/trust-bootstrap.ts'
import { trustBundleFromPem } from '../src/trust-bundle.ts'
import { createAgentFixture, LogCapture } from './agent-fixture.ts'
import { FakeServer } from './fake-server.ts'
import { ManualScheduler } from './manual-scheduler.ts'
import { TestCa } from './test-ca.ts'

/** The CA of the web server that publishes the bundle: what the system store would hold. */
let webCa: TestCa
/** The trust domain's own CA: what the bundle holds. */
let domainCa: TestCa
const servers: Server[] = []

beforeAll(async () => {
  webCa = await TestCa.create('CN=public web CA')
  domainCa = await TestCa.create('CN=example.org trust domain CA')
})
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

/** An HTTPS server on 127.0.0.1 answering every request with `status` and `body` (read at each request). */
async function publish(status: number, body: string | (() => string)): Promise<URL> {
  const { certPem, keyPem } = await webCa.issueWithKey({ ips: ['127.0.0.1'] })
  const server = createServer({ cert: certPem, key: keyPem }, (_request, response) => {
    response.writeHead(status).end(typeof body === 'string' ? body : body())
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/bundle`)
}

const options = () => ({ urlCa: [webCa.certPem], connectTimeoutMs: 2000, requestTimeoutMs: 2000 })

/**
 * A server of the trust domain's CA, and an agent fixture whose data_dir holds a bundle of a CA
 * the trust domain rotated away from (the node was away past a CA takeover; data_dir, an
 * emptyDir, survived). Its bootstrap is insecure until a test configures another.
 */
async function withStaleStoredBundle() {
  const server = await FakeServer.start({ ca: domainCa })
  const stale = await TestCa.create('CN=a CA the trust domain rotated away from')
  const fixture = await createAgentFixture({ serverPort: server.port, insecureBootstrap: true })
  await mkdir(fixture.config.dataDir, { recursive: true, mode: 0o700 })
  await writeFile(join(fixture.config.dataDir, 'bundle.pem'), stale.certPem)
  return { server, stale, fixture }
}

describe('bootstrapTrustBundle from trust_bundle_url', () => {
  it('fetches a PEM bundle over HTTPS verified by the given (system) CAs', async () => {
    const url = await publish(200, domainCa.certPem)
    const bundle = await bootstrapTrustBundle({ kind: 'bundle_url', url, format: 'pem' }, options())
    expect(bundle?.authorities.map((certificate) => certificate.subject)).toEqual([
      'CN=example.org trust domain CA',
    ])
  })

  it('fetches a SPIFFE bundle (JWKS)', async () => {
    const der = domainCa.certPem.replace(/-----[A-Z ]+-----|\s/g, '')
    const url = await publish(200, JSON.stringify({ keys: [{ use: 'x509-svid', kty: 'EC', x5c: [der] }] }))
    const bundle = await bootstrapTrustBundle({ kind: 'bundle_url', url, format: 'spiffe' }, options())
    expect(bundle?.authorities).toHaveLength(1)
  })

  it('refuses a server the CAs do not vouch for: a bundle cannot vouch for itself', async () => {
    const url = await publish(200, domainCa.certPem)
    const error = (await bootstrapTrustBundle(
      { kind: 'bundle_url', url, format: 'pem' },
      { ...options(), urlCa: [domainCa.certPem] },
    ).catch((thrown: unknown) => thrown)) as AgentError
    expect(error.code).toBe('ATT_ERR_TRUST_BUNDLE_UNAVAILABLE')
    expect(error.message).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE')
  })

  it('reports an HTTP error status', async () => {
    const url = await publish(404, 'not here')
    await expect(
      bootstrapTrustBundle({ kind: 'bundle_url', url, format: 'pem' }, options()),
    ).rejects.toMatchObject({
      code: 'ATT_ERR_TRUST_BUNDLE_UNAVAILABLE',
      message: `trust_bundle_url "${url.href}" answered HTTP 404; expected 200`,
    })
  })

  it('reports a document that is not a bundle', async () => {
    const url = await publish(200, '<html>portal</html>')
    await expect(
      bootstrapTrustBundle({ kind: 'bundle_url', url, format: 'pem' }, options()),
    ).rejects.toMatchObject({
      code: 'ATT_ERR_TRUST_BUNDLE_INVALID',
    })
  })

  it('reads the file as it is now (a ConfigMap volume changes it), and nothing for insecure_bootstrap', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'k8s-attest-bootstrap-'))
    try {
      const path = join(directory, 'bundle.crt')
      await writeFile(path, domainCa.certPem)
      const file: TrustBootstrap = { kind: 'bundle_file', path }
      expect((await bootstrapTrustBundle(file, options()))?.authoritiesPem).toEqual(
        trustBundleFromPem(domainCa.certPem, path).authoritiesPem,
      )
      await writeFile(path, webCa.certPem)
      expect((await bootstrapTrustBundle(file, options()))?.authoritiesPem).toEqual(
        trustBundleFromPem(webCa.certPem, path).authoritiesPem,
      )
      await rm(path)
      await expect(bootstrapTrustBundle(file, options())).rejects.toMatchObject({
        code: 'ATT_ERR_TRUST_BUNDLE_UNAVAILABLE',
        message: expect.stringMatching(/^cannot read trust_bundle_path ".*bundle\.crt" \(ENOENT: /),
      })
      await writeFile(path, 'not a bundle')
      await expect(bootstrapTrustBundle(file, options())).rejects.toMatchObject({
        code: 'ATT_ERR_TRUST_BUNDLE_INVALID',
      })
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
    const insecure: TrustBootstrap = { kind: 'insecure' }
    expect(await bootstrapTrustBundle(insecure, options())).toBeUndefined()
  })
})

describe('an agent bootstrapping from trust_bundle_url', () => {
  it('fetches the bundle, then attests against the server it vouches for', async () => {
    const server = await FakeServer.start({ ca: domainCa })
    const url = await publish(200, domainCa.certPem)
    const fixture = await createAgentFixture({ serverPort: server.port, insecureBootstrap: true })
    const config = { ...fixture.config, trustBootstrap: { kind: 'bundle_url', url, format: 'pem' } as const }
    const agent = runAgent(config, { logger: new LogCapture().logger(), trustBundleUrlCa: [webCa.certPem] })
    try {
      expect((await agent.nextSvid()).spiffeId).toBe(
        'spiffe://example.org/spire/agent/k8s_psat/demo/node-uid-1',
      )
    } finally {
      await agent.stop()
      await server.close()
      await fixture.cleanup()
    }
  })

  it('reads trust_bundle_path again after it did not vouch for the server, and attests once it does', async () => {
    const server = await FakeServer.start({ ca: domainCa })
    const stale = await TestCa.create('CN=a CA the trust domain rotated away from')
    const fixture = await createAgentFixture({ serverPort: server.port, insecureBootstrap: true })
    const path = join(fixture.config.dataDir, '..', 'mounted-bundle.crt')
    await writeFile(path, stale.certPem)
    const trustBootstrap = { kind: 'bundle_file', path } as const
    const logs = new LogCapture()
    const scheduler = new ManualScheduler()
    const agent = runAgent({ ...fixture.config, trustBootstrap }, { logger: logs.logger(), scheduler })
    try {
      await scheduler.nextSleep()
      expect(logs.entries().map((entry) => entry.code)).toContain('ATT_ERR_SERVER_UNTRUSTED')
      // kubelet writes what the server's notifier published into the mounted file: no restart needed.
      await writeFile(path, domainCa.certPem)
      await scheduler.advanceThroughNextSleep()
      expect((await agent.nextSvid()).spiffeId).toBe(
        'spiffe://example.org/spire/agent/k8s_psat/demo/node-uid-1',
      )
    } finally {
      await agent.stop()
      await server.close()
      await rm(path, { force: true })
      await fixture.cleanup()
    }
  })

  it('widens a stored bundle that no longer vouches for the server with trust_bundle_path, which does', async () => {
    // The node was away past a CA takeover: data_dir (an emptyDir, kept across container
    // restarts) holds the old CA only, while the ConfigMap behind trust_bundle_path is current.
    const { server, stale, fixture } = await withStaleStoredBundle()
    const path = join(fixture.config.dataDir, '..', 'mounted-bundle.crt')
    await writeFile(path, domainCa.certPem)
    const logs = new LogCapture()
    const scheduler = new ManualScheduler()
    const config = { ...fixture.config, trustBootstrap: { kind: 'bundle_file', path } as const }
    const agent = runAgent(config, { logger: logs.logger(), scheduler })
    try {
      await scheduler.nextSleep()
      expect(logs.entries().map((entry) => entry.code)).toContain('ATT_ERR_SERVER_UNTRUSTED')
      expect(logs.entries().map((entry) => entry.msg)).toContain(
        `the trust bundle in ${fixture.config.dataDir} does not vouch for the server (did its CA rotate while this agent was away?); the next attempt also trusts trust_bundle_path ${path}`,
      )
      await scheduler.advanceThroughNextSleep()
      expect((await agent.nextSvid()).spiffeId).toBe(
        'spiffe://example.org/spire/agent/k8s_psat/demo/node-uid-1',
      )
      // The server's bundle replaced the stale one in data_dir.
      const stored = await readFile(join(fixture.config.dataDir, 'bundle.pem'), 'utf8')
      expect(stored).not.toContain(stale.certPem.trim())
      expect(stored).toContain('BEGIN CERTIFICATE')
    } finally {
      await agent.stop()
      await server.close()
      await rm(path, { force: true })
      await fixture.cleanup()
    }
  })

  it('keeps a stored bundle under insecure_bootstrap, and says how to bootstrap again', async () => {
    const { server, fixture } = await withStaleStoredBundle()
    const logs = new LogCapture()
    const scheduler = new ManualScheduler()
    const agent = runAgent(fixture.config, { logger: logs.logger(), scheduler })
    try {
      await scheduler.nextSleep()
      await scheduler.advanceThroughNextSleep()
      await scheduler.nextSleep()
      const untrusted = logs.entries().filter((entry) => entry.code === 'ATT_ERR_SERVER_UNTRUSTED')
      expect(untrusted.length).toBeGreaterThanOrEqual(2)
      const hints = logs
        .entries()
        .filter((entry) => String(entry.msg).includes('insecure_bootstrap is not used again'))
      expect(hints.map((entry) => entry.msg)).toEqual([
        `the trust bundle in ${fixture.config.dataDir} does not vouch for the server (did its CA rotate while this agent was away?); insecure_bootstrap is not used again while a bundle is held: remove ${join(fixture.config.dataDir, 'bundle.pem')} to bootstrap again`,
      ])
      expect(server.attestations).toEqual([])
    } finally {
      await agent.stop()
      await server.close()
      await fixture.cleanup()
    }
  })

  it('does not fetch trust_bundle_url again for a stored bundle that stopped vouching, and says how to bootstrap again', async () => {
    // Fetching it would let whoever intercepts the server port and answers for the URL's host
    // take over a running agent, not only a new one.
    let fetches = 0
    const url = await publish(200, () => {
      fetches++
      return domainCa.certPem
    })
    const { server, fixture } = await withStaleStoredBundle()
    const config = { ...fixture.config, trustBootstrap: { kind: 'bundle_url', url, format: 'pem' } as const }
    const logs = new LogCapture()
    const scheduler = new ManualScheduler()
    const agent = runAgent(config, { logger: logs.logger(), scheduler, trustBundleUrlCa: [webCa.certPem] })
    try {
      await scheduler.nextSleep()
      await scheduler.advanceThroughNextSleep()
      await scheduler.nextSleep()
      expect(fetches).toBe(0)
      expect(logs.entries().map((entry) => entry.msg)).toContain(
        `the trust bundle in ${fixture.config.dataDir} does not vouch for the server (did its CA rotate while this agent was away?); trust_bundle_url is not used again while a bundle is held: remove ${join(fixture.config.dataDir, 'bundle.pem')} to bootstrap again`,
      )
    } finally {
      await agent.stop()
      await server.close()
      await fixture.cleanup()
    }
  })

  it('keeps the held bundle through one impostor connection while trust_bundle_path is broken', async () => {
    const scheduler = new ManualScheduler()
    const server = await FakeServer.start({ ca: domainCa, svidTtlMs: 60_000, now: () => scheduler.now() })
    const fixture = await createAgentFixture({ serverPort: server.port, bundlePem: domainCa.certPem })
    const logs = new LogCapture()
    const agent = runAgent(fixture.config, { logger: logs.logger(), scheduler })
    const impostorCa = await TestCa.create('CN=an impostor')
    const { certPem, keyPem } = await impostorCa.issueWithKey({ ips: ['127.0.0.1'] })
    const impostor = createServer({ cert: certPem, key: keyPem }, (_request, response) => response.end())
    try {
      const first = await agent.nextSvid()
      await writeFile(join(dirname(fixture.configPath), 'bootstrap-bundle.pem'), '') // the ConfigMap emptied
      // The next attempt meets something else on the server's address.
      await server.stop()
      await new Promise<void>((resolve) => impostor.listen(server.port, '127.0.0.1', resolve))
      await scheduler.advanceThroughNextSleep()
      await scheduler.nextSleep()
      expect(logs.entries().map((entry) => entry.code)).toContain('ATT_ERR_SERVER_UNTRUSTED')
      await new Promise((resolve) => impostor.close(resolve))
      await server.restart()
      // The broken file is reported, and the held bundle still reaches the real server.
      await scheduler.advanceThroughNextSleep()
      const next = await agent.nextSvid(first)
      expect(next.serialNumber).not.toBe(first.serialNumber)
      expect(
        logs.entries().some((entry) => String(entry.msg).endsWith('; going on with the trust bundle held')),
      ).toBe(true)
    } finally {
      await agent.stop()
      await server.close()
      if (impostor.listening) await new Promise((resolve) => impostor.close(resolve))
      await fixture.cleanup()
    }
  })

  it('fetches the bundle again after it did not vouch for the server, and attests once it does', async () => {
    const server = await FakeServer.start({ ca: domainCa })
    const stale = await TestCa.create('CN=a CA the trust domain rotated away from')
    let published = stale.certPem
    let fetches = 0
    const url = await publish(200, () => {
      fetches++
      return published
    })
    const fixture = await createAgentFixture({ serverPort: server.port, insecureBootstrap: true })
    const config = { ...fixture.config, trustBootstrap: { kind: 'bundle_url', url, format: 'pem' } as const }
    const logs = new LogCapture()
    const scheduler = new ManualScheduler()
    const agent = runAgent(config, { logger: logs.logger(), scheduler, trustBundleUrlCa: [webCa.certPem] })
    try {
      await scheduler.nextSleep()
      expect(logs.entries().map((entry) => entry.code)).toContain('ATT_ERR_SERVER_UNTRUSTED')
      // The operator publishes the right bundle: the next attempt reads it, no restart needed.
      published = domainCa.certPem
      await scheduler.advanceThroughNextSleep()
      expect((await agent.nextSvid()).spiffeId).toBe(
        'spiffe://example.org/spire/agent/k8s_psat/demo/node-uid-1',
      )
      expect(fetches).toBe(2)
    } finally {
      await agent.stop()
      await server.close()
      await fixture.cleanup()
    }
  })
})
