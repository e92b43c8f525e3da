import { compareSelectors } from '@k8s-attest/core'
import { type AgentRecord, ATTESTORS, type Attestor, type Selector } from './agent-store.ts'
import { DatastoreError } from './datastore-error.ts'
import type { SqlRow } from './sql-database.ts'
import type { SqlDialect } from './sql-dialect.ts'

const AGENT_COLUMN_NAMES = [
  'spiffe_id',
  'attestor',
  'cluster',
  'svid_serial',
  'svid_expires_at',
  'first_attested_at',
  'last_attested_at',
  'banned',
] as const

/** The `agents` columns, unqualified: for `RETURNING`, where SQLite does not accept the table's alias. */
export const AGENT_COLUMNS_UNQUALIFIED = AGENT_COLUMN_NAMES.join(', ')

/** The `agents` columns every read selects, from a table aliased `a`. */
export const AGENT_COLUMNS = AGENT_COLUMN_NAMES.map((name) => `a.${name}`).join(', ')

/**
 * {@link AGENT_COLUMNS} plus the agent's selectors as one JSON text column, `selectors`: an
 * array of `[type, value]` pairs, `[]` for an agent without any. One row per agent, where a
 * join gave one per selector, each repeating the agent's columns: a page of 50 agents with 7
 * selectors each was 357 rows to read and decode, now 51.
 */
export function agentWithSelectorsColumns(dialect: SqlDialect): string {
  const pairs = dialect.jsonPairsAggregate('s.type', 's.value')
  return `${AGENT_COLUMNS}, (SELECT ${pairs} FROM agent_selectors s WHERE s.spiffe_id = a.spiffe_id) AS selectors`
}

/** Agents from rows of {@link agentWithSelectorsColumns}, in the rows' order. */
export function decodeAgentsWithSelectors(
  rows: readonly SqlRow[],
  dialect: SqlDialect,
  target: string,
): AgentRecord[] {
  return rows.map((row) => decodeAgentRow(row, decodeSelectorPairs(row, target), dialect, target))
}

/** The `selectors` column of a row of {@link agentWithSelectorsColumns}, sorted. */
function decodeSelectorPairs(row: SqlRow, target: string): Selector[] {
  const invalid = () =>
    rowInvalid(target, `agent_selectors of "${String(row.spiffe_id)}"`, 'type and value as text')
  let pairs: unknown
  try {
    pairs = typeof row.selectors === 'string' ? JSON.parse(row.selectors) : undefined
  } catch {
    throw invalid()
  }
  if (!Array.isArray(pairs)) throw invalid()
  const selectors: Selector[] = []
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) throw invalid()
    const [type, value] = pair as unknown[]
    if (typeof type !== 'string' || typeof value !== 'string') throw invalid()
    selectors.push({ type, value })
  }
  return selectors.sort(compareSelectors)
}

/** One agent from a row of {@link AGENT_COLUMNS}, with selectors known from elsewhere. */
export function decodeAgentRow(
  row: SqlRow,
  selectors: readonly Selector[],
  dialect: SqlDialect,
  target: string,
): AgentRecord {
  const spiffeId = row.spiffe_id
  if (typeof spiffeId !== 'string') throw rowInvalid(target, 'agents.spiffe_id', 'text')
  const where = (column: string) => `agents.${column} of "${spiffeId}"`
  const text = (column: string): string => {
    const value = row[column]
    if (typeof value !== 'string') throw rowInvalid(target, where(column), 'text')
    return value
  }
  const timestamp = (column: string): Date => {
    const value = dialect.decodeTimestamp(row[column])
    if (value === undefined) throw rowInvalid(target, where(column), 'a timestamp')
    return value
  }
  const attestor = text('attestor')
  if (!(ATTESTORS as readonly string[]).includes(attestor)) {
    throw rowInvalid(target, where('attestor'), `one of ${ATTESTORS.join(', ')}`)
  }
  const banned = dialect.decodeBoolean(row.banned)
  if (banned === undefined) throw rowInvalid(target, where('banned'), 'a boolean')
  return {
    spiffeId,
    attestor: attestor as Attestor,
    cluster: text('cluster'),
    selectors,
    svidSerial: text('svid_serial'),
    svidExpiresAt: timestamp('svid_expires_at'),
    firstAttestedAt: timestamp('first_attested_at'),
    lastAttestedAt: timestamp('last_attested_at'),
    banned,
  }
}

function rowInvalid(target: string, column: string, expected: string): DatastoreError {
  return new DatastoreError(
    'ATT_ERR_DATASTORE_ROW_INVALID',
    `database ${target} holds a malformed value in ${column}: expected ${expected}`,
    { target, check: column, expected },
  )
}
