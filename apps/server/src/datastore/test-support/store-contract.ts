import { createHash } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import type {
  AgentRecord,
  AgentStore,
  AttestationInput,
  ListAgentsQuery,
  RecordAttestationResult,
} from '../agent-store.ts'
import type { DatabaseType, DatastoreError } from '../datastore-error.ts'
import type { DatastoreLogger } from '../datastore-logger.ts'
import { MIGRATIONS, migrate } from '../migrations.ts'
import { type AgentStoreConfig, openAgentStore } from '../open-agent-store.ts'
import { openPostgresDatabase } from '../postgres-database.ts'
import type { SqlDatabase } from '../sql-database.ts'
import { openSqliteDatabase } from '../sqlite-database.ts'

/*
 * The behaviour every AgentStore engine must have, written once and run
 * against SQLite and PostgreSQL (sqlite-store.integration.test.ts,
 * postgres-store.integration.test.ts). Each test gets a new, empty database.
 */

/** Where a database for one test is, as `openAgentStore` takes it. */
export type DatabaseLocation = Pick<AgentStoreConfig, 'databaseType' | 'connectionString'>

/** The engine under test. */
export interface StoreContractSubject {
  readonly databaseType: DatabaseType
  /** A new, empty database (a new file, or CREATE DATABASE). */
  newDatabase(): Promise<DatabaseLocation>
}

/** A clock the test moves by hand. */
export interface ManualClock {
  readonly now: () => Date
  advance(milliseconds: number): void
}

/** A {@link ManualClock} starting at `start`. */
export function manualClock(start = new Date('2026-03-01T12:00:00.000Z')): ManualClock {
  let current = start.getTime()
  return {
    now: () => new Date(current),
    advance: (milliseconds) => {
      current += milliseconds
    },
  }
}

/** A logger that fails the test: nothing the contract does should need one. */
export const failingLogger: DatastoreLogger = {
  warn(details, message) {
    throw new Error(`unexpected datastore warning: ${message} ${JSON.stringify(details)}`)
  },
}

const MINUTE = 60_000
const HOUR = 60 * MINUTE

/** Stores and databases opened by a test, closed after it whatever the outcome. */
export function trackResources(): {
  open(
    location: DatabaseLocation,
    clock?: ManualClock,
    options?: Partial<AgentStoreConfig>,
  ): Promise<AgentStore>
  openRaw(location: DatabaseLocation, logger?: DatastoreLogger): Promise<SqlDatabase>
} {
  const closers: (() => Promise<void>)[] = []
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()))
  })
  return {
    async open(location, clock = manualClock(), options = {}) {
      const store = await openAgentStore({ ...options, ...location, now: clock.now, logger: failingLogger })
      closers.push(() => store.close())
      return store
    },
    async openRaw(location, logger = failingLogger) {
      const database =
        location.databaseType === 'sqlite3'
          ? openSqliteDatabase(location.connectionString, { busyTimeoutMs: 5000, logger })
          : await openPostgresDatabase(location.connectionString, {
              maxConnections: 2,
              connectTimeoutMs: 5000,
              statementTimeoutMs: 10_000,
              logger,
            })
      closers.push(() => database.close())
      return database
    },
  }
}

/** An attestation of agent `name` in cluster `cluster`, with selectors derived from both. */
export function attestation(name: string, overrides: Partial<AttestationInput> = {}): AttestationInput {
  const cluster = overrides.cluster ?? 'prod'
  return {
    spiffeId: `spiffe://example.org/spire/agent/k8s_psat/${cluster}/${name}`,
    attestor: 'k8s_psat',
    cluster,
    selectors: [
      { type: 'k8s_psat', value: `cluster:${cluster}` },
      { type: 'k8s_psat', value: 'agent_ns:spire' },
      { type: 'k8s_psat', value: `agent_node_name:${name}` },
    ],
    svidSerial: 'ab01',
    svidExpiresAt: new Date('2026-03-01T13:00:00.000Z'),
    ...overrides,
  }
}

/** SHA-256 of `token` in hex, as the attestation flow fingerprints SAT tokens. */
export function fingerprintOf(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** Every agent the listing returns, page after page, with the page sizes seen. */
export async function listAll(
  store: AgentStore,
  query: Omit<ListAgentsQuery, 'pageToken'>,
): Promise<{ agents: AgentRecord[]; pageSizes: number[] }> {
  const agents: AgentRecord[] = []
  const pageSizes: number[] = []
  let pageToken: string | undefined
  // Bounded: 120 agents at page size 1 would be 120 pages; more means the token never ends.
  for (let page = 0; page < 200; page += 1) {
    const result = await store.listAgents({ ...query, ...(pageToken !== undefined && { pageToken }) })
    agents.push(...result.agents)
    pageSizes.push(result.agents.length)
    if (result.nextPageToken === undefined) return { agents, pageSizes }
    pageToken = result.nextPageToken
  }
  throw new Error('listAgents kept returning nextPageToken')
}

/** The agent of a `recorded` outcome; any other outcome fails the test. */
export function recordedAgent(result: RecordAttestationResult): AgentRecord {
  if (result.outcome !== 'recorded')
    throw new Error(`expected the attestation recorded, got "${result.outcome}"`)
  return result.agent
}

/** Asserts that `promise` rejects with a DatastoreError of `code`, and returns it. */
export async function expectDatastoreError(promise: Promise<unknown>, code: string): Promise<DatastoreError> {
  const error = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  )
  expect(error).toMatchObject({ name: 'DatastoreError', code })
  return error as DatastoreError
}

const ids = (agents: readonly AgentRecord[]) => agents.map((agent) => agent.spiffeId)

/** Registers the contract's tests for `subject`. */
export function describeAgentStoreContract(subject: StoreContractSubject): void {
  describe(`AgentStore contract on ${subject.databaseType}`, () => {
    const resources = trackResources()
    const newStore = async (clock?: ManualClock) => resources.open(await subject.newDatabase(), clock)

    describe('recordAttestation and getAgent', () => {
      test('records a new agent and reads it back, in stored form', async () => {
        const clock = manualClock()
        const store = await newStore(clock)
        const input = attestation('node-1', {
          // Duplicates and any order in; sorted and unique out. Serial any case, leading zeros.
          selectors: [
            { type: 'k8s_psat', value: 'cluster:prod' },
            { type: 'k8s_psat', value: 'agent_ns:spire' },
            { type: 'k8s_psat', value: 'cluster:prod' },
          ],
          svidSerial: '00AbC1',
        })
        const result = await store.recordAttestation(input)
        const expected: AgentRecord = {
          spiffeId: input.spiffeId,
          attestor: 'k8s_psat',
          cluster: 'prod',
          selectors: [
            { type: 'k8s_psat', value: 'agent_ns:spire' },
            { type: 'k8s_psat', value: 'cluster:prod' },
          ],
          svidSerial: 'abc1',
          svidExpiresAt: input.svidExpiresAt,
          firstAttestedAt: clock.now(),
          lastAttestedAt: clock.now(),
          banned: false,
        }
        expect(result).toEqual({ outcome: 'recorded', agent: expected })
        expect(await store.getAgent(input.spiffeId)).toEqual(expected)
      })

      test('getAgent resolves undefined for an unknown SPIFFE ID', async () => {
        const store = await newStore()
        expect(await store.getAgent('spiffe://example.org/spire/agent/k8s_psat/prod/nobody')).toBeUndefined()
      })

      test('records an agent without selectors', async () => {
        const store = await newStore()
        const input = attestation('bare', { attestor: 'k8s_sat', selectors: [] })
        await store.recordAttestation(input)
        expect(await store.getAgent(input.spiffeId)).toMatchObject({ attestor: 'k8s_sat', selectors: [] })
      })

      test('re-attestation keeps firstAttestedAt, moves lastAttestedAt and replaces selectors and SVID', async () => {
        const clock = manualClock()
        const store = await newStore(clock)
        const first = attestation('node-1')
        await store.recordAttestation(first)
        const firstAttestedAt = clock.now()

        clock.advance(90 * MINUTE)
        const second = attestation('node-1', {
          selectors: [{ type: 'k8s_psat', value: 'agent_pod_name:spire-agent-x7' }],
          svidSerial: 'cd02',
          svidExpiresAt: new Date(clock.now().getTime() + HOUR),
        })
        const result = await store.recordAttestation(second)

        const expected = {
          spiffeId: first.spiffeId,
          selectors: [{ type: 'k8s_psat', value: 'agent_pod_name:spire-agent-x7' }],
          svidSerial: 'cd02',
          svidExpiresAt: second.svidExpiresAt,
          firstAttestedAt,
          lastAttestedAt: clock.now(),
          banned: false,
        }
        expect(result).toMatchObject({ outcome: 'recorded', agent: expected })
        expect(await store.getAgent(first.spiffeId)).toMatchObject(expected)
        // The old selectors are gone from the index too, not only from the record.
        const byOldSelector = await store.listAgents({
          selectors: [{ type: 'k8s_psat', value: 'cluster:prod' }],
        })
        expect(byOldSelector.agents).toEqual([])
      })

      test('re-attestation with the same, a swapped, a larger, a smaller, an empty or a very large set of selectors stores exactly that set', async () => {
        const store = await newStore()
        const first = attestation('node-2')
        await store.recordAttestation(first)
        // More selectors than one statement checks at once: always rewritten, still exact.
        const many = Array.from({ length: 205 }, (_, index) => ({
          type: 'k8s_psat',
          value: `agent_node_label:l${String(index).padStart(3, '0')}:v`,
        }))
        const sets = [
          first.selectors,
          // As many selectors as before, one of them different: not taken for the same set.
          [...first.selectors.slice(0, 2), { type: 'k8s_psat', value: 'agent_node_uid:u-2' }],
          [...first.selectors, { type: 'k8s_psat', value: 'agent_node_uid:u-2' }],
          // A subset of the stored ones: every selector matches, the stored count does not.
          first.selectors.slice(0, 1),
          [],
          first.selectors,
          many,
          many,
          first.selectors,
        ]
        for (const selectors of sets) {
          await store.recordAttestation({ ...first, selectors })
          const stored = (await store.getAgent(first.spiffeId))?.selectors ?? []
          expect(new Set(stored.map(({ value }) => value))).toEqual(
            new Set(selectors.map(({ value }) => value)),
          )
          const byUid = await store.listAgents({
            selectors: [{ type: 'k8s_psat', value: 'agent_node_uid:u-2' }],
          })
          expect(byUid.agents.length).toBe(
            selectors.some(({ value }) => value === 'agent_node_uid:u-2') ? 1 : 0,
          )
        }
      })

      test('allowReattestation: false refuses an agent that has a record, and leaves it unchanged', async () => {
        const clock = manualClock()
        const store = await newStore(clock)
        const input = attestation('sat-node', { attestor: 'k8s_sat' })
        const created = await store.recordAttestation(input, { allowReattestation: false })
        expect(created.outcome).toBe('recorded')

        clock.advance(MINUTE)
        const again = await store.recordAttestation(
          { ...input, svidSerial: 'ffff' },
          { allowReattestation: false },
        )
        const agent = recordedAgent(created)
        expect(again).toEqual({ outcome: 'already_attested', agent })
        expect(await store.getAgent(input.spiffeId)).toEqual(agent)
      })

      test('rejects malformed input with a TypeError naming the field', async () => {
        const store = await newStore()
        await expect(
          store.recordAttestation(attestation('x', { spiffeId: 'example.org/x' })),
        ).rejects.toThrow(
          new TypeError(
            '"input.spiffeId" must be a SPIFFE ID (invalid SPIFFE ID "example.org/x": the scheme must be "spiffe" followed by "://" (lowercase))',
          ),
        )
        await expect(store.recordAttestation(attestation('x', { svidSerial: 'xyz' }))).rejects.toThrow(
          new TypeError('"input.svidSerial" must be 1 to 40 hex digits, got "xyz"'),
        )
        await expect(
          store.recordAttestation(attestation('x', { svidExpiresAt: new Date(Number.NaN) })),
        ).rejects.toThrow(new TypeError('"input.svidExpiresAt" must be a valid Date, got an invalid Date'))
        await expect(
          store.recordAttestation(attestation('x', { selectors: [{ type: '', value: 'v' }] })),
        ).rejects.toThrow(
          new TypeError(
            '"input.selectors[0]" must be { type: non-empty string, value: string }, got an object',
          ),
        )
        expect((await store.listAgents()).agents).toEqual([])
      })
    })

    describe('ban and evict', () => {
      test('a banned agent is refused attestation and renewal, and its record stays as it was', async () => {
        const clock = manualClock()
        const store = await newStore(clock)
        const input = attestation('node-1')
        await store.recordAttestation(input)
        expect(await store.banAgent(input.spiffeId)).toBe(true)
        const banned = await store.getAgent(input.spiffeId)
        expect(banned?.banned).toBe(true)

        clock.advance(MINUTE)
        const attempt = await store.recordAttestation({ ...input, svidSerial: 'ee05', selectors: [] })
        expect(attempt).toEqual({ outcome: 'banned', agent: banned })
        const renewal = await store.updateSvid(input.spiffeId, { serial: 'ee06', expiresAt: clock.now() })
        expect(renewal).toEqual({ outcome: 'banned', agent: banned })
        expect(await store.getAgent(input.spiffeId)).toEqual(banned)
      })

      test('banAgent and evictAgent resolve false for an unknown agent', async () => {
        const store = await newStore()
        expect(await store.banAgent('spiffe://example.org/nobody')).toBe(false)
        expect(await store.evictAgent('spiffe://example.org/nobody')).toBe(false)
      })

      test('an evicted agent, banned or not, may attest again and starts a new record', async () => {
        const clock = manualClock()
        const store = await newStore(clock)
        const input = attestation('node-1')
        await store.recordAttestation(input)
        await store.banAgent(input.spiffeId)

        expect(await store.evictAgent(input.spiffeId)).toBe(true)
        expect(await store.getAgent(input.spiffeId)).toBeUndefined()
        expect(await store.evictAgent(input.spiffeId)).toBe(false)

        clock.advance(HOUR)
        const result = await store.recordAttestation(input, { allowReattestation: false })
        expect(result).toMatchObject({
          outcome: 'recorded',
          agent: { banned: false, firstAttestedAt: clock.now(), lastAttestedAt: clock.now() },
        })
      })

      test('evicting deletes the agent selectors with it', async () => {
        const store = await newStore()
        const input = attestation('node-1')
        await store.recordAttestation(input)
        await store.evictAgent(input.spiffeId)
        // Re-attesting without selectors shows none left behind by the evicted record.
        await store.recordAttestation({ ...input, selectors: [] })
        expect((await store.getAgent(input.spiffeId))?.selectors).toEqual([])
      })
    })

    describe('updateSvid', () => {
      test('records the renewed SVID and leaves the attestation times alone', async () => {
        const clock = manualClock()
        const store = await newStore(clock)
        const input = attestation('node-1')
        const agent = recordedAgent(await store.recordAttestation(input))

        clock.advance(30 * MINUTE)
        const expiresAt = new Date(clock.now().getTime() + HOUR)
        const result = await store.updateSvid(input.spiffeId, { serial: '0BEEF', expiresAt })
        const expected = { ...agent, svidSerial: 'beef', svidExpiresAt: expiresAt }
        expect(result).toEqual({ outcome: 'updated', agent: expected })
        expect(await store.getAgent(input.spiffeId)).toEqual(expected)
      })

      test('resolves not_found for an unknown agent', async () => {
        const store = await newStore()
        expect(
          await store.updateSvid('spiffe://example.org/nobody', { serial: '1', expiresAt: new Date() }),
        ).toEqual({
          outcome: 'not_found',
        })
      })

      test('with replacesSerial, only the current SVID can be renewed', async () => {
        const store = await newStore()
        const input = attestation('node-1', { svidSerial: 'a1' })
        await store.recordAttestation(input)
        const expiresAt = new Date('2026-03-01T14:00:00.000Z')

        const renewed = await store.updateSvid(input.spiffeId, {
          serial: 'b2',
          expiresAt,
          replacesSerial: 'A1',
        })
        expect(renewed).toMatchObject({ outcome: 'updated', agent: { svidSerial: 'b2' } })
        // A second renewal presenting the old SVID lost the race.
        const stale = await store.updateSvid(input.spiffeId, {
          serial: 'c3',
          expiresAt,
          replacesSerial: 'a1',
        })
        expect(stale).toMatchObject({ outcome: 'serial_mismatch', agent: { svidSerial: 'b2' } })
        expect((await store.getAgent(input.spiffeId))?.svidSerial).toBe('b2')
      })

      test('of concurrent renewals of the same SVID, exactly one wins', async () => {
        const store = await newStore()
        const input = attestation('node-1', { svidSerial: 'a1' })
        await store.recordAttestation(input)
        const expiresAt = new Date('2026-03-01T14:00:00.000Z')
        const serials = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7', 'b8']
        // Open the pool's connections first, so that the renewals below start together instead of
        // one connection handshake apart (which would serialize them and hide a missing lock).
        await Promise.all(serials.map(() => store.ping()))
        const results = await Promise.all(
          serials.map((serial) =>
            store.updateSvid(input.spiffeId, { serial, expiresAt, replacesSerial: 'a1' }),
          ),
        )
        const winners = results.filter((result) => result.outcome === 'updated')
        expect(winners).toHaveLength(1)
        expect(results.filter((result) => result.outcome === 'serial_mismatch')).toHaveLength(
          serials.length - 1,
        )
        expect((await store.getAgent(input.spiffeId))?.svidSerial).toBe(
          winners[0]?.outcome === 'updated' ? winners[0].agent.svidSerial : undefined,
        )
      })
    })

    describe('listAgents', () => {
      /** 120 agents: 80 in cluster "prod" (every 4th of them banned), 40 in "dev" over k8s_sat. */
      async function seed(store: AgentStore): Promise<AgentRecord[]> {
        const agents: AgentRecord[] = []
        for (let index = 0; index < 120; index += 1) {
          const name = `node-${String(index).padStart(3, '0')}`
          const input =
            index < 80 ? attestation(name) : attestation(name, { cluster: 'dev', attestor: 'k8s_sat' })
          const result = await store.recordAttestation(input)
          if (result.outcome !== 'recorded') throw new Error(`seeding ${name} was refused: ${result.outcome}`)
          if (index < 80 && index % 4 === 0) await store.banAgent(input.spiffeId)
          agents.push({ ...result.agent, banned: index < 80 && index % 4 === 0 })
        }
        return agents.sort((a, b) => (a.spiffeId < b.spiffeId ? -1 : 1))
      }

      // The read-only tests share one seeded store: seeding is most of their cost.
      let seeded: { store: AgentStore; agents: AgentRecord[] } | undefined
      beforeAll(async () => {
        const store = await openAgentStore({ ...(await subject.newDatabase()), logger: failingLogger })
        seeded = { store, agents: await seed(store) }
      })
      afterAll(async () => {
        await seeded?.store.close()
      })
      const seededStore = () => {
        if (seeded === undefined) throw new Error('the seeded store exists in tests only')
        return seeded
      }

      test('pages through every agent in SPIFFE ID order, 50 by default, with no token after the last page', async () => {
        const { store, agents } = seededStore()
        const { agents: listed, pageSizes } = await listAll(store, {})
        expect(pageSizes).toEqual([50, 50, 20])
        expect(listed).toEqual(agents)
      })

      test('a page size that divides the total ends without an empty page', async () => {
        const { store } = seededStore()
        expect((await listAll(store, { pageSize: 40 })).pageSizes).toEqual([40, 40, 40])
        expect((await listAll(store, { pageSize: 1000 })).pageSizes).toEqual([120])
      })

      const filters: [string, ListAgentsQuery, (agent: AgentRecord) => boolean][] = [
        ['cluster', { cluster: 'dev' }, (agent) => agent.cluster === 'dev'],
        ['attestor', { attestor: 'k8s_psat' }, (agent) => agent.attestor === 'k8s_psat'],
        [
          'one selector',
          { selectors: [{ type: 'k8s_psat', value: 'cluster:prod' }] },
          (agent) => agent.cluster === 'prod',
        ],
        [
          'several selectors, all of which must match',
          {
            selectors: [
              { type: 'k8s_psat', value: 'agent_ns:spire' },
              { type: 'k8s_psat', value: 'agent_node_name:node-007' },
            ],
          },
          (agent) => agent.spiffeId.endsWith('/node-007'),
        ],
        ['banned', { banned: true }, (agent) => agent.banned],
        ['not banned', { banned: false }, (agent) => !agent.banned],
        [
          'cluster, attestor, selector and banned together',
          {
            cluster: 'prod',
            attestor: 'k8s_psat',
            selectors: [{ type: 'k8s_psat', value: 'agent_ns:spire' }],
            banned: false,
          },
          (agent) => agent.cluster === 'prod' && !agent.banned,
        ],
        ['a cluster nobody is in', { cluster: 'staging' }, () => false],
      ]
      test.each(filters)('filters by %s across pages', async (_name, query, matches) => {
        const { store, agents: all } = seededStore()
        const expected = all.filter(matches)
        const { agents, pageSizes } = await listAll(store, { ...query, pageSize: 15 })
        expect(ids(agents)).toEqual(ids(expected))
        expect(agents).toEqual(expected)
        expect(pageSizes.every((size) => size <= 15)).toBe(true)
      })

      test('a page token is refused with other filters, and when it was not issued by listAgents', async () => {
        const { store } = seededStore()
        const first = await store.listAgents({ cluster: 'prod', pageSize: 10 })
        const pageToken = first.nextPageToken
        expect(pageToken).toBeTypeOf('string')

        const otherFilters = await expectDatastoreError(
          store.listAgents({ cluster: 'dev', pageSize: 10, ...(pageToken !== undefined && { pageToken }) }),
          'ATT_ERR_DATASTORE_PAGE_TOKEN_INVALID',
        )
        expect(otherFilters.message).toBe(
          'pageToken was issued for different filters; repeat the filters of the first page, or start again without a token',
        )
        // The page size may change between pages: it is not a filter.
        const second = await store.listAgents({
          cluster: 'prod',
          pageSize: 5,
          ...(pageToken !== undefined && { pageToken }),
        })
        expect((second.agents[0]?.spiffeId ?? '') > (first.agents.at(-1)?.spiffeId ?? '')).toBe(true)

        for (const garbage of ['', 'not a token', Buffer.from('{"v":1}').toString('base64url')]) {
          const error = await expectDatastoreError(
            store.listAgents({ pageToken: garbage }),
            'ATT_ERR_DATASTORE_PAGE_TOKEN_INVALID',
          )
          expect(error.message).toBe(
            'pageToken is not a token issued by listAgents; pass nextPageToken of the previous page unchanged',
          )
        }
      })

      test('agents created behind the cursor are not seen, and the others are not shifted', async () => {
        const store = await newStore()
        await seed(store)
        const first = await store.listAgents({ pageSize: 50 })
        // Sorts before every seeded agent, so it lands on the page already read.
        await store.recordAttestation(attestation('a-latecomer', { cluster: 'dev' }))
        const rest = await listAll(store, {})
        const pageToken = first.nextPageToken
        const second = await store.listAgents({ pageSize: 50, ...(pageToken !== undefined && { pageToken }) })
        expect(ids(second.agents)).toEqual(ids(rest.agents).slice(51, 101))
      })

      test('sorts by last attestation or SVID expiry, either way, ties by SPIFFE ID, across pages, with and without selector filters', async () => {
        const clock = manualClock()
        const store = await newStore(clock)
        const recorded: AgentRecord[] = []
        const zone = { type: 'k8s_psat', value: 'agent_node_label:zone:a' }
        for (let index = 0; index < 23; index += 1) {
          // Three agents per attestation instant and per expiry, so ties span page boundaries.
          if (index % 3 === 0) clock.advance(MINUTE)
          const expiresAt = new Date(clock.now().getTime() + ((index * 7) % 5) * HOUR)
          const input = attestation(`node-${String((index * 11) % 23).padStart(2, '0')}`, {
            svidExpiresAt: expiresAt,
          })
          // Every other agent in zone a: a selector filter that leaves gaps in every order.
          const result = await store.recordAttestation(
            index % 2 === 0 ? { ...input, selectors: [...input.selectors, zone] } : input,
          )
          if (result.outcome !== 'recorded') throw new Error(`seeding was refused: ${result.outcome}`)
          recorded.push(result.agent)
        }
        const byKey =
          (key: (agent: AgentRecord) => number | string, descending: boolean) =>
          (a: AgentRecord, b: AgentRecord) => {
            const [x, y] = descending ? [b, a] : [a, b]
            const [kx, ky] = [key(x), key(y)]
            if (kx !== ky) return kx < ky ? -1 : 1
            return x.spiffeId < y.spiffeId ? -1 : x.spiffeId > y.spiffeId ? 1 : 0
          }
        const keys = {
          spiffe_id: (agent: AgentRecord) => agent.spiffeId,
          last_attested_at: (agent: AgentRecord) => agent.lastAttestedAt.getTime(),
          svid_expires_at: (agent: AgentRecord) => agent.svidExpiresAt.getTime(),
        } as const
        const inZone = (agent: AgentRecord) =>
          agent.selectors.some((selector) => selector.value === zone.value)
        const selectorFilters = [
          [],
          [zone],
          [zone, { type: 'k8s_psat', value: 'agent_ns:spire' }],
          [{ type: 'k8s_psat', value: 'agent_ns:spire' }, zone],
        ]
        for (const sort of ['spiffe_id', 'last_attested_at', 'svid_expires_at'] as const) {
          for (const descending of [false, true]) {
            for (const selectors of selectorFilters) {
              const expected = recorded
                .filter((agent) => selectors.length === 0 || inZone(agent))
                .sort(byKey(keys[sort], descending))
              const { agents, pageSizes } = await listAll(store, { sort, descending, selectors, pageSize: 4 })
              const order = `${sort} ${descending ? 'descending' : 'ascending'}, ${selectors.length} selectors`
              expect(agents, order).toEqual(expected)
              expect(pageSizes, order).toEqual(selectors.length === 0 ? [4, 4, 4, 4, 4, 3] : [4, 4, 4])
            }
          }
        }
      })

      test('filters by state by the store clock: attested, expired, banned', async () => {
        const clock = manualClock()
        const store = await newStore(clock)
        const inHours = (hours: number) => new Date(clock.now().getTime() + hours * HOUR)
        await store.recordAttestation(attestation('short', { svidExpiresAt: inHours(1) }))
        await store.recordAttestation(attestation('long', { svidExpiresAt: inHours(3) }))
        await store.recordAttestation(attestation('banned', { svidExpiresAt: inHours(3) }))
        await store.banAgent(attestation('banned').spiffeId)
        const inState = async (state: 'attested' | 'expired' | 'banned') =>
          ids((await listAll(store, { state, pageSize: 1 })).agents).map((id) => id.split('/').at(-1))
        expect(await inState('attested')).toEqual(['long', 'short'])
        expect(await inState('expired')).toEqual([])
        expect(await inState('banned')).toEqual(['banned'])
        clock.advance(HOUR) // The short SVID expires at exactly this instant.
        expect(await inState('attested')).toEqual(['long'])
        expect(await inState('expired')).toEqual(['short'])
      })

      test('searches SPIFFE IDs and selector values for a substring, ignoring case, wildcards literal', async () => {
        const { store, agents: all } = seededStore()
        const search = async (text: string, query: ListAgentsQuery = {}) =>
          ids((await listAll(store, { ...query, search: text, pageSize: 7 })).agents)
        // "node-01" is in the SPIFFE ID and the agent_node_name selector of node-010 … node-019.
        expect(await search('NODE-01')).toEqual(ids(all.filter((agent) => /node-01\d$/.test(agent.spiffeId))))
        expect(await search('cluster:dev')).toEqual(ids(all.filter((agent) => agent.cluster === 'dev')))
        expect(await search('dev', { banned: false, cluster: 'prod' })).toEqual([])
        expect(await search('%')).toEqual([])
        expect(await search('node_0')).toEqual([])
        expect(await search('\\')).toEqual([])
      })

      test('rejects an unknown state or sort key, and an empty or overlong search, with a TypeError', async () => {
        const store = await newStore()
        await expect(store.listAgents({ state: 'gone' as 'banned' })).rejects.toThrow(
          new TypeError('"query.state" must be one of attested, expired, banned, got "gone"'),
        )
        await expect(store.listAgents({ sort: 'cluster' as 'spiffe_id' })).rejects.toThrow(
          new TypeError(
            '"query.sort" must be one of spiffe_id, last_attested_at, svid_expires_at, got "cluster"',
          ),
        )
        for (const search of ['', 'x'.repeat(257)]) {
          await expect(store.listAgents({ search })).rejects.toThrow(
            /^"query.search" must be a string of 1 to 256 characters/,
          )
        }
      })

      test('rejects a page size outside 1 to 1000 with a TypeError', async () => {
        const store = await newStore()
        for (const pageSize of [0, 1001, 2.5, Number.NaN]) {
          await expect(store.listAgents({ pageSize })).rejects.toThrow(
            new TypeError(`"pageSize" must be an integer from 1 to 1000, got ${pageSize}`),
          )
        }
      })
    })

    test('countAgents counts active, expired and banned agents by the store clock', async () => {
      const clock = manualClock()
      const store = await newStore(clock)
      expect(await store.countAgents()).toEqual({ active: 0, expired: 0, banned: 0 })
      const inHours = (hours: number) => new Date(clock.now().getTime() + hours * HOUR)
      await store.recordAttestation(attestation('short', { svidExpiresAt: inHours(1) }))
      await store.recordAttestation(attestation('long-1', { svidExpiresAt: inHours(3) }))
      await store.recordAttestation(attestation('long-2', { svidExpiresAt: inHours(3) }))
      await store.recordAttestation(attestation('banned', { svidExpiresAt: inHours(3) }))
      await store.banAgent(attestation('banned').spiffeId)
      expect(await store.countAgents()).toEqual({ active: 3, expired: 0, banned: 1 })

      clock.advance(HOUR) // The short SVID expires at exactly this instant.
      expect(await store.countAgents()).toEqual({ active: 2, expired: 1, banned: 1 })
      clock.advance(3 * HOUR)
      expect(await store.countAgents()).toEqual({ active: 0, expired: 3, banned: 1 })
    })

    describe('SAT token claims', () => {
      test('the first claim of a token wins, every later one loses', async () => {
        const store = await newStore()
        const fingerprint = fingerprintOf('header.payload.signature')
        expect(await store.claimSatToken(fingerprint, new Date('2026-03-01T13:00:00.000Z'))).toBe(true)
        expect(await store.claimSatToken(fingerprint, new Date('2026-03-01T13:00:00.000Z'))).toBe(false)
        expect(await store.claimSatToken(fingerprint)).toBe(false)
        expect(await store.claimSatToken(fingerprintOf('another.token.here'))).toBe(true)
      })

      test('of concurrent claims of one token, exactly one wins', async () => {
        const store = await newStore()
        const fingerprint = fingerprintOf('raced.token.value')
        const results = await Promise.all(Array.from({ length: 8 }, () => store.claimSatToken(fingerprint)))
        expect(results.filter(Boolean)).toHaveLength(1)
      })

      test('a token spent with its record: both written, or neither', async () => {
        const store = await newStore()
        const fingerprint = fingerprintOf('recorded.with.claim')
        const first = attestation('sat-1', { attestor: 'k8s_sat' })
        const recorded = await store.recordAttestation(first, {
          allowReattestation: false,
          claimSatToken: { fingerprint },
        })
        expect(recorded.outcome).toBe('recorded')
        // A second agent with the spent token gets nothing stored.
        const second = attestation('sat-2', { attestor: 'k8s_sat' })
        expect(await store.recordAttestation(second, { claimSatToken: { fingerprint } })).toEqual({
          outcome: 'token_replayed',
        })
        expect(await store.getAgent(second.spiffeId)).toBeUndefined()
        // Refused as already attested: the token is left unspent.
        const unspent = fingerprintOf('left.unspent')
        const again = await store.recordAttestation(first, {
          allowReattestation: false,
          claimSatToken: { fingerprint: unspent },
        })
        expect(again.outcome).toBe('already_attested')
        expect(await store.claimSatToken(unspent)).toBe(true)
        expect(await store.claimSatToken(fingerprint)).toBe(false)
      })

      test('pruning deletes claims whose token has expired, and keeps the rest', async () => {
        const clock = manualClock()
        const store = await newStore(clock)
        const expired = fingerprintOf('expired')
        const current = fingerprintOf('current')
        const forever = fingerprintOf('no exp claim')
        await store.claimSatToken(expired, new Date(clock.now().getTime() + MINUTE))
        await store.claimSatToken(current, new Date(clock.now().getTime() + HOUR))
        await store.claimSatToken(forever)

        expect(await store.pruneSatTokenClaims()).toBe(0)
        clock.advance(MINUTE)
        expect(await store.pruneSatTokenClaims()).toBe(1)
        expect(await store.claimSatToken(current)).toBe(false)
        expect(await store.claimSatToken(forever)).toBe(false)
        // Once pruned, the fingerprint is unknown again: the token itself is rejected by TokenReview by now.
        expect(await store.claimSatToken(expired)).toBe(true)
      })

      test('evicting the agent a token attested releases that claim only; banning keeps it', async () => {
        const store = await newStore()
        const lost = attestation('lost-data-dir', { attestor: 'k8s_sat', selectors: [] })
        const other = attestation('other', { attestor: 'k8s_sat', selectors: [] })
        const [lostToken, otherToken, anonymous] = [
          fingerprintOf('lost'),
          fingerprintOf('other'),
          fingerprintOf('old'),
        ]
        expect(await store.claimSatToken(lostToken, undefined, lost.spiffeId)).toBe(true)
        expect(await store.claimSatToken(otherToken, undefined, other.spiffeId)).toBe(true)
        expect(await store.claimSatToken(anonymous)).toBe(true)
        await store.recordAttestation(lost)
        await store.recordAttestation(other)

        await store.banAgent(lost.spiffeId)
        expect(await store.claimSatToken(lostToken)).toBe(false)
        expect(await store.evictAgent(lost.spiffeId)).toBe(true)
        // Released once: the next claim (by the agent it becomes) is single-use again.
        expect(
          await store.claimSatToken(lostToken, undefined, other.spiffeId.replace('other', 'again')),
        ).toBe(true)
        expect(await store.claimSatToken(lostToken)).toBe(false)
        expect(await store.claimSatToken(otherToken)).toBe(false)
        expect(await store.claimSatToken(anonymous)).toBe(false)
        // Evicting an agent that is not there releases nothing.
        expect(await store.evictAgent(lost.spiffeId)).toBe(false)
        expect(await store.claimSatToken(otherToken)).toBe(false)
      })

      test('rejects a fingerprint that is not a SHA-256 in lowercase hex', async () => {
        const store = await newStore()
        await expect(store.claimSatToken(fingerprintOf('x').toUpperCase())).rejects.toThrow(TypeError)
        await expect(store.claimSatToken('raw.jwt.token')).rejects.toThrow(
          new TypeError(
            '"fingerprint" must be a SHA-256 digest as 64 lowercase hex digits, got "raw.jwt.token"',
          ),
        )
      })
    })

    describe('lifecycle', () => {
      test('close and reopen keeps every record, ban and claim', async () => {
        const clock = manualClock()
        const location = await subject.newDatabase()
        const before = await resources.open(location, clock)
        const agents = []
        for (const name of ['node-1', 'node-2', 'node-3']) {
          agents.push(recordedAgent(await before.recordAttestation(attestation(name))))
        }
        await before.banAgent(agents[1]?.spiffeId ?? '')
        await before.claimSatToken(fingerprintOf('spent'))
        const listedBefore = await before.listAgents()
        await before.close()

        const after = await resources.open(location, clock)
        expect(await after.listAgents()).toEqual(listedBefore)
        expect(listedBefore.agents.map((agent) => agent.banned)).toEqual([false, true, false])
        expect(await after.claimSatToken(fingerprintOf('spent'))).toBe(false)
      })

      test('migrations apply once, in order, and are recorded; reopening applies none', async () => {
        const location = await subject.newDatabase()
        const database = await resources.openRaw(location)
        expect(await migrate(database, new Date())).toEqual(MIGRATIONS.map((migration) => migration.version))
        expect(await migrate(database, new Date())).toEqual([])

        await resources.open(location)
        await resources.open(location)
        const { rows } = await database.query({
          text: 'SELECT version, name FROM schema_migrations ORDER BY version',
          values: [],
        })
        expect(rows.map((row) => ({ ...row }))).toEqual(
          MIGRATIONS.map(({ version, name }) => ({ version, name })),
        )
      })

      test('refuses a database migrated by a newer server', async () => {
        const location = await subject.newDatabase()
        const database = await resources.openRaw(location)
        await migrate(database, new Date())
        await migrate(database, new Date(), [
          ...MIGRATIONS,
          {
            version: MIGRATIONS.length + 1,
            name: 'from_the_future',
            sql: () => 'CREATE TABLE future (id INTEGER)',
          },
        ])
        const error = await expectDatastoreError(
          resources.open(location),
          'ATT_ERR_DATASTORE_SCHEMA_INCOMPATIBLE',
        )
        expect(error.message).toContain(`has schema migration ${MIGRATIONS.length + 1} ("from_the_future")`)
      })

      test('a failing migration leaves no trace of itself', async () => {
        const location = await subject.newDatabase()
        const database = await resources.openRaw(location)
        const broken = [
          ...MIGRATIONS,
          {
            version: MIGRATIONS.length + 1,
            name: 'half_done',
            sql: () => 'CREATE TABLE half_done (id INTEGER); SELECT * FROM no_such_table',
          },
        ]
        const error = await expectDatastoreError(
          migrate(database, new Date(), broken),
          'ATT_ERR_DATASTORE_MIGRATION_FAILED',
        )
        expect(error.message).toContain(`schema migration ${MIGRATIONS.length + 1} ("half_done") failed`)
        // Not even the migrations before it: the whole run is one transaction.
        expect(await migrate(database, new Date())).toEqual(MIGRATIONS.map((migration) => migration.version))
      })

      test('ping answers, and a closed store refuses every call', async () => {
        const store = await newStore()
        await store.ping()
        await store.close()
        await store.close()
        await expectDatastoreError(store.ping(), 'ATT_ERR_DATASTORE_CLOSED')
        await expectDatastoreError(store.getAgent(attestation('x').spiffeId), 'ATT_ERR_DATASTORE_CLOSED')
        await expectDatastoreError(store.recordAttestation(attestation('x')), 'ATT_ERR_DATASTORE_CLOSED')
        await expectDatastoreError(store.claimSatToken(fingerprintOf('x')), 'ATT_ERR_DATASTORE_CLOSED')
      })
    })
  })
}
