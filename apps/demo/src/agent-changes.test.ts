import { describe, expect, it } from 'vitest'
import { type AgentSnapshot, describeAgentChanges } from './agent-changes.ts'

const now = new Date('2026-12-03T12:00:00Z')
const svid = (serialNumber: string, spiffeId = 'spiffe://td/spire/agent/k8s_psat/demo/uid-1') => ({
  spiffeId,
  serialNumber,
  notAfter: new Date(now.getTime() + 120_000),
})
const agent = (nodeName: string, overrides: Partial<AgentSnapshot> = {}): AgentSnapshot => ({
  nodeName,
  exitStatus: undefined,
  svid: svid('a1'),
  ...overrides,
})

describe('describeAgentChanges', () => {
  it('prints nothing when nothing changed', () => {
    const agents = [agent('node-1'), agent('node-2')]
    expect(describeAgentChanges(agents, agents, now)).toEqual([])
  })

  it('prints one line for one rotation, however many agents there are', () => {
    const before = [agent('node-1'), agent('node-2'), agent('node-3')]
    const after = [agent('node-1'), agent('node-2', { svid: svid('b2') }), agent('node-3')]
    expect(describeAgentChanges(before, after, now)).toEqual([
      '12:00:00  node-2  new SVID, serial b2 (expires in 120s)',
    ])
  })

  it('says when an agent attests for the first time, or under a new SPIFFE ID', () => {
    const before = [agent('node-1', { svid: undefined }), agent('node-2')]
    const after = [agent('node-1'), agent('node-2', { svid: svid('c3', 'spiffe://td/other') })]
    expect(describeAgentChanges(before, after, now)).toEqual([
      '12:00:00  node-1  attested: spiffe://td/spire/agent/k8s_psat/demo/uid-1 (serial a1, expires in 120s)',
      '12:00:00  node-2  new SVID for spiffe://td/other, serial c3 (expires in 120s)',
    ])
  })

  it('says once that an agent stopped, and how', () => {
    const before = [agent('node-1'), agent('node-2')]
    const banned = [agent('node-1', { exitStatus: 3 }), agent('node-2', { exitStatus: 'SIGKILL' })]
    expect(describeAgentChanges(before, banned, now)).toEqual([
      '12:00:00  node-1  agent stopped: exit 3, banned by the server',
      '12:00:00  node-2  agent stopped: killed by SIGKILL',
    ])
    expect(describeAgentChanges(banned, banned, now)).toEqual([])
  })
})
