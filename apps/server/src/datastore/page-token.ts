import { createHash } from 'node:crypto'
import type { AgentSortKey, AgentState, Attestor, Selector } from './agent-store.ts'
import { DatastoreError } from './datastore-error.ts'

/*
 * `listAgents` pages by key (the sort value and SPIFFE ID of the last agent of a
 * page), not by offset, so a
 * page costs the same at any depth and concurrent writes never shift rows
 * between pages. The token carries that key and a digest of the filters it was
 * issued for: a token replayed with other filters would silently skip agents,
 * so it is refused instead. The token is opaque to callers (base64url JSON)
 * but not secret: all it lets one do is start a listing at some SPIFFE ID.
 */

/** The filters and order of one listing, normalized (selectors sorted and unique). */
export interface AgentFilter {
  readonly cluster?: string
  readonly attestor?: Attestor
  readonly selectors: readonly Selector[]
  readonly banned?: boolean
  readonly state?: AgentState
  readonly search?: string
  readonly sort: AgentSortKey
  readonly descending: boolean
}

/** Where the next page starts: after this agent, whose sort value (epoch ms for times) is `at`. */
export interface PagePosition {
  readonly after: string
  /** Absent when the listing is ordered by SPIFFE ID. */
  readonly at?: number
}

// Version 2 added the sort position; a version 1 token (ordered by SPIFFE ID) would still read
// right, but tokens live for one listing, so none outlives an upgrade worth supporting.
const TOKEN_VERSION = 2
const MAX_TOKEN_LENGTH = 4096
const BASE64URL = /^[A-Za-z0-9_-]+$/

interface PageTokenBody {
  /** Format version. */
  readonly v: number
  /** The last SPIFFE ID of the page before. */
  readonly after: string
  /** Its sort value, for listings not ordered by SPIFFE ID. */
  readonly at?: number
  /** {@link filterDigest} of the listing. */
  readonly filter: string
}

/** A token that resumes the listing with `filter` after `position`. */
export function encodePageToken(position: PagePosition, filter: AgentFilter): string {
  const body: PageTokenBody = {
    v: TOKEN_VERSION,
    after: position.after,
    ...(position.at === undefined ? {} : { at: position.at }),
    filter: filterDigest(filter),
  }
  return Buffer.from(JSON.stringify(body)).toString('base64url')
}

/**
 * Where to resume.
 * @throws {DatastoreError} `ATT_ERR_DATASTORE_PAGE_TOKEN_INVALID` when the token is malformed or was issued for other filters.
 */
export function decodePageToken(token: string, filter: AgentFilter): PagePosition {
  const body = parseToken(token)
  if (body === undefined || (filter.sort !== 'spiffe_id') !== (body.at !== undefined)) {
    throw new DatastoreError(
      'ATT_ERR_DATASTORE_PAGE_TOKEN_INVALID',
      'pageToken is not a token issued by listAgents; pass nextPageToken of the previous page unchanged',
      { check: 'page_token', expected: 'nextPageToken of the previous page' },
    )
  }
  if (body.filter !== filterDigest(filter)) {
    throw new DatastoreError(
      'ATT_ERR_DATASTORE_PAGE_TOKEN_INVALID',
      'pageToken was issued for different filters; repeat the filters of the first page, or start again without a token',
      { check: 'page_token_filters', expected: 'the filters of the first page' },
    )
  }
  return body.at === undefined ? { after: body.after } : { after: body.after, at: body.at }
}

/** The largest epoch milliseconds a `Date` holds (ECMA-262 §21.4.1.22); beyond it, `Invalid Date`. */
const MAX_TIME_MS = 8.64e15

function parseToken(token: string): PageTokenBody | undefined {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !BASE64URL.test(token)) return undefined
  let body: unknown
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
  } catch (error) {
    // Only JSON.parse throws here, and a SyntaxError just means "not one of ours".
    if (error instanceof SyntaxError) return undefined
    throw error
  }
  const { v, after, at, filter } = (body ?? {}) as Partial<Record<keyof PageTokenBody, unknown>>
  if (v !== TOKEN_VERSION || typeof after !== 'string' || typeof filter !== 'string') return undefined
  if (at !== undefined && !(Number.isSafeInteger(at) && Math.abs(at as number) <= MAX_TIME_MS))
    return undefined
  return { v, after, filter, ...(typeof at === 'number' ? { at } : {}) }
}

/** A short digest of the filters and order; equal ones give equal digests. */
function filterDigest(filter: AgentFilter): string {
  const canonical = JSON.stringify([
    filter.cluster ?? null,
    filter.attestor ?? null,
    filter.selectors.map(({ type, value }) => [type, value]),
    filter.banned ?? null,
    filter.state ?? null,
    filter.search ?? null,
    filter.sort,
    filter.descending,
  ])
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22)
}
