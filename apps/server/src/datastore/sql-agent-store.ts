import { agentPageStatement } from './agent-page-statement.ts'
import {
  AGENT_COLUMNS_UNQUALIFIED,
  agentWithSelectorsColumns,
  decodeAgentRow,
  decodeAgentsWithSelectors,
} from './agent-rows.ts'
import {
  AGENT_SORT_KEYS,
  AGENT_STATES,
  type AgentCounts,
  type AgentPage,
  type AgentRecord,
  type AgentStore,
  type AttestationInput,
  type ListAgentsQuery,
  type RecordAttestationOptions,
  type RecordAttestationResult,
  type Selector,
  type SvidUpdate,
  type SvidUpdateResult,
} from './agent-store.ts'
import { DatastoreError } from './datastore-error.ts'
import {
  checkAttestor,
  checkDate,
  checkFingerprint,
  checkNonEmptyString,
  checkOneOf,
  checkPageSize,
  checkSearch,
  checkSpiffeId,
  normalizeAttestationInput,
  normalizeSelectors,
  normalizeSerial,
} from './input-checks.ts'
import { type AgentFilter, decodePageToken, encodePageToken } from './page-token.ts'
import type { SqlDatabase, SqlSession } from './sql-database.ts'
import { type SqlValue, StatementParameters } from './sql-dialect.ts'

/** Options of {@link SqlAgentStore}. */
export interface SqlAgentStoreOptions {
  /**
   * The clock for attestation times, claim times and "expired". Injected in
   * tests; each server process uses its own clock, so keep them in sync (NTP).
   * @default () => new Date()
   */
  readonly now?: () => Date
}

/** Selectors per multi-row INSERT: far below both engines' limits on parameters per statement. */
const SELECTOR_INSERT_BATCH = 200

/**
 * The {@link AgentStore} on a {@link SqlDatabase}: one implementation, and one
 * text per statement, for SQLite and PostgreSQL alike. Expects the schema to be
 * migrated (`openAgentStore` does that first).
 *
 * Concurrency rests on the database, never on this process: every decision
 * that must not race (banned? already attested? still the current serial?
 * first claim?) is made inside the statement that writes, or under a row lock
 * taken by the transaction that writes.
 */
export class SqlAgentStore implements AgentStore {
  readonly #database: SqlDatabase
  readonly #now: () => Date
  /** {@link #selectorCheckText}'s statements by number of selectors, at most SELECTOR_INSERT_BATCH + 1. */
  readonly #selectorCheckTexts = new Map<number, string>()
  #closed = false

  constructor(database: SqlDatabase, options: SqlAgentStoreOptions = {}) {
    this.#database = database
    this.#now = options.now ?? (() => new Date())
  }

  async recordAttestation(
    input: AttestationInput,
    options: RecordAttestationOptions = {},
  ): Promise<RecordAttestationResult> {
    const agent = normalizeAttestationInput(input)
    const allowReattestation = options.allowReattestation ?? true
    if (typeof allowReattestation !== 'boolean') {
      throw new TypeError(`"options.allowReattestation" must be a boolean, got ${typeof allowReattestation}`)
    }
    const attestedAt = checkDate(this.#now(), 'now()')
    const claim = options.claimSatToken
    if (claim !== undefined) {
      checkFingerprint(claim.fingerprint)
      if (claim.expiresAt !== undefined) checkDate(claim.expiresAt, 'claimSatToken.expiresAt')
    }
    return this.#open().transaction(async (session) => {
      if (claim !== undefined && !(await this.#claimToken(session, claim, agent.spiffeId, attestedAt))) {
        return { outcome: 'token_replayed' }
      }
      const p = new StatementParameters(this.#database.dialect)
      // One statement decides and writes: the conflict branch updates only a record that is not
      // banned (and only when re-attestation is allowed), and it locks the row either way, so the
      // rest of this transaction sees the record as it decided on it.
      const { rows } = await session.query(
        p.statement(`
          INSERT INTO agents AS a (spiffe_id, attestor, cluster, svid_serial, svid_expires_at,
                                   first_attested_at, last_attested_at, banned)
          VALUES (${p.add(agent.spiffeId)}, ${p.add(agent.attestor)}, ${p.add(agent.cluster)},
                  ${p.add(agent.svidSerial)}, ${p.addTimestamp(agent.svidExpiresAt)},
                  ${p.addTimestamp(attestedAt)}, ${p.addTimestamp(attestedAt)}, ${p.addBoolean(false)})
          ON CONFLICT (spiffe_id) DO UPDATE SET
            attestor = excluded.attestor,
            cluster = excluded.cluster,
            svid_serial = excluded.svid_serial,
            svid_expires_at = excluded.svid_expires_at,
            last_attested_at = excluded.last_attested_at
          WHERE a.banned = FALSE AND ${allowReattestation ? 'TRUE' : 'FALSE'}
          RETURNING ${AGENT_COLUMNS_UNQUALIFIED}`),
      )
      const written = rows[0]
      if (written === undefined) {
        const existing = await this.#readAgent(session, agent.spiffeId)
        if (existing === undefined) {
          // The conflict branch only runs for an existing row, which the statement locked.
          throw new DatastoreError(
            'ATT_ERR_DATASTORE_QUERY_FAILED',
            `database ${this.#database.target}: the record of "${agent.spiffeId}" vanished while locked`,
            { target: this.#database.target },
          )
        }
        // Not recorded, so not spent either: the same token may attest once the agent may.
        if (claim !== undefined) await this.#releaseToken(session, claim.fingerprint)
        return existing.banned
          ? { outcome: 'banned', agent: existing }
          : { outcome: 'already_attested', agent: existing }
      }
      await this.#replaceSelectors(session, agent.spiffeId, agent.selectors)
      return {
        outcome: 'recorded',
        agent: decodeAgentRow(written, agent.selectors, this.#database.dialect, this.#database.target),
      }
    })
  }

  async updateSvid(spiffeId: string, update: SvidUpdate): Promise<SvidUpdateResult> {
    checkSpiffeId(spiffeId)
    if (typeof update !== 'object' || update === null) throw new TypeError('"update" must be an object')
    const serial = normalizeSerial(update.serial, 'update.serial')
    const expiresAt = checkDate(update.expiresAt, 'update.expiresAt')
    const replacesSerial =
      update.replacesSerial === undefined
        ? undefined
        : normalizeSerial(update.replacesSerial, 'update.replacesSerial')
    return this.#open().transaction(async (session) => {
      const current = await this.#readAgent(session, spiffeId, { lock: true })
      if (current === undefined) return { outcome: 'not_found' }
      if (current.banned) return { outcome: 'banned', agent: current }
      if (replacesSerial !== undefined && replacesSerial !== current.svidSerial) {
        return { outcome: 'serial_mismatch', agent: current }
      }
      const p = new StatementParameters(this.#database.dialect)
      await session.query(
        p.statement(`
          UPDATE agents SET svid_serial = ${p.add(serial)}, svid_expires_at = ${p.addTimestamp(expiresAt)}
          WHERE spiffe_id = ${p.add(spiffeId)}`),
      )
      return { outcome: 'updated', agent: { ...current, svidSerial: serial, svidExpiresAt: expiresAt } }
    })
  }

  async getAgent(spiffeId: string): Promise<AgentRecord | undefined> {
    checkSpiffeId(spiffeId)
    return this.#readAgent(this.#open(), spiffeId)
  }

  async listAgents(query: ListAgentsQuery = {}): Promise<AgentPage> {
    if (typeof query !== 'object' || query === null) throw new TypeError('"query" must be an object')
    const filter: AgentFilter = {
      ...(query.cluster !== undefined && { cluster: checkNonEmptyString(query.cluster, 'query.cluster') }),
      ...(query.attestor !== undefined && { attestor: checkAttestor(query.attestor, 'query.attestor') }),
      selectors: normalizeSelectors(query.selectors ?? [], 'query.selectors'),
      ...(query.banned !== undefined && { banned: checkBoolean(query.banned, 'query.banned') }),
      ...(query.state !== undefined && { state: checkOneOf(query.state, AGENT_STATES, 'query.state') }),
      ...(query.search !== undefined && { search: checkSearch(query.search) }),
      sort: query.sort === undefined ? 'spiffe_id' : checkOneOf(query.sort, AGENT_SORT_KEYS, 'query.sort'),
      descending: query.descending === undefined ? false : checkBoolean(query.descending, 'query.descending'),
    }
    const pageSize = checkPageSize(query.pageSize)
    if (query.pageToken !== undefined && typeof query.pageToken !== 'string') {
      throw new TypeError('"query.pageToken" must be a string')
    }
    const position = query.pageToken === undefined ? undefined : decodePageToken(query.pageToken, filter)

    const { rows } = await this.#open().query(
      agentPageStatement(this.#database.dialect, {
        filter,
        position,
        limit: pageSize + 1,
        now: () => checkDate(this.#now(), 'now()'),
      }),
    )
    const agents = decodeAgentsWithSelectors(rows, this.#database.dialect, this.#database.target)
    const last = agents[pageSize - 1]
    if (agents.length <= pageSize || last === undefined) return { agents }
    const at =
      filter.sort === 'last_attested_at'
        ? last.lastAttestedAt.getTime()
        : filter.sort === 'svid_expires_at'
          ? last.svidExpiresAt.getTime()
          : undefined
    return {
      agents: agents.slice(0, pageSize),
      nextPageToken: encodePageToken(
        at === undefined ? { after: last.spiffeId } : { after: last.spiffeId, at },
        filter,
      ),
    }
  }

  async evictAgent(spiffeId: string): Promise<boolean> {
    checkSpiffeId(spiffeId)
    return this.#open().transaction(async (session) => {
      const agents = new StatementParameters(this.#database.dialect)
      // Selectors go with the agent: ON DELETE CASCADE.
      const { rowCount } = await session.query(
        agents.statement(`DELETE FROM agents WHERE spiffe_id = ${agents.add(spiffeId)}`),
      )
      if (rowCount === 0) return false
      const claims = new StatementParameters(this.#database.dialect)
      await session.query(
        claims.statement(`DELETE FROM sat_token_claims WHERE spiffe_id = ${claims.add(spiffeId)}`),
      )
      return true
    })
  }

  async banAgent(spiffeId: string): Promise<boolean> {
    checkSpiffeId(spiffeId)
    const p = new StatementParameters(this.#database.dialect)
    const { rowCount } = await this.#open().query(
      p.statement(`UPDATE agents SET banned = ${p.addBoolean(true)} WHERE spiffe_id = ${p.add(spiffeId)}`),
    )
    return rowCount > 0
  }

  async countAgents(): Promise<AgentCounts> {
    const now = checkDate(this.#now(), 'now()')
    const p = new StatementParameters(this.#database.dialect)
    const { rows } = await this.#open().query(
      p.statement(`
        SELECT COUNT(*) FILTER (WHERE banned = FALSE AND svid_expires_at > ${p.addTimestamp(now)}) AS active,
               COUNT(*) FILTER (WHERE banned = FALSE AND svid_expires_at <= ${p.addTimestamp(now)}) AS expired,
               COUNT(*) FILTER (WHERE banned = TRUE) AS banned
        FROM agents`),
    )
    const row = rows[0] ?? {}
    return {
      active: this.#count(row.active),
      expired: this.#count(row.expired),
      banned: this.#count(row.banned),
    }
  }

  async claimSatToken(fingerprint: string, expiresAt?: Date, spiffeId?: string): Promise<boolean> {
    checkFingerprint(fingerprint)
    if (expiresAt !== undefined) checkDate(expiresAt, 'expiresAt')
    if (spiffeId !== undefined) checkSpiffeId(spiffeId)
    const claimedAt = checkDate(this.#now(), 'now()')
    const p = new StatementParameters(this.#database.dialect)
    // Insert-if-absent in one statement: of concurrent claims, the database lets exactly one insert.
    const { rowCount } = await this.#open().query(
      p.statement(`
        INSERT INTO sat_token_claims (fingerprint, claimed_at, expires_at, spiffe_id)
        VALUES (${p.add(fingerprint)}, ${p.addTimestamp(claimedAt)}, ${p.addOptionalTimestamp(expiresAt)},
                ${p.add(spiffeId ?? null)})
        ON CONFLICT (fingerprint) DO NOTHING`),
    )
    return rowCount === 1
  }

  /**
   * Inserts the claim if absent, in `session`, naming the agent the token makes (so that evicting
   * that agent releases the token); `true` when this claim is the first.
   */
  async #claimToken(
    session: SqlSession,
    claim: { readonly fingerprint: string; readonly expiresAt?: Date },
    spiffeId: string,
    claimedAt: Date,
  ): Promise<boolean> {
    const p = new StatementParameters(this.#database.dialect)
    const { rowCount } = await session.query(
      p.statement(`
        INSERT INTO sat_token_claims (fingerprint, claimed_at, expires_at, spiffe_id)
        VALUES (${p.add(claim.fingerprint)}, ${p.addTimestamp(claimedAt)}, ${p.addOptionalTimestamp(claim.expiresAt)},
                ${p.add(spiffeId)})
        ON CONFLICT (fingerprint) DO NOTHING`),
    )
    return rowCount === 1
  }

  async #releaseToken(session: SqlSession, fingerprint: string): Promise<void> {
    const p = new StatementParameters(this.#database.dialect)
    await session.query(p.statement(`DELETE FROM sat_token_claims WHERE fingerprint = ${p.add(fingerprint)}`))
  }

  async pruneSatTokenClaims(): Promise<number> {
    const now = checkDate(this.#now(), 'now()')
    const p = new StatementParameters(this.#database.dialect)
    const { rowCount } = await this.#open().query(
      p.statement(`DELETE FROM sat_token_claims WHERE expires_at <= ${p.addTimestamp(now)}`),
    )
    return rowCount
  }

  async ping(): Promise<void> {
    await this.#open().query({ text: 'SELECT 1 AS ok', values: [] })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#database.close()
  }

  /** The database, or `ATT_ERR_DATASTORE_CLOSED` after {@link close}. */
  #open(): SqlDatabase {
    if (this.#closed) {
      throw new DatastoreError(
        'ATT_ERR_DATASTORE_CLOSED',
        `the agent store on ${this.#database.target} is closed`,
        {
          databaseType: this.#database.dialect.databaseType,
          target: this.#database.target,
        },
      )
    }
    return this.#database
  }

  /** One agent with its selectors; with `lock`, its row stays locked until the transaction ends. */
  async #readAgent(
    session: SqlSession,
    spiffeId: string,
    { lock = false }: { lock?: boolean } = {},
  ): Promise<AgentRecord | undefined> {
    const { dialect, target } = this.#database
    // SQLite needs no row lock (lockRows is empty): its write transaction already excludes every other writer.
    if (lock && dialect.lockRows !== '') {
      const l = new StatementParameters(dialect)
      await session.query(
        l.statement(`SELECT spiffe_id FROM agents WHERE spiffe_id = ${l.add(spiffeId)}${dialect.lockRows}`),
      )
    }
    const p = new StatementParameters(dialect)
    const { rows } = await session.query(
      p.statement(`
        SELECT ${agentWithSelectorsColumns(dialect)} FROM agents a WHERE a.spiffe_id = ${p.add(spiffeId)}`),
    )
    return decodeAgentsWithSelectors(rows, dialect, target)[0]
  }

  /** Replaces the agent's selectors with `selectors` (already sorted and unique). */
  async #replaceSelectors(
    session: SqlSession,
    spiffeId: string,
    selectors: readonly Selector[],
  ): Promise<void> {
    const { dialect } = this.#database
    // A re-attesting agent almost always brings the selectors it has: checking that is cheaper
    // than deleting and re-inserting the same rows (and their index entries) in every
    // attestation, which was most of the SQLite write's CPU under `pnpm bench`. The row lock
    // taken by the caller's upsert keeps them from changing in between.
    if (await this.#storesExactly(session, spiffeId, selectors)) return
    const remove = new StatementParameters(dialect)
    await session.query(
      remove.statement(`DELETE FROM agent_selectors WHERE spiffe_id = ${remove.add(spiffeId)}`),
    )
    for (let start = 0; start < selectors.length; start += SELECTOR_INSERT_BATCH) {
      const p = new StatementParameters(dialect)
      const rows = selectors
        .slice(start, start + SELECTOR_INSERT_BATCH)
        .map(({ type, value }) => `(${p.add(spiffeId)}, ${p.add(type)}, ${p.add(value)})`)
      await session.query(
        p.statement(`INSERT INTO agent_selectors (spiffe_id, type, value) VALUES ${rows.join(', ')}`),
      )
    }
  }

  /**
   * Whether the agent's stored selectors are exactly `selectors` (unique, as the stored rows are
   * by their key). The database counts the stored rows and those among `selectors`, so the rows
   * of an unchanged set are not read back, and the statement's text is built once per number of
   * selectors: reading the rows was most of the heap this check allocated per attestation. A set
   * too large for one statement's parameters is taken as changed.
   */
  async #storesExactly(
    session: SqlSession,
    spiffeId: string,
    selectors: readonly Selector[],
  ): Promise<boolean> {
    if (selectors.length > SELECTOR_INSERT_BATCH) return false
    const values: SqlValue[] = [spiffeId]
    for (const { type, value } of selectors) values.push(type, value)
    const { rows } = await session.query({ text: this.#selectorCheckText(selectors.length), values })
    const row = rows[0]
    return (
      row !== undefined &&
      this.#count(row.stored) === selectors.length &&
      this.#count(row.matching) === selectors.length
    )
  }

  /** {@link #storesExactly}'s statement for `count` selectors: the agent's ID, then each type and value. */
  #selectorCheckText(count: number): string {
    let text = this.#selectorCheckTexts.get(count)
    if (text === undefined) {
      const { placeholder } = this.#database.dialect
      const listed = Array.from(
        { length: count },
        (_, index) => `(${placeholder(2 + 2 * index)}, ${placeholder(3 + 2 * index)})`,
      ).join(', ')
      const matching = count === 0 ? '0' : `COUNT(CASE WHEN (type, value) IN (VALUES ${listed}) THEN 1 END)`
      text = `SELECT COUNT(*) AS stored, ${matching} AS matching FROM agent_selectors WHERE spiffe_id = ${placeholder(1)}`
      this.#selectorCheckTexts.set(count, text)
    }
    return text
  }

  #count(value: unknown): number {
    const count = this.#database.dialect.decodeCount(value)
    if (count === undefined) {
      throw new DatastoreError(
        'ATT_ERR_DATASTORE_ROW_INVALID',
        `database ${this.#database.target} returned a count that is not a number`,
        { target: this.#database.target, check: 'count', expected: 'a non-negative integer' },
      )
    }
    return count
  }
}

function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`"${name}" must be a boolean, got ${typeof value}`)
  return value
}
