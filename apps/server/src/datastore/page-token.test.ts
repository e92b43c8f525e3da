import { describe, expect, test } from 'vitest'
import { type AgentFilter, decodePageToken, encodePageToken } from './page-token.ts'

const filter: AgentFilter = {
  cluster: 'prod',
  attestor: 'k8s_psat',
  selectors: [{ type: 'k8s_psat', value: 'agent_ns:spire' }],
  banned: false,
  sort: 'spiffe_id',
  descending: false,
}
const after = 'spiffe://example.org/spire/agent/k8s_psat/prod/node-1'
const byExpiry: AgentFilter = { ...filter, sort: 'svid_expires_at', descending: true }

describe('page tokens', () => {
  test('resume after the SPIFFE ID they were issued for, with the same filters', () => {
    const token = encodePageToken({ after }, filter)
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(decodePageToken(token, { ...filter, selectors: [...filter.selectors] })).toEqual({ after })
  })

  test('carry the sort value of listings not ordered by SPIFFE ID', () => {
    const position = { after, at: Date.UTC(2026, 2, 1) }
    expect(decodePageToken(encodePageToken(position, byExpiry), { ...byExpiry })).toEqual(position)
  })

  test.each<[string, AgentFilter]>([
    ['another cluster', { ...filter, cluster: 'dev' }],
    [
      'no cluster',
      {
        selectors: filter.selectors,
        attestor: 'k8s_psat',
        banned: false,
        sort: 'spiffe_id',
        descending: false,
      },
    ],
    ['another selector', { ...filter, selectors: [{ type: 'k8s_psat', value: 'agent_ns:other' }] }],
    ['banned instead of not', { ...filter, banned: true }],
    ['a state', { ...filter, state: 'expired' }],
    ['a search', { ...filter, search: 'node' }],
    ['the other direction', { ...filter, descending: true }],
  ])('are refused with %s', (_name, other) => {
    expect(() => decodePageToken(encodePageToken({ after }, filter), other)).toThrow(
      expect.objectContaining({
        code: 'ATT_ERR_DATASTORE_PAGE_TOKEN_INVALID',
        details: expect.objectContaining({ check: 'page_token_filters' }),
      }),
    )
  })

  test.each([
    ['empty', ''],
    ['not base64url', 'a token!'],
    ['not JSON', Buffer.from('spiffe://x').toString('base64url')],
    ['JSON null', Buffer.from('null').toString('base64url')],
    ['another version', Buffer.from(JSON.stringify({ v: 1, after, filter: 'x' })).toString('base64url')],
    [
      'a sort value that is not an integer',
      Buffer.from(JSON.stringify({ v: 2, after, at: 1.5, filter: 'x' })).toString('base64url'),
    ],
    [
      'a sort value past the last time a Date holds (once a 500 on PostgreSQL, an empty page on SQLite)',
      Buffer.from(JSON.stringify({ v: 2, after, at: 9e15, filter: 'x' })).toString('base64url'),
    ],
    ['too long', 'A'.repeat(5000)],
  ])('are refused when %s', (_name, token) => {
    expect(() => decodePageToken(token, filter)).toThrow(
      expect.objectContaining({
        code: 'ATT_ERR_DATASTORE_PAGE_TOKEN_INVALID',
        details: expect.objectContaining({ check: 'page_token' }),
      }),
    )
  })

  test('are refused when the order changed between a SPIFFE ID listing and a timed one', () => {
    expect(() =>
      decodePageToken(encodePageToken({ after }, filter), { ...filter, sort: 'last_attested_at' }),
    ).toThrow(expect.objectContaining({ code: 'ATT_ERR_DATASTORE_PAGE_TOKEN_INVALID' }))
  })
})
