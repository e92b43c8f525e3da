import { inspect } from 'node:util'
import { describe, expect, test } from 'vitest'
import { useTestPostgres } from '../../test/fixtures/postgres.ts'
import type { AgentStore } from './agent-store.ts'
import { MIGRATIONS } from './migrations.ts'
import { describeSeedAgentsContract } from './test-support/seed-contract.ts'
import {
  attestation,
  type DatabaseLocation,
  describeAgentStoreContract,
  expectDatastoreError,
  fingerprintOf,
  trackResources,
} from './test-support/store-contract.ts'

const postgres = useTestPostgres()

/** An empty schema per test (see createIsolatedSchema): to the store, a database of its own. */
const newDatabase = async (): Promise<DatabaseLocation> => ({
  databaseType: 'postgres',
  connectionString: await postgres().createIsolatedSchema(),
})

describeAgentStoreContract({ databaseType: 'postgres', newDatabase })
describeSeedAgentsContract({ databaseType: 'postgres', newDatabase })

describe('PostgreSQL: several servers on one database', () => {
  const resources = trackResources()

  /** Two stores with pools of their own on one database: two server processes, as far as PostgreSQL can tell. */
  async function twoServers(): Promise<[AgentStore, AgentStore]> {
    const location = await newDatabase()
    return [await resources.open(location), await resources.open(location)]
  }

  test('each sees the other’s writes at once: records, bans, evictions and claims', async () => {
    const [a, b] = await twoServers()
    const input = attestation('node-1')
    await a.recordAttestation(input)
    expect((await b.getAgent(input.spiffeId))?.spiffeId).toBe(input.spiffeId)

    await b.banAgent(input.spiffeId)
    expect((await a.recordAttestation(input)).outcome).toBe('banned')
    expect(await a.countAgents()).toEqual({ active: 0, expired: 0, banned: 1 })

    await a.evictAgent(input.spiffeId)
    expect(await b.getAgent(input.spiffeId)).toBeUndefined()

    expect(await b.claimSatToken(fingerprintOf('spent.once'))).toBe(true)
    expect(await a.claimSatToken(fingerprintOf('spent.once'))).toBe(false)
  })

  test('of concurrent claims of one token on both, exactly one wins', async () => {
    const [a, b] = await twoServers()
    const fingerprint = fingerprintOf('raced.across.servers')
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, index) => (index % 2 === 0 ? a : b).claimSatToken(fingerprint)),
    )
    expect(results.filter(Boolean)).toHaveLength(1)
  })

  test('of concurrent first attestations of one k8s_sat agent on both, exactly one is recorded', async () => {
    const [a, b] = await twoServers()
    const input = attestation('sat-node', { attestor: 'k8s_sat' })
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        (index % 2 === 0 ? a : b).recordAttestation(
          { ...input, svidSerial: (index + 1).toString(16) },
          { allowReattestation: false },
        ),
      ),
    )
    const recorded = results.filter((result) => result.outcome === 'recorded')
    expect(recorded).toHaveLength(1)
    expect(results.filter((result) => result.outcome === 'already_attested')).toHaveLength(5)
    expect(await a.getAgent(input.spiffeId)).toEqual(recorded[0]?.agent)
  })

  test('concurrent re-attestations keep one consistent set of selectors', async () => {
    const [a, b] = await twoServers()
    const input = attestation('node-1')
    await a.recordAttestation(input)
    const variants = Array.from({ length: 6 }, (_, index) => ({
      ...input,
      selectors: [{ type: 'k8s_psat', value: `agent_pod_name:spire-agent-${index}` }],
      svidSerial: (index + 1).toString(16),
    }))
    await Promise.all(variants.map((variant, index) => (index % 2 === 0 ? a : b).recordAttestation(variant)))
    const stored = await b.getAgent(input.spiffeId)
    // Whichever write came last, its selectors and its SVID are stored together, and nothing of the others.
    const winner = variants.find((variant) => variant.svidSerial === stored?.svidSerial)
    expect(stored?.selectors).toEqual(winner?.selectors)
  })

  test('a ban racing re-attestations is never undone by them', async () => {
    const [a, b] = await twoServers()
    const input = attestation('node-1')
    await a.recordAttestation(input)
    const [, ...attempts] = await Promise.all([
      b.banAgent(input.spiffeId),
      ...Array.from({ length: 5 }, () => a.recordAttestation(input)),
    ])
    expect((await a.getAgent(input.spiffeId))?.banned).toBe(true)
    for (const attempt of attempts) expect(['recorded', 'banned']).toContain(attempt.outcome)
    expect((await a.recordAttestation(input)).outcome).toBe('banned')
  })

  test('servers starting together on a new database migrate it exactly once', async () => {
    const location: DatabaseLocation = {
      databaseType: 'postgres',
      connectionString: await postgres().createDatabase(),
    }
    const stores = await Promise.all(Array.from({ length: 4 }, () => resources.open(location)))
    await stores[0]?.recordAttestation(attestation('node-1'))
    expect((await stores[3]?.listAgents())?.agents).toHaveLength(1)
    const database = await resources.openRaw(location)
    const { rows } = await database.query({
      text: 'SELECT version FROM schema_migrations ORDER BY version',
      values: [],
    })
    expect(rows.map((row) => row.version)).toEqual(MIGRATIONS.map((migration) => migration.version))
  })
})

describe('PostgreSQL: connection failures', () => {
  const resources = trackResources()
  const password = 'hunter2-s3cr3t'

  /** The test server's URL with `changes` applied. */
  async function variantOf(changes: (url: URL) => void): Promise<string> {
    const url = new URL((await newDatabase()).connectionString)
    changes(url)
    return url.toString()
  }

  /** Opening must fail with `code`, and nothing reachable from the error may quote the password. */
  async function expectRefusal(connectionString: string, code: string) {
    const error = await expectDatastoreError(
      resources.open({ databaseType: 'postgres', connectionString }),
      code,
    )
    expect(inspect(error, { depth: 10 })).not.toContain(password)
    expect(JSON.stringify(error)).not.toContain(password)
    return error
  }

  test('a wrong password is "unreachable", naming the server and database, never the password', async () => {
    const connectionString = await variantOf((url) => {
      url.password = password
    })
    const database = new URL(connectionString).pathname.slice(1)
    const error = await expectRefusal(connectionString, 'ATT_ERR_DATASTORE_UNREACHABLE')
    expect(error.message).toMatch(
      new RegExp(
        `^PostgreSQL 127\\.0\\.0\\.1:\\d+/${database}: password authentication failed for user "\\w+" \\(28P01\\)$`,
      ),
    )
    expect(error.details).toMatchObject({
      databaseType: 'postgres',
      target: expect.stringContaining(database),
    })
  })

  test('a port nobody listens on is "unreachable"', async () => {
    const connectionString = await variantOf((url) => {
      url.password = password
      url.port = '1'
    })
    const error = await expectRefusal(connectionString, 'ATT_ERR_DATASTORE_UNREACHABLE')
    expect(error.message).toMatch(/^PostgreSQL 127\.0\.0\.1:1\/\w+: connect ECONNREFUSED 127\.0\.0\.1:1/)
  })

  test('a database that does not exist is "unreachable"', async () => {
    const connectionString = await variantOf((url) => {
      url.pathname = '/no_such_database'
    })
    const error = await expectRefusal(connectionString, 'ATT_ERR_DATASTORE_UNREACHABLE')
    expect(error.message).toMatch(
      /^PostgreSQL 127\.0\.0\.1:\d+\/no_such_database: database "no_such_database" does not exist/,
    )
  })

  test('a malformed connection string is a config error that does not quote it', async () => {
    const error = await expectRefusal(
      `postgres://admin:${password}@[bad-host/agents`,
      'ATT_ERR_DATASTORE_CONFIG_INVALID',
    )
    expect(error.details).toMatchObject({ databaseType: 'postgres', check: 'connection_string' })
  })

  test('a connection lost between two statements of a transaction fails it, without crashing the process', async () => {
    const { connectionString } = await newDatabase()
    const warnings: string[] = []
    const database = await resources.openRaw(
      { databaseType: 'postgres', connectionString },
      { warn: (_details, message) => warnings.push(message) },
    )
    const killer = await resources.openRaw({ databaseType: 'postgres', connectionString })
    const lost = database.transaction(async (session) => {
      const { rows } = await session.query({ text: 'SELECT pg_backend_pid() AS pid', values: [] })
      const pid = (rows[0] as { pid: number }).pid
      await killer.query({ text: 'SELECT pg_terminate_backend($1)', values: [pid] })
      // Long enough for the termination to reach the idle, checked-out connection as an 'error' event.
      await new Promise((resolve) => setTimeout(resolve, 300))
      await session.query({ text: 'SELECT 1', values: [] })
    })
    await expectDatastoreError(lost, 'ATT_ERR_DATASTORE_UNREACHABLE')
    // The dead connection was discarded: the next statement gets a live one.
    expect((await database.query({ text: 'SELECT 1 AS one', values: [] })).rows).toEqual([{ one: 1 }])
    expect(warnings).toEqual([
      expect.stringMatching(/failed inside a transaction; the transaction fails$/),
      expect.stringMatching(/^rollback on .* failed; the connection is discarded$/),
    ])
  })

  test('a statement that waits longer than statementTimeoutMs fails with "timeout"', async () => {
    const { connectionString } = await newDatabase()
    const store = await resources.open({ databaseType: 'postgres', connectionString })
    const database = await resources.openRaw({ databaseType: 'postgres', connectionString })
    // Hold the agent's row lock in one transaction so the store's ban has to wait for it.
    const input = attestation('node-1')
    await store.recordAttestation(input)
    let release: () => void = () => {}
    const held = database.transaction(async (session) => {
      await session.execScript(`SELECT 1 FROM agents FOR UPDATE`)
      await new Promise<void>((resolve) => {
        release = resolve
      })
    })
    const impatient = await resources.open({ databaseType: 'postgres', connectionString }, undefined, {
      // Far above what opening takes, far below forever: the lock is held until released below.
      statementTimeoutMs: 50,
    })
    await expectDatastoreError(impatient.banAgent(input.spiffeId), 'ATT_ERR_DATASTORE_TIMEOUT')
    release()
    await held
    expect((await store.getAgent(input.spiffeId))?.banned).toBe(false)
  })
})
