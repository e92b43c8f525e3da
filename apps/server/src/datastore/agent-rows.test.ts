import { describe, expect, test } from 'vitest'
import { decodeAgentsWithSelectors } from './agent-rows.ts'
import { sqliteDialect } from './sql-dialect.ts'

const SPIFFE_ID = 'spiffe://example.org/spire/agent/k8s_psat/prod/node-1'

/** A row of agentWithSelectorsColumns as SQLite returns it. */
const row = (selectors: unknown) => ({
  spiffe_id: SPIFFE_ID,
  attestor: 'k8s_psat',
  cluster: 'prod',
  svid_serial: 'ab01',
  svid_expires_at: Date.parse('2026-03-01T13:00:00.000Z'),
  first_attested_at: Date.parse('2026-03-01T12:00:00.000Z'),
  last_attested_at: Date.parse('2026-03-01T12:00:00.000Z'),
  banned: 0,
  selectors,
})

const decode = (selectors: unknown) => decodeAgentsWithSelectors([row(selectors)], sqliteDialect, '/data/db')

describe('decodeAgentsWithSelectors', () => {
  test('reads the selectors column, sorted by type then value, and [] as none', () => {
    const [agent] = decode(
      JSON.stringify([
        ['k8s_psat', 'cluster:prod'],
        ['k8s_psat', 'agent_ns:spire'],
        ['k8s_psat', 'agent_node_name:node-1'],
      ]),
    )
    expect(agent).toEqual({
      spiffeId: SPIFFE_ID,
      attestor: 'k8s_psat',
      cluster: 'prod',
      selectors: [
        { type: 'k8s_psat', value: 'agent_node_name:node-1' },
        { type: 'k8s_psat', value: 'agent_ns:spire' },
        { type: 'k8s_psat', value: 'cluster:prod' },
      ],
      svidSerial: 'ab01',
      svidExpiresAt: new Date('2026-03-01T13:00:00.000Z'),
      firstAttestedAt: new Date('2026-03-01T12:00:00.000Z'),
      lastAttestedAt: new Date('2026-03-01T12:00:00.000Z'),
      banned: false,
    })
    expect(decode('[]')[0]?.selectors).toEqual([])
  })

  test.each([
    ['not JSON', '[["k8s_psat", '],
    ['not an array', '{"type":"k8s_psat"}'],
    ['a pair of one', '[["k8s_psat"]]'],
    ['a value that is not text', '[["k8s_psat", 7]]'],
    ['NULL', null],
  ])('refuses a selectors column that is %s, naming the agent', (_name, selectors) => {
    expect(() => decode(selectors)).toThrow(
      expect.objectContaining({
        name: 'DatastoreError',
        code: 'ATT_ERR_DATASTORE_ROW_INVALID',
        message: `database /data/db holds a malformed value in agent_selectors of "${SPIFFE_ID}": expected type and value as text`,
      }),
    )
  })
})
