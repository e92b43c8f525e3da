import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { AGENT_EXIT_CODES, runHealthcheck } from '../src/system/agent-process.ts'
import { eventually } from '../src/system/eventually.ts'
import { type LogEntry, messageIncludes } from '../src/system/json-log.ts'
import { sumSamples } from '../src/system/prometheus-text.ts'
import type { RunningServer } from '../src/system/server-process.ts'
import { readStoredSvid, type StoredSvid } from '../src/system/stored-svid.ts'
import { SystemFixture } from './system-fixture.ts'

/*
 * The agent's acceptance tests (issue 5): the real `k8s-attest-server run` and
 * `k8s-attest-agent run` processes on 127.0.0.1, the Kubernetes test API behind the server,
 * tokens handed out as kubelet and the token controller would. Behaviour is observed from
 * outside only: the agents' JSON logs and data_dir, the servers' admin API, metrics and logs.
 *
 * The server's shortest agent_ttl is 1 minute, so an agent rotates about 25 s after it attests
 * (half of the SVID's lifetime, which starts 10 s back for clock skew). The scenarios that need a
 * rotation therefore run concurrently, each with its own node, agent and directories; the
 * scenarios that stop or distrust a server get a server of their own.
 */

/*
 * Short names on purpose: the server's admin routes refuse SPIFFE IDs longer than 100
 * characters (see the BUG test below), and a k8s_psat agent ID is 68 characters plus the trust
 * domain plus the cluster name.
 */
const TRUST_DOMAIN = 'k8s.test'
const PSAT_CLUSTER = 'psat'
const SAT_CLUSTER = 'sat'
/** A scenario that waits for a rotation: attestation, about 25 s, a margin for a busy machine. */
const ROTATION_TEST_MS = 75_000
/** How long after `rotate_at` the rotation may be observed on a machine this busy. */
const ROTATION_SLACK_MS = 20_000
/** A scenario without a rotation: a few process starts, on 2 cores shared with other suites. */
const SCENARIO_TEST_MS = 60_000

let system: SystemFixture
/** The server most scenarios share: k8s_psat and k8s_sat, both for the test cluster. */
let shared: RunningServer

beforeAll(async () => {
  system = await SystemFixture.start(TRUST_DOMAIN)
  shared = await system.startServer(
    await system.installServer('shared', { psat: [PSAT_CLUSTER], sat: [SAT_CLUSTER] }),
  )
})

afterAll(async () => {
  await system?.stop()
})

beforeEach(({ onTestFailed }) => {
  // A failed run keeps its configs, data and logs for whoever investigates.
  onTestFailed(() => system.keepWorkDir())
})

const svidObtained = (entry: LogEntry) => entry.msg === 'SVID obtained'
const svidRotated = messageIncludes('SVID rotated')
const msUntil = (isoTime: unknown) => Date.parse(String(isoTime)) - Date.now()
/** The serial of an agent log line: the same form the server's admin API shows. */
const serialOf = (entry: LogEntry) => String(entry.serial_number)

/**
 * The SVID stored in `dataDir` once it is the one `logged` announces. The agent logs an SVID when
 * it starts using it and stores it right after, so a read straight after the log line can still
 * find the previous file, or none.
 */
function storedSvidOf(dataDir: string, logged: LogEntry): Promise<StoredSvid> {
  return eventually(
    async () => {
      const stored = await readStoredSvid(dataDir)
      return stored?.serialNumber === serialOf(logged) ? stored : undefined
    },
    { what: `the SVID ${serialOf(logged)} stored in ${dataDir}` },
  )
}

/** The server log's "agent attested" lines for one agent. */
function attestationsOf(server: RunningServer, spiffeId: string): Promise<LogEntry[]> {
  return server.log.filter((entry) => entry.msg === 'agent attested' && entry.agent_id === spiffeId)
}

describe('the agent, as a process, against the real server and the Kubernetes test API', () => {
  describe.concurrent('scenarios', () => {
    it('rotates at half-life by attesting again, sending the token kubelet rotated in the meantime', {
      timeout: ROTATION_TEST_MS,
    }, async ({ expect }) => {
      const { cluster } = system
      const node = cluster.addAgentNode('rotation')
      const spiffeId = system.psatAgentId(PSAT_CLUSTER, node)
      const installation = await system.installAgent('rotation', {
        server: shared.installation,
        attestor: 'k8s_psat',
        cluster: PSAT_CLUSTER,
        token: cluster.issueProjectedToken(node),
      })
      const agent = await system.startAgent(installation)
      const obtained = await agent.waitForLog(svidObtained, '"SVID obtained"')
      const first = await storedSvidOf(installation.dataDir, obtained)

      // The agent pod is replaced (new UID) and kubelet writes the new pod's token: the old
      // token no longer passes TokenReview, so only an agent that re-reads the file attests.
      const replaced = cluster.recreateAgentPod(node)
      await installation.tokens.write(cluster.issueProjectedToken(replaced))

      const rotated = await agent.waitForLog(
        svidRotated,
        '"SVID rotated"',
        msUntil(obtained.rotate_at) + ROTATION_SLACK_MS,
      )
      expect(rotated).toMatchObject({ spiffe_id: spiffeId, method: 'attest' })
      expect(rotated.serial_number).not.toBe(obtained.serial_number)
      expect(Date.parse(String(rotated.time))).toBeGreaterThanOrEqual(Date.parse(String(obtained.rotate_at)))

      const record = await shared.admin.show(spiffeId)
      expect(record?.svid_serial).toBe(serialOf(rotated))
      expect(record?.selectors).toContainEqual({
        type: 'k8s_psat',
        value: `agent_pod_uid:${replaced.podUid}`,
      })
      expect(record?.selectors).not.toContainEqual({
        type: 'k8s_psat',
        value: `agent_pod_uid:${node.podUid}`,
      })
      expect(await attestationsOf(shared, spiffeId)).toHaveLength(2)

      const second = await storedSvidOf(installation.dataDir, rotated)
      expect(second.notAfter.getTime()).toBeGreaterThan(first.notAfter.getTime())
    })

    it('attests again at its next rotation after being evicted', { timeout: ROTATION_TEST_MS }, async ({
      expect,
    }) => {
      const { cluster } = system
      const node = cluster.addAgentNode('evicted')
      const spiffeId = system.psatAgentId(PSAT_CLUSTER, node)
      const installation = await system.installAgent('evicted', {
        server: shared.installation,
        attestor: 'k8s_psat',
        cluster: PSAT_CLUSTER,
        token: cluster.issueProjectedToken(node),
      })
      const agent = await system.startAgent(installation)
      const obtained = await agent.waitForLog(svidObtained, '"SVID obtained"')

      await shared.admin.evict(spiffeId)
      const evictedAt = Date.now()
      expect(await shared.admin.show(spiffeId)).toBeUndefined()

      const rotated = await agent.waitForLog(
        svidRotated,
        '"SVID rotated"',
        msUntil(obtained.rotate_at) + ROTATION_SLACK_MS,
      )
      expect(rotated).toMatchObject({ spiffe_id: spiffeId, method: 'attest' })
      const record = await shared.admin.show(spiffeId)
      expect(record).toMatchObject({ svid_serial: serialOf(rotated), banned: false })
      expect(Date.parse(record?.first_attested_at ?? '')).toBeGreaterThan(evictedAt)
      // Re-attesting after an eviction is the normal path, not a failure.
      expect(await agent.log.filter((entry) => entry.level === 'warn' || entry.level === 'error')).toEqual([])
    })

    it('stops with its "banned" exit code once the server has banned it', {
      timeout: ROTATION_TEST_MS,
    }, async ({ expect }) => {
      const { cluster } = system
      const node = cluster.addAgentNode('banned')
      const spiffeId = system.psatAgentId(PSAT_CLUSTER, node)
      const installation = await system.installAgent('banned', {
        server: shared.installation,
        attestor: 'k8s_psat',
        cluster: PSAT_CLUSTER,
        token: cluster.issueProjectedToken(node),
      })
      const agent = await system.startAgent(installation)
      const obtained = await agent.waitForLog(svidObtained, '"SVID obtained"')

      expect(await shared.admin.ban(spiffeId)).toMatchObject({ spiffe_id: spiffeId, banned: true })

      const status = await agent.waitForExit(msUntil(obtained.rotate_at) + ROTATION_SLACK_MS)
      expect(status).toBe(AGENT_EXIT_CODES.banned)
      const stopped = await agent.log.find(messageIncludes('the server banned this agent; stopping'))
      expect(stopped).toMatchObject({
        level: 'error',
        code: 'ATT_ERR_AGENT_BANNED',
        source: 'server',
        failure: 'banned',
        status: 403,
      })
      // The refused attestation issued nothing: the record still holds the first SVID.
      expect(await shared.admin.show(spiffeId)).toMatchObject({
        banned: true,
        svid_serial: serialOf(obtained),
      })
      expect(
        sumSamples(await shared.metrics(), 'k8s_attest_attestations_total', { code: 'ATT_ERR_AGENT_BANNED' }),
      ).toBe(1)
    })

    it('k8s_sat: attests with a legacy token, then renews over mutual TLS at half-life', {
      timeout: ROTATION_TEST_MS,
    }, async ({ expect }) => {
      const installation = await system.installAgent('sat', {
        server: shared.installation,
        attestor: 'k8s_sat',
        cluster: SAT_CLUSTER,
        token: system.cluster.issueLegacyToken('spire-agent-legacy-token'),
      })
      const agent = await system.startAgent(installation)
      const obtained = await agent.waitForLog(svidObtained, '"SVID obtained"')
      const spiffeId = String(obtained.spiffe_id)
      expect(spiffeId).toMatch(
        new RegExp(`^spiffe://${TRUST_DOMAIN}/spire/agent/k8s_sat/${SAT_CLUSTER}/[0-9a-f-]{36}$`),
      )
      expect(obtained.method).toBe('attest')

      const renewed = await agent.waitForLog(
        svidRotated,
        '"SVID rotated"',
        msUntil(obtained.rotate_at) + ROTATION_SLACK_MS,
      )
      // Same identity, new certificate, and no second attestation: the token attests once.
      expect(renewed).toMatchObject({ spiffe_id: spiffeId, method: 'renew' })
      expect(renewed.serial_number).not.toBe(obtained.serial_number)
      const renewals = await shared.log.filter(
        (entry) => entry.msg === 'agent SVID renewed' && entry.agent_id === spiffeId,
      )
      expect(renewals).toHaveLength(1)
      expect(await attestationsOf(shared, spiffeId)).toHaveLength(1)

      const record = await shared.admin.show(spiffeId)
      expect(record).toMatchObject({
        attestor: 'k8s_sat',
        cluster: SAT_CLUSTER,
        svid_serial: serialOf(renewed),
      })
      expect(record?.selectors.map((selector) => `${selector.type}:${selector.value}`).sort()).toEqual([
        `k8s_sat:agent_ns:${system.cluster.namespace}`,
        `k8s_sat:agent_sa:${system.cluster.agentServiceAccount}`,
        `k8s_sat:cluster:${SAT_CLUSTER}`,
      ])
      await storedSvidOf(installation.dataDir, renewed)
    })

    it('attests on first start, reuses its stored SVID after a restart, and healthcheck follows', {
      timeout: SCENARIO_TEST_MS,
    }, async ({ expect }) => {
      const { cluster } = system
      const node = cluster.addAgentNode('restart')
      const spiffeId = system.psatAgentId(PSAT_CLUSTER, node)
      const installation = await system.installAgent('restart', {
        server: shared.installation,
        attestor: 'k8s_psat',
        cluster: PSAT_CLUSTER,
        token: cluster.issueProjectedToken(node),
      })

      const before = await runHealthcheck(installation)
      expect(before.status).toBe(AGENT_EXIT_CODES.failure)
      expect(before.stderr).toMatch(/^unhealthy: no trust bundle at .*: the agent has not attested yet\n$/)

      const first = await system.startAgent(installation)
      const obtained = await first.waitForLog(svidObtained, '"SVID obtained"')
      expect(obtained).toMatchObject({ spiffe_id: spiffeId, method: 'attest' })
      const stored = await storedSvidOf(installation.dataDir, obtained)
      expect(stored.spiffeId).toBe(spiffeId)
      const record = await shared.admin.show(spiffeId)
      expect(record).toMatchObject({
        attestor: 'k8s_psat',
        cluster: PSAT_CLUSTER,
        svid_serial: serialOf(obtained),
        banned: false,
      })
      expect(record?.selectors).toContainEqual({ type: 'k8s_psat', value: `agent_pod_uid:${node.podUid}` })

      const healthy = await runHealthcheck(installation)
      expect(healthy.status).toBe(AGENT_EXIT_CODES.ok)
      expect(healthy.stdout).toBe(`healthy: SVID ${spiffeId} valid until ${stored.notAfter.toISOString()}\n`)

      expect(await first.stop()).toBe(AGENT_EXIT_CODES.ok)
      const second = await system.startAgent(installation)
      const reused = await second.waitForLog(
        messageIncludes('reusing the SVID stored in data_dir'),
        '"reusing the SVID stored in data_dir"',
      )
      expect(reused).toMatchObject({ spiffe_id: spiffeId, serial_number: obtained.serial_number })
      expect(await second.stop()).toBe(AGENT_EXIT_CODES.ok)

      // The second run never asked the server: one attestation in all, the record untouched.
      expect(await second.log.filter((entry) => svidObtained(entry) || svidRotated(entry))).toEqual([])
      expect(await attestationsOf(shared, spiffeId)).toHaveLength(1)
      expect(await shared.admin.show(spiffeId)).toEqual(record)
    })

    it('backs off while the server is down, and attests once it is back', {
      timeout: SCENARIO_TEST_MS,
    }, async ({ expect }) => {
      const { cluster } = system
      const serverInstallation = await system.installServer('outage', { psat: [PSAT_CLUSTER] })
      // A first run creates the CA (and the bundle the agent trusts); then the server goes down.
      await (await system.startServer(serverInstallation)).stop()

      const node = cluster.addAgentNode('outage')
      const spiffeId = system.psatAgentId(PSAT_CLUSTER, node)
      const initialMs = 200
      const maxMs = 800
      const installation = await system.installAgent('outage', {
        server: serverInstallation,
        attestor: 'k8s_psat',
        cluster: PSAT_CLUSTER,
        token: cluster.issueProjectedToken(node),
        retryInitialInterval: `${initialMs}ms`,
        retryMaxInterval: `${maxMs}ms`,
      })
      const agent = await system.startAgent(installation)
      const isUnreachable = (entry: LogEntry) => entry.code === 'ATT_ERR_SERVER_UNREACHABLE'
      const failures = await eventually(
        async () => {
          const found = await agent.log.filter(isUnreachable)
          return found.length >= 4 ? found : undefined
        },
        { what: 'four failed attempts while the server is down', describe: () => agent.log.tail() },
      )
      for (const [index, failure] of failures.slice(0, 4).entries()) {
        const attempt = index + 1
        const base = Math.min(maxMs, initialMs * 2 ** index)
        expect(failure).toMatchObject({ level: 'warn', failure: 'transient', source: 'agent', attempt })
        expect(failure.retry_in_ms).toBeGreaterThanOrEqual(base / 2)
        expect(failure.retry_in_ms).toBeLessThanOrEqual(base)
      }
      expect(await readStoredSvid(installation.dataDir)).toBeUndefined()

      const server = await system.startServer(serverInstallation)
      const obtained = await agent.waitForLog(svidObtained, '"SVID obtained" after the server came back')
      expect(obtained).toMatchObject({ spiffe_id: spiffeId, method: 'attest' })
      expect(await server.admin.show(spiffeId)).toMatchObject({ svid_serial: serialOf(obtained) })
    })

    it('refuses a server its trust bundle does not verify, and never sends it the token', {
      timeout: SCENARIO_TEST_MS,
    }, async ({ expect }) => {
      const { cluster } = system
      const server = await system.startServer(
        await system.installServer('untrusted', { psat: [PSAT_CLUSTER] }),
      )
      const node = cluster.addAgentNode('untrusted')
      const installation = await system.installAgent('untrusted', {
        server: server.installation,
        // A real k8s-attest CA of the same trust domain, but another server's.
        trustBundlePath: shared.installation.bundlePath,
        attestor: 'k8s_psat',
        cluster: PSAT_CLUSTER,
        token: cluster.issueProjectedToken(node),
      })
      const agent = await system.startAgent(installation)
      const refused = await agent.waitForLog(
        (entry) => entry.code === 'ATT_ERR_SERVER_UNTRUSTED',
        'an ATT_ERR_SERVER_UNTRUSTED refusal',
      )
      expect(refused).toMatchObject({
        level: 'error',
        source: 'agent',
        failure: 'permanent',
        check: 'server_certificate_chain',
      })
      expect(refused.msg).toContain('does not verify against the trust bundle')

      // Nothing reached the server's attestation path: no attestation of any outcome, no TokenReview.
      const metrics = await server.metrics()
      expect(sumSamples(metrics, 'k8s_attest_attestations_total')).toBe(0)
      expect(sumSamples(metrics, 'k8s_attest_kube_api_calls_total', { resource: 'tokenreviews' })).toBe(0)
      expect(await server.log.filter((entry) => typeof entry.code === 'string')).toEqual([])
      expect(await readStoredSvid(installation.dataDir)).toBeUndefined()
      expect((await runHealthcheck(installation)).status).toBe(AGENT_EXIT_CODES.failure)
    })
  })

  /*
   * A k8s_psat agent ID is 68 characters + trust domain + cluster name: with names like
   * "prod.example.com" and "eu-west-1-production" it passes fastify's default 100-character
   * path parameter limit, which once made `agent show|evict|ban` answer 414 before routing.
   */
  it('answers 404, not 414, for an unknown agent ID over 100 characters', async () => {
    const spiffeId = `spiffe://${TRUST_DOMAIN}/spire/agent/k8s_psat/eu-west-1-production-cluster/${randomUUID()}`
    expect(await shared.admin.show(spiffeId)).toBeUndefined()
  })

  it('never writes a token into any log', async () => {
    const files = await system.logFiles()
    const secrets = [...system.cluster.issuedTokens, shared.installation.adminToken]
    // A server log, and one per agent installed above: the check below is not vacuous.
    expect(files.length).toBeGreaterThanOrEqual(10)
    expect(system.cluster.issuedTokens.length).toBeGreaterThanOrEqual(9)
    for (const file of files) {
      const text = await readFile(file, 'utf8')
      expect(text.length, `${file} is empty`).toBeGreaterThan(0)
      for (const secret of secrets) {
        // The whole token, and its signature alone: the part that makes a JWT a credential.
        const signature = secret.split('.').at(-1) ?? secret
        expect(text.includes(secret) || text.includes(signature), `a token appears in ${file}`).toBe(false)
      }
    }
  })
})
