import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { agentPageStatement } from './agent-page-statement.ts'
import type { AgentFilter, PagePosition } from './page-token.ts'
import { sqliteDialect } from './sql-dialect.ts'
import { describeSeedAgentsContract } from './test-support/seed-contract.ts'
import {
  attestation,
  describeAgentStoreContract,
  expectDatastoreError,
  fingerprintOf,
  trackResources,
} from './test-support/store-contract.ts'

let root: string
let databases = 0
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'k8s-attest-sqlite-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

/** A path under a directory that does not exist yet: the store must create both. */
const newPath = () => {
  databases += 1
  return join(root, `data-${databases}`, 'datastore.sqlite3')
}

describeAgentStoreContract({
  databaseType: 'sqlite3',
  newDatabase: async () => ({ databaseType: 'sqlite3', connectionString: newPath() }),
})
describeSeedAgentsContract({
  databaseType: 'sqlite3',
  newDatabase: async () => ({ databaseType: 'sqlite3', connectionString: newPath() }),
})

describe('SQLite specifics', () => {
  const resources = trackResources()

  test('creates the file and its directory, in WAL mode with foreign keys on', async () => {
    const path = newPath()
    await resources.open({ databaseType: 'sqlite3', connectionString: path })
    expect((await stat(path)).isFile()).toBe(true)
    expect((await stat(join(path, '..'))).mode & 0o777).toBe(0o700)

    const inspector = new DatabaseSync(path, { readOnly: true })
    try {
      expect(inspector.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' })
      const tables = inspector
        .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .all()
      expect(tables.map((table) => table.name)).toEqual([
        'agent_selectors',
        'agents',
        'sat_token_claims',
        'schema_migrations',
      ])
      // STRICT tables: SQLite refuses a value of the wrong type instead of storing it.
      expect(tables.every((table) => String(table.sql).endsWith('STRICT'))).toBe(true)
    } finally {
      inspector.close()
    }
  })

  const zone = { type: 'k8s_psat', value: 'agent_node_label:topology.kubernetes.io/zone:zone-7' }
  const pagePlans: [string, Partial<AgentFilter>, PagePosition | undefined, string[]][] = [
    ['the first page', {}, undefined, ['SCAN a USING INDEX sqlite_autoindex_agents_1']],
    [
      'a page deep down',
      {},
      { after: 'spiffe://x/m' },
      ['SEARCH a USING INDEX sqlite_autoindex_agents_1 (spiffe_id>?)'],
    ],
    ['a cluster', { cluster: 'prod' }, undefined, ['SEARCH a USING INDEX agents_by_cluster (cluster=?)']],
    ['the banned', { banned: true }, undefined, ['SEARCH a USING INDEX agents_by_banned (banned=?)']],
    [
      'a selector, deep down, descending',
      { selectors: [zone], descending: true },
      { after: 'spiffe://x/m' },
      [
        'SEARCH f USING COVERING INDEX agent_selectors_by_selector (type=? AND value=? AND spiffe_id<?)',
        'SEARCH a USING INDEX sqlite_autoindex_agents_1 (spiffe_id=?)',
      ],
    ],
    [
      'a selector in a cluster',
      { selectors: [zone], cluster: 'prod' },
      undefined,
      [
        'SEARCH f USING COVERING INDEX agent_selectors_by_selector (type=? AND value=?)',
        'SEARCH a USING INDEX agents_by_cluster (cluster=? AND spiffe_id=?)',
      ],
    ],
  ]
  test.each(pagePlans)(
    'a page of %s walks one index range in listing order, without reading every match or sorting',
    async (_name, filter, position, plan) => {
      const path = newPath()
      await resources.open({ databaseType: 'sqlite3', connectionString: path })
      const inspector = new DatabaseSync(path, { readOnly: true })
      try {
        // Exactly the statement listAgents runs for this page. Its inner query (a co-routine in
        // SQLite's plan) picks the page; the outer one reads each agent's selectors and orders the
        // page's own rows, at most 51, which is all it may sort.
        const statement = agentPageStatement(sqliteDialect, {
          filter: { selectors: [], sort: 'spiffe_id', descending: false, ...filter },
          position,
          limit: 51,
          now: () => new Date(),
        })
        const rows = inspector
          .prepare(`EXPLAIN QUERY PLAN ${statement.text}`)
          .all(...(statement.values as (string | number | null)[]))
        const page = rows.find((row) => row.detail === 'CO-ROUTINE a')
        expect(page, 'the page is read by an inner query').toBeDefined()
        expect(rows.filter((row) => row.parent === page?.id).map((row) => String(row.detail))).toEqual(plan)
      } finally {
        inspector.close()
      }
    },
  )

  test('a second store on the same file, opened later, sees the first one’s writes', async () => {
    const location = { databaseType: 'sqlite3' as const, connectionString: newPath() }
    const first = await resources.open(location)
    const second = await resources.open(location)
    const input = attestation('node-1')
    await first.recordAttestation(input)
    expect((await second.getAgent(input.spiffeId))?.spiffeId).toBe(input.spiffeId)
    await second.banAgent(input.spiffeId)
    expect((await first.recordAttestation(input)).outcome).toBe('banned')
    expect(await first.claimSatToken(fingerprintOf('t'))).toBe(true)
    expect(await second.claimSatToken(fingerprintOf('t'))).toBe(false)
  })

  test('refuses connection strings that are not a file path', async () => {
    for (const [connectionString, problem] of [
      ['', 'is empty'],
      [':memory:', 'is ":memory:", which would lose every agent at restart'],
      ['file:/var/lib/k8s-attest/datastore.sqlite3?mode=rwc', 'is a "file:" URI'],
    ] as const) {
      const error = await expectDatastoreError(
        resources.open({ databaseType: 'sqlite3', connectionString }),
        'ATT_ERR_DATASTORE_CONFIG_INVALID',
      )
      expect(error.message).toBe(
        `connection_string for database_type "sqlite3" ${problem}; expected the path of the database file, ` +
          'e.g. "/var/lib/k8s-attest/datastore.sqlite3"',
      )
      expect(error.details).toMatchObject({ databaseType: 'sqlite3', check: 'connection_string' })
    }
  })

  test('reports a file that is not a SQLite database as unreachable, naming it', async () => {
    const path = join(root, 'not-a-database.sqlite3')
    await writeFile(path, 'this is a text file, not a database '.repeat(64))
    const error = await expectDatastoreError(
      resources.open({ databaseType: 'sqlite3', connectionString: path }),
      'ATT_ERR_DATASTORE_UNREACHABLE',
    )
    expect(error.message).toBe(`cannot open SQLite database ${path}: file is not a database`)
    // Nothing was written into the foreign file.
    expect(await readFile(path, 'utf8')).toBe('this is a text file, not a database '.repeat(64))
  })

  test('reports a directory that cannot be created as unreachable, naming it', async () => {
    const blocker = join(root, 'a-file')
    await writeFile(blocker, '')
    const path = join(blocker, 'sub', 'datastore.sqlite3')
    const error = await expectDatastoreError(
      resources.open({ databaseType: 'sqlite3', connectionString: path }),
      'ATT_ERR_DATASTORE_UNREACHABLE',
    )
    expect(error.message).toMatch(
      new RegExp(`^cannot create the directory of SQLite database ${path}: ENOTDIR`),
    )
  })
})
