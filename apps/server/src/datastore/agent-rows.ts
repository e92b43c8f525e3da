import { type AgentRecord, ATTESTORS, type Attestor, type Selector } from './agent-store.ts'
import { DatastoreError } from './datastore-error.ts'
import { compareSelectors } from './input-checks.ts'
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

/** {@link AGENT_COLUMNS} plus one selector per row, from `agent_selectors` aliased `s` (NULL for an agent with none). */
export const AGENT_WITH_SELECTOR_COLUMNS = `${AGENT_COLUMNS}, s.type AS selector_type, s.value AS selector_value`

/**
 * Agents from rows of {@link AGENT_WITH_SELECTOR_COLUMNS} ordered by SPIFFE ID:
 * one row per selector, and one row with NULL selector columns for an agent
 * without selectors.
 */
export function decodeAgentsWithSelectors(
  rows: readonly SqlRow[],
  dialect: SqlDialect,
  target: string,
): AgentRecord[] {
  const groups: { row: SqlRow; selectors: Selector[] }[] = []
  for (const row of rows) {
    let group = groups.at(-1)
    if (group === undefined || group.row.spiffe_id !== row.spiffe_id) {
      group = { row, selectors: [] }
      groups.push(group)
    }
    const { selector_type: type, selector_value: value } = row
    if (type === null && value === null) continue
    if (typeof type !== 'string' || typeof value !== 'string') {
      throw rowInvalid(target, `agent_selectors of "${String(row.spiffe_id)}"`, 'type and value as text')
    }
    group.selectors.push({ type, value })
  }
  return groups.map(({ row, selectors }) =>
    decodeAgentRow(row, selectors.sort(compareSelectors), dialect, target),
  )
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
