import type { AttestationInput } from './agent-store.ts'
import { checkDate, normalizeAttestationInput } from './input-checks.ts'
import { type AgentStoreConfig, openMigratedDatabase } from './open-agent-store.ts'
import type { SqlSession } from './sql-database.ts'
import { type SqlDialect, StatementParameters } from './sql-dialect.ts'

/*
 * Bulk loading of agent records, for the benchmark's `agent list` figures over 100,000 agents:
 * recording them one attestation at a time would take minutes and measure nothing of interest.
 * The rows are the ones `recordAttestation` writes (same tables, same checks on the input), many
 * per statement and one transaction per batch. Not used by the server itself.
 */

/** One agent record as the store keeps it, times and ban included. */
export interface SeedAgent extends AttestationInput {
  readonly firstAttestedAt: Date
  readonly lastAttestedAt: Date
  readonly banned: boolean
}

/** Options of {@link seedAgents}. */
export interface SeedAgentsOptions {
  /** Agents per transaction. @default 500 */
  readonly batchSize?: number
}

/** Agent rows per INSERT: 8 parameters each, far below both engines' limits per statement. */
const AGENT_ROWS_PER_INSERT = 500
/** Selector rows per INSERT: 3 parameters each. */
const SELECTOR_ROWS_PER_INSERT = 1000

/**
 * Inserts `agents` into the store `config` names (migrating it first), `batchSize` per
 * transaction; resolves how many were inserted. The store must not hold these SPIFFE IDs yet
 * (a duplicate fails its batch, and earlier batches stay).
 *
 * @throws {TypeError} for an agent `recordAttestation` would refuse, naming the field.
 * @throws {DatastoreError} as `openAgentStore`, or `ATT_ERR_DATASTORE_QUERY_FAILED`.
 */
export async function seedAgents(
  config: AgentStoreConfig,
  agents: Iterable<SeedAgent>,
  options: SeedAgentsOptions = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 500
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new TypeError(`"batchSize" must be a positive integer, got ${String(batchSize)}`)
  }
  const database = await openMigratedDatabase(config)
  let inserted = 0
  try {
    let batch: SeedAgent[] = []
    const flush = async () => {
      const rows = batch
      batch = []
      await database.transaction((session) => insertBatch(session, database.dialect, rows))
      inserted += rows.length
    }
    for (const agent of agents) {
      batch.push(checkSeedAgent(agent))
      if (batch.length === batchSize) await flush()
    }
    if (batch.length > 0) await flush()
    // PostgreSQL plans by its statistics, which autovacuum gathers some time after a bulk load;
    // a database that has run for a while has them, so gather them now. (SQLite keeps none
    // unless told to, and the server never tells it: its plans come from the schema alone.)
    if (database.dialect.databaseType === 'postgres')
      await database.execScript('ANALYZE agents; ANALYZE agent_selectors')
  } finally {
    await database.close()
  }
  return inserted
}

function checkSeedAgent(agent: SeedAgent): SeedAgent {
  const normalized = normalizeAttestationInput(agent)
  if (typeof agent.banned !== 'boolean') {
    throw new TypeError(`"banned" of ${normalized.spiffeId} must be a boolean, got ${typeof agent.banned}`)
  }
  return {
    ...normalized,
    firstAttestedAt: checkDate(agent.firstAttestedAt, 'firstAttestedAt'),
    lastAttestedAt: checkDate(agent.lastAttestedAt, 'lastAttestedAt'),
    banned: agent.banned,
  }
}

async function insertBatch(session: SqlSession, dialect: SqlDialect, agents: readonly SeedAgent[]) {
  for (let start = 0; start < agents.length; start += AGENT_ROWS_PER_INSERT) {
    const p = new StatementParameters(dialect)
    const rows = agents
      .slice(start, start + AGENT_ROWS_PER_INSERT)
      .map(
        (agent) =>
          `(${p.add(agent.spiffeId)}, ${p.add(agent.attestor)}, ${p.add(agent.cluster)}, ${p.add(agent.svidSerial)}, ` +
          `${p.addTimestamp(agent.svidExpiresAt)}, ${p.addTimestamp(agent.firstAttestedAt)}, ` +
          `${p.addTimestamp(agent.lastAttestedAt)}, ${p.addBoolean(agent.banned)})`,
      )
    await session.query(
      p.statement(`
        INSERT INTO agents (spiffe_id, attestor, cluster, svid_serial, svid_expires_at,
                            first_attested_at, last_attested_at, banned)
        VALUES ${rows.join(', ')}`),
    )
  }
  const selectors = agents.flatMap((agent) =>
    agent.selectors.map((selector) => ({ spiffeId: agent.spiffeId, ...selector })),
  )
  for (let start = 0; start < selectors.length; start += SELECTOR_ROWS_PER_INSERT) {
    const p = new StatementParameters(dialect)
    const rows = selectors
      .slice(start, start + SELECTOR_ROWS_PER_INSERT)
      .map(({ spiffeId, type, value }) => `(${p.add(spiffeId)}, ${p.add(type)}, ${p.add(value)})`)
    await session.query(
      p.statement(`INSERT INTO agent_selectors (spiffe_id, type, value) VALUES ${rows.join(', ')}`),
    )
  }
}
