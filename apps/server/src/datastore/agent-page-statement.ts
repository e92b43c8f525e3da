import { AGENT_COLUMNS, agentWithSelectorsColumns } from './agent-rows.ts'
import type { AgentFilter, PagePosition } from './page-token.ts'
import { type SqlDialect, type SqlStatement, StatementParameters } from './sql-dialect.ts'

/*
 * The one statement that reads a page of `listAgents`. It is built apart from the store so that
 * tests can ask each engine for the plan of exactly the statement the store runs: a page must
 * cost the same at any depth and whatever the table's size, so a listing by one filter (a
 * cluster, a selector, banned) or none is a walk of one index range, stopped after a page, never
 * a read of every match and a sort. A search, and several selectors at once, test more rows.
 */

/** Input of {@link agentPageStatement}. */
export interface AgentPageQuery {
  readonly filter: AgentFilter
  /** Where the page starts (from the page token); the beginning when absent. */
  readonly position?: PagePosition | undefined
  /** Rows to read: the page size and one more, which tells whether another page follows. */
  readonly limit: number
  /** The store's clock, read only for a state filter. */
  readonly now: () => Date
}

/**
 * The statement of one page of agents with their selectors (rows of
 * `agentWithSelectorsColumns`), in the filter's order. One statement reads the page and its
 * selectors, so both come from the same snapshot.
 *
 * Ordered by SPIFFE ID with a selector filter, the page is read from the selector's index
 * (`agent_selectors_by_selector`: type, value, then SPIFFE ID, so its entries for one selector
 * are already in SPIFFE ID order): a page of a zone's 5,000 agents reads 51 index entries,
 * where `spiffe_id IN (…)` read all 5,000 first. Further selectors are tested with `IN` against
 * that walk, and a listing by time with selectors keeps `IN` for all of them: the time index
 * gives the order, the selector sets are what it is checked against.
 */
export function agentPageStatement(dialect: SqlDialect, query: AgentPageQuery): SqlStatement {
  const { filter, position, limit } = query
  const p = new StatementParameters(dialect)
  const [driving, ...others] = filter.sort === 'spiffe_id' ? filter.selectors : []
  // Where the SPIFFE ID order comes from: the selector index walked, or the agents table.
  const key = driving === undefined ? 'a.spiffe_id' : 'f.spiffe_id'
  const conditions: string[] = []
  if (driving !== undefined) {
    conditions.push(
      `f.type = ${p.add(driving.type)} AND f.value = ${p.add(driving.value)} AND a.spiffe_id = f.spiffe_id`,
    )
  }
  conditions.push(
    ...filterConditions(p, filter, driving === undefined ? filter.selectors : others, query.now),
  )

  // Keyset paging: rows strictly after the last one of the previous page in (sort value, SPIFFE ID).
  const after = filter.descending ? '<' : '>'
  if (position !== undefined) {
    const id = p.add(position.after)
    if (filter.sort === 'spiffe_id' || position.at === undefined) {
      conditions.push(`${key} ${after} ${id}`)
    } else {
      const at = p.addTimestamp(new Date(position.at))
      conditions.push(
        `(a.${filter.sort} ${after} ${at} OR (a.${filter.sort} = ${at} AND a.spiffe_id ${after} ${id}))`,
      )
    }
  }
  const direction = filter.descending ? 'DESC' : 'ASC'
  const orderBy = (spiffeId: string) =>
    filter.sort === 'spiffe_id'
      ? `${spiffeId} ${direction}`
      : `a.${filter.sort} ${direction}, ${spiffeId} ${direction}`
  // CROSS JOIN is SQLite's way of fixing the join order: the selector index stays the outer loop
  // (left to itself, SQLite may walk agents_by_cluster for a cluster filter, then sort by
  // f.spiffe_id). PostgreSQL plans it as any inner join, and knows that both columns are equal.
  const from = driving === undefined ? 'agents a' : 'agent_selectors f CROSS JOIN agents a'
  const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`
  return p.statement(`
    SELECT ${agentWithSelectorsColumns(dialect)}
    FROM (SELECT ${AGENT_COLUMNS} FROM ${from} ${where} ORDER BY ${orderBy(key)} LIMIT ${p.add(limit)}) a
    ORDER BY ${orderBy('a.spiffe_id')}`)
}

/** The WHERE conditions of `filter`'s filters other than paging, with `selectors` for its selectors. */
function filterConditions(
  p: StatementParameters,
  filter: AgentFilter,
  selectors: AgentFilter['selectors'],
  now: () => Date,
): string[] {
  const conditions: string[] = []
  if (filter.cluster !== undefined) conditions.push(`a.cluster = ${p.add(filter.cluster)}`)
  if (filter.attestor !== undefined) conditions.push(`a.attestor = ${p.add(filter.attestor)}`)
  if (filter.banned !== undefined) conditions.push(`a.banned = ${p.addBoolean(filter.banned)}`)
  if (filter.state === 'banned') conditions.push('a.banned = TRUE')
  else if (filter.state !== undefined) {
    const expiry = filter.state === 'expired' ? '<=' : '>'
    conditions.push(`a.banned = FALSE AND a.svid_expires_at ${expiry} ${p.addTimestamp(now())}`)
  }
  for (const { type, value } of selectors) {
    // IN, not a correlated EXISTS: the planner can start from agent_selectors_by_selector (a few
    // agents have a selector) instead of testing every agent in sort order (100,000 of them).
    conditions.push(
      `a.spiffe_id IN (SELECT m.spiffe_id FROM agent_selectors m WHERE m.type = ${p.add(type)} AND m.value = ${p.add(value)})`,
    )
  }
  if (filter.search !== undefined) {
    // LOWER on both sides: SQLite's LIKE ignores ASCII case and PostgreSQL's does not.
    const pattern = p.add(`%${escapeLike(filter.search.toLowerCase())}%`)
    conditions.push(
      `(LOWER(a.spiffe_id) LIKE ${pattern} ESCAPE '\\' OR EXISTS (SELECT 1 FROM agent_selectors g ` +
        `WHERE g.spiffe_id = a.spiffe_id AND LOWER(g.value) LIKE ${pattern} ESCAPE '\\'))`,
    )
  }
  return conditions
}

/** `text` with LIKE's wildcards and the escape character taken literally. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`)
}
