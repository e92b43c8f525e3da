import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DataStoreConfig } from '../src/config/server-config.ts'
import { expectProblem } from './expect-problem.ts'
import { useTestPostgres } from './fixtures/postgres.ts'
import { KubeWorld } from './kube-world.ts'
import { ADMIN_TOKEN, newAgentKey, type RunningServer, startServer } from './server-harness.ts'

/*
 * The attestation flow's record keeping — success, ban, evict, single-use SAT tokens — on both
 * datastore engines, through the whole server.
 */

const postgres = useTestPostgres()
let world: KubeWorld

beforeAll(async () => {
  world = await KubeWorld.start()
})

afterAll(async () => {
  await world?.stop()
})

const ENGINES: readonly [string, () => Promise<DataStoreConfig | undefined>][] = [
  ['SQLite', async () => undefined],
  [
    'PostgreSQL',
    async () => ({ databaseType: 'postgres', connectionString: await postgres().createIsolatedSchema() }),
  ],
]

describe.each(ENGINES)('on %s', (_engine, dataStore) => {
  let server: RunningServer

  beforeAll(async () => {
    const config = await dataStore()
    server = await startServer({
      clusters: { psat: { demo: { world } }, satReview: { legacy: world } },
      ...(config === undefined ? {} : { dataStore: config }),
    })
  })

  afterAll(async () => {
    await server?.close()
  })

  it('records a k8s_psat agent, refuses it while banned (storing nothing), and lets it back after eviction', async () => {
    const pod = world.newAgentPod()
    const attested = await server.attest('k8s_psat', 'demo', pod.token, (await newAgentKey()).csrPem)
    expect(attested.status).toBe(200)
    const spiffeId = attested.body.spiffe_id as string
    const recorded = await server.store.getAgent(spiffeId)
    expect(recorded).toMatchObject({ attestor: 'k8s_psat', cluster: 'demo', banned: false })

    expect(await server.store.banAgent(spiffeId)).toBe(true)
    const refused = await server.attest('k8s_psat', 'demo', world.tokenFor(pod), (await newAgentKey()).csrPem)
    expectProblem(refused, 403, 'ATT_ERR_AGENT_BANNED')
    expect(await server.store.getAgent(spiffeId)).toEqual({ ...recorded, banned: true })

    expect(await server.store.evictAgent(spiffeId)).toBe(true)
    const again = await server.attest('k8s_psat', 'demo', world.tokenFor(pod), (await newAgentKey()).csrPem)
    expect(again.status).toBe(200)
    expect(await server.store.getAgent(spiffeId)).toMatchObject({ banned: false })
  })

  it('spends a k8s_sat token once', async () => {
    const token = world.api.createLegacyTokenSecret(
      'spire',
      `records-${_engine.toLowerCase()}`,
      'spire-agent',
    )
    expect((await server.attest('k8s_sat', 'legacy', token, (await newAgentKey()).csrPem)).status).toBe(200)
    const count = await server.agentCount()
    expectProblem(
      await server.attest('k8s_sat', 'legacy', token, (await newAgentKey()).csrPem),
      403,
      'ATT_ERR_TOKEN_REPLAYED',
    )
    expect(await server.agentCount()).toBe(count)
  })
})

describe('two servers on one PostgreSQL database', () => {
  let first: RunningServer
  let second: RunningServer

  beforeAll(async () => {
    const dataStore: DataStoreConfig = {
      databaseType: 'postgres',
      connectionString: await postgres().createIsolatedSchema(),
    }
    const clusters = { psat: { demo: { world } }, satReview: { legacy: world } }
    // Two processes behind one Service share the CA volume and the database, nothing else:
    // each has its own connection pool, and neither caches records.
    first = await startServer({ clusters, dataStore })
    second = await startServer({ clusters, dataStore, dataDir: first.dataDir })
  })

  afterAll(async () => {
    await second?.close()
    await first?.close()
  })

  it('serve the same agents: one records, the other sees, bans, and is obeyed', async () => {
    expect(second.ca.bundle().pem).toBe(first.ca.bundle().pem)
    const pod = world.newAgentPod()
    const attested = await first.attest('k8s_psat', 'demo', pod.token, (await newAgentKey()).csrPem)
    expect(attested.status).toBe(200)
    const spiffeId = attested.body.spiffe_id as string

    const shown = await second.request('GET', `/v1/admin/agents/${encodeURIComponent(spiffeId)}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    expect(shown.status).toBe(200)
    expect(shown.body).toMatchObject({ spiffe_id: spiffeId, svid_serial: expect.any(String), banned: false })

    const banned = await second.request('POST', `/v1/admin/agents/${encodeURIComponent(spiffeId)}/ban`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    expect(banned.status).toBe(200)
    expectProblem(
      await first.attest('k8s_psat', 'demo', world.tokenFor(pod), (await newAgentKey()).csrPem),
      403,
      'ATT_ERR_AGENT_BANNED',
    )
  })

  it('refuse a k8s_sat token on one that the other has already accepted', async () => {
    const token = world.api.createLegacyTokenSecret('spire', 'records-two-servers', 'spire-agent')
    expect((await first.attest('k8s_sat', 'legacy', token, (await newAgentKey()).csrPem)).status).toBe(200)
    expectProblem(
      await second.attest('k8s_sat', 'legacy', token, (await newAgentKey()).csrPem),
      403,
      'ATT_ERR_TOKEN_REPLAYED',
    )
  })
})
