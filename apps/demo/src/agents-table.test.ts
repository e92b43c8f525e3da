import type { AgentView } from '@k8s-attest/core'
import { describe, expect, it } from 'vitest'
import { formatAgentsTable } from './agents-table.ts'
import type { ExitStatus } from './child-process.ts'

const now = new Date('2026-12-03T12:00:00Z')
const view = (node: string, overrides: Partial<AgentView> = {}): AgentView => ({
  spiffe_id: `spiffe://td/spire/agent/k8s_psat/demo/${node}-uid`,
  attestor: 'k8s_psat',
  cluster: 'demo',
  selectors: [{ type: 'k8s_psat', value: `agent_node_name:${node}` }],
  svid_serial: 'a1',
  svid_expires_at: '2026-12-03T12:01:00.000Z',
  first_attested_at: '2026-12-03T11:59:00.000Z',
  last_attested_at: '2026-12-03T11:59:00.123Z',
  banned: false,
  ...overrides,
})
const stateOf = (table: string, node: string) =>
  table
    .split('\n')
    .find((line) => line.includes(` ${node} `))
    ?.split(/\s{2,}/)[2]

describe('formatAgentsTable', () => {
  it("joins the server's records with the agents' processes: a stopped agent is not shown as attested", () => {
    const table = formatAgentsTable(
      [
        view('node-1'),
        view('node-2'),
        view('node-3', { banned: true }),
        view('node-4', { svid_expires_at: '2026-12-03T11:59:59.000Z' }),
      ],
      now,
      new Map<string, ExitStatus | undefined>([
        ['node-1', undefined],
        ['node-2', 'SIGKILL'],
        ['node-3', 3],
      ]),
    )
    expect(stateOf(table, 'node-1')).toBe('attested')
    expect(stateOf(table, 'node-2')).toBe('stopped (SIGKILL)')
    expect(stateOf(table, 'node-3')).toBe('banned')
    expect(stateOf(table, 'node-4')).toBe('expired')
    expect(table.split('\n')[1]).toContain('60s')
  })
})
