import { DatastoreError, isDatastoreError } from './datastore-error.ts'
import type { SqlDatabase, SqlSession } from './sql-database.ts'
import { type SqlDialect, StatementParameters } from './sql-dialect.ts'

/**
 * One step of the schema. Its SQL is written once, with the dialect supplying
 * the few type names that differ (see `sql-dialect.ts`). A migration that has
 * shipped is never edited: a change is a new migration with the next version.
 */
export interface Migration {
  /** 1, 2, 3, …: applied in this order, each exactly once per database. */
  readonly version: number
  /** Recorded with the version, and compared on startup to catch an edited history. */
  readonly name: string
  /** The statements, separated by semicolons. */
  sql(dialect: SqlDialect): string
}

/** The schema of the agent store, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create_agents',
    sql: ({ columnTypes: t, tableOptions }) => `
      CREATE TABLE agents (
        spiffe_id ${t.key} NOT NULL PRIMARY KEY,
        attestor ${t.text} NOT NULL,
        cluster ${t.key} NOT NULL,
        svid_serial ${t.text} NOT NULL,
        svid_expires_at ${t.timestamp} NOT NULL,
        first_attested_at ${t.timestamp} NOT NULL,
        last_attested_at ${t.timestamp} NOT NULL,
        banned ${t.boolean} NOT NULL
      )${tableOptions};
      -- Serves "agents of a cluster, in SPIFFE ID order" (listAgents with a cluster filter).
      CREATE INDEX agents_by_cluster ON agents (cluster, spiffe_id);

      -- Selectors are rows, not a JSON column, so that filtering by selector is an index lookup.
      CREATE TABLE agent_selectors (
        spiffe_id ${t.key} NOT NULL REFERENCES agents (spiffe_id) ON DELETE CASCADE,
        type ${t.key} NOT NULL,
        value ${t.key} NOT NULL,
        PRIMARY KEY (spiffe_id, type, value)
      )${tableOptions};
      CREATE INDEX agent_selectors_by_selector ON agent_selectors (type, value, spiffe_id);
    `,
  },
  {
    version: 2,
    name: 'create_sat_token_claims',
    sql: ({ columnTypes: t, tableOptions }) => `
      -- One row per SAT token that has attested: its SHA-256, never the token.
      CREATE TABLE sat_token_claims (
        fingerprint ${t.key} NOT NULL PRIMARY KEY,
        claimed_at ${t.timestamp} NOT NULL,
        expires_at ${t.timestamp}
      )${tableOptions};
      CREATE INDEX sat_token_claims_by_expiry ON sat_token_claims (expires_at);
    `,
  },
  {
    version: 3,
    name: 'add_sat_token_claim_agent',
    sql: ({ columnTypes: t }) => `
      -- The agent a claimed token attested (NULL for claims made before this migration), so
      -- that evicting the agent releases its token: the way back for an agent that lost its
      -- data_dir, which the operator alone opens.
      ALTER TABLE sat_token_claims ADD COLUMN spiffe_id ${t.key};
      CREATE INDEX sat_token_claims_by_agent ON sat_token_claims (spiffe_id);
    `,
  },
  {
    version: 4,
    name: 'index_agents_for_listing',
    sql: () => `
      -- listAgents sorted by these times pages by (time, spiffe_id): each index ends in the key,
      -- so a page deep in 100,000 agents is a range scan, not a sort of the table. The expiry
      -- index also serves the attested/expired state filters.
      CREATE INDEX agents_by_last_attested ON agents (last_attested_at, spiffe_id);
      CREATE INDEX agents_by_svid_expiry ON agents (svid_expires_at, spiffe_id);
      CREATE INDEX agents_by_attestor ON agents (attestor, spiffe_id);
    `,
  },
  {
    version: 5,
    name: 'index_agents_by_banned',
    sql: () => `
      -- listAgents with the banned filter: banned agents are few, so without this index a page of
      -- them walks the SPIFFE ID index until it has found a page, and the whole table when fewer
      -- than a page are banned (100,000 rows for the dashboard's "banned" tab).
      CREATE INDEX agents_by_banned ON agents (banned, spiffe_id);
    `,
  },
]

/** A row of `schema_migrations`. */
export interface AppliedMigration {
  readonly version: number
  readonly name: string
}

/**
 * The migrations of `known` that `applied` lacks, in order. Throws
 * `ATT_ERR_DATASTORE_SCHEMA_INCOMPATIBLE` when the database is ahead of this
 * build (a newer server migrated it: running on would misread its data) or
 * when a recorded name differs from ours (the history was edited).
 */
export function pendingMigrations(
  applied: readonly AppliedMigration[],
  known: readonly Migration[],
  target: string,
): Migration[] {
  checkMigrationList(known)
  const knownByVersion = new Map(known.map((migration) => [migration.version, migration]))
  for (const row of applied) {
    const migration = knownByVersion.get(row.version)
    if (migration === undefined) {
      throw new DatastoreError(
        'ATT_ERR_DATASTORE_SCHEMA_INCOMPATIBLE',
        `database ${target} has schema migration ${row.version} ("${row.name}"), which this server does not know ` +
          `(it knows 1 to ${known.length}); it was migrated by a newer server`,
        { target, check: 'schema_migrations', expected: `versions 1 to ${known.length}` },
      )
    }
    if (migration.name !== row.name) {
      throw new DatastoreError(
        'ATT_ERR_DATASTORE_SCHEMA_INCOMPATIBLE',
        `database ${target} recorded schema migration ${row.version} as "${row.name}", but this server's ` +
          `migration ${row.version} is "${migration.name}"`,
        { target, check: 'schema_migrations', expected: migration.name },
      )
    }
  }
  const appliedVersions = new Set(applied.map((row) => row.version))
  return known.filter((migration) => !appliedVersions.has(migration.version))
}

/**
 * Brings the database's schema up to date: creates `schema_migrations` if
 * needed and applies every pending migration in order, all in one transaction,
 * so a failure leaves the schema as it was. On PostgreSQL an advisory lock
 * held for the transaction makes servers starting together take turns; the
 * later ones find nothing left to do. Resolves the versions it applied.
 */
export async function migrate(
  database: SqlDatabase,
  appliedAt: Date,
  known: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  const { dialect, target } = database
  return database.transaction(async (session) => {
    if (dialect.migrationLock !== undefined) await session.execScript(dialect.migrationLock)
    const t = dialect.columnTypes
    await session.execScript(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER NOT NULL PRIMARY KEY,
        name ${t.text} NOT NULL,
        applied_at ${t.timestamp} NOT NULL
      )${dialect.tableOptions}`)
    const pending = pendingMigrations(await readApplied(session, target), known, target)
    for (const migration of pending) {
      await applyMigration(session, migration, dialect, target, appliedAt)
    }
    return pending.map((migration) => migration.version)
  })
}

async function readApplied(session: SqlSession, target: string): Promise<AppliedMigration[]> {
  const { rows } = await session.query({ text: 'SELECT version, name FROM schema_migrations', values: [] })
  return rows.map(({ version, name }) => {
    if (!Number.isSafeInteger(version) || typeof name !== 'string') {
      throw new DatastoreError(
        'ATT_ERR_DATASTORE_ROW_INVALID',
        `database ${target} has a malformed schema_migrations row (version ${String(version)})`,
        { target, check: 'schema_migrations' },
      )
    }
    return { version: version as number, name }
  })
}

async function applyMigration(
  session: SqlSession,
  migration: Migration,
  dialect: SqlDialect,
  target: string,
  appliedAt: Date,
): Promise<void> {
  try {
    await session.execScript(migration.sql(dialect))
  } catch (error) {
    // Losing the connection mid-migration is reported as what it is; only a statement that failed is the migration's fault.
    if (isDatastoreError(error) && error.code !== 'ATT_ERR_DATASTORE_QUERY_FAILED') throw error
    throw new DatastoreError(
      'ATT_ERR_DATASTORE_MIGRATION_FAILED',
      `schema migration ${migration.version} ("${migration.name}") failed on database ${target}: ${(error as Error).message}`,
      { target, check: `migration ${migration.version}`, cause: error },
    )
  }
  const p = new StatementParameters(dialect)
  await session.query(
    p.statement(
      `INSERT INTO schema_migrations (version, name, applied_at)
       VALUES (${p.add(migration.version)}, ${p.add(migration.name)}, ${p.addTimestamp(appliedAt)})`,
    ),
  )
}

/** Throws a TypeError unless `known` is numbered 1, 2, 3, … (a bug in this file otherwise). */
function checkMigrationList(known: readonly Migration[]): void {
  known.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new TypeError(
        `migration "${migration.name}" is at position ${index + 1} but has version ${migration.version}; ` +
          'versions must be 1, 2, 3, … in order',
      )
    }
  })
}
