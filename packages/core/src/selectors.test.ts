import { describe, expect, it } from 'vitest'
import { catchAttestError } from '../test/expect-attest-error.ts'
import {
  compareSelectors,
  formatSelector,
  type PsatSelectorInput,
  parseSelector,
  psatSelectors,
  satSelectors,
  sortSelectors,
} from './selectors.ts'

const AGENT: PsatSelectorInput = {
  cluster: 'demo',
  namespace: 'spire',
  serviceAccountName: 'spire-agent',
  podName: 'spire-agent-pod',
  podUid: '761196fa-56d8-4823-8d5d-af92b2955257',
  nodeName: 'node-a',
  nodeUid: '733588a8-e575-4852-8c05-5e4c7b17313e',
  nodeIp: '10.0.0.7',
}

const psat = (value: string) => ({ type: 'k8s_psat', value })

describe('psatSelectors', () => {
  it("builds SPIRE's k8s_psat selectors, sorted", () => {
    expect(psatSelectors(AGENT)).toEqual([
      psat('agent_node_ip:10.0.0.7'),
      psat('agent_node_name:node-a'),
      psat('agent_node_uid:733588a8-e575-4852-8c05-5e4c7b17313e'),
      psat('agent_ns:spire'),
      psat('agent_pod_name:spire-agent-pod'),
      psat('agent_pod_uid:761196fa-56d8-4823-8d5d-af92b2955257'),
      psat('agent_sa:spire-agent'),
      psat('cluster:demo'),
    ])
  })

  it('adds node and pod labels for allow-listed keys only', () => {
    const selectors = psatSelectors({
      ...AGENT,
      nodeLabels: { 'topology.kubernetes.io/zone': 'eu-1a', 'kubernetes.io/hostname': 'node-a' },
      podLabels: { app: 'spire-agent', 'pod-template-hash': '5d84p' },
      allowedNodeLabelKeys: ['topology.kubernetes.io/zone', 'not-present'],
      allowedPodLabelKeys: new Set(['app']),
    })
    const labelSelectors = selectors.filter((selector) => selector.value.includes('_label:'))
    expect(labelSelectors).toEqual([
      psat('agent_node_label:topology.kubernetes.io/zone:eu-1a'),
      psat('agent_pod_label:app:spire-agent'),
    ])
  })

  it('adds no labels without an allow-list', () => {
    const selectors = psatSelectors({ ...AGENT, nodeLabels: { zone: 'a' }, podLabels: { app: 'x' } })
    expect(selectors.some((selector) => selector.value.includes('_label:'))).toBe(false)
  })

  it.each([
    ['absent', undefined],
    ['empty', ''],
  ])('leaves agent_node_ip out when the host IP is %s (pod not started)', (_name, nodeIp) => {
    const selectors = psatSelectors({ ...AGENT, nodeIp })
    expect(selectors.some((selector) => selector.value.startsWith('agent_node_ip'))).toBe(false)
    expect(selectors).toHaveLength(7)
  })

  it('is deterministic whatever the order of the label maps', () => {
    const allowed = { allowedPodLabelKeys: ['a', 'b', 'c'] }
    const one = psatSelectors({ ...AGENT, ...allowed, podLabels: { a: '1', b: '2', c: '3' } })
    const other = psatSelectors({ ...AGENT, ...allowed, podLabels: { c: '3', a: '1', b: '2' } })
    expect(one).toEqual(other)
  })

  it.each([
    'cluster',
    'namespace',
    'serviceAccountName',
    'podName',
    'podUid',
    'nodeName',
    'nodeUid',
  ] as const)('throws a TypeError when %s is empty (a programming error)', (field) => {
    expect(() => psatSelectors({ ...AGENT, [field]: '' })).toThrow(
      new TypeError(`psatSelectors: "${field}" must be a non-empty string (found "")`),
    )
  })
})

describe('satSelectors', () => {
  it("builds SPIRE's k8s_sat selectors, sorted", () => {
    expect(satSelectors({ cluster: 'demo', namespace: 'spire', serviceAccountName: 'spire-agent' })).toEqual([
      { type: 'k8s_sat', value: 'agent_ns:spire' },
      { type: 'k8s_sat', value: 'agent_sa:spire-agent' },
      { type: 'k8s_sat', value: 'cluster:demo' },
    ])
  })

  it('throws a TypeError when a field is empty', () => {
    expect(() => satSelectors({ cluster: 'demo', namespace: '', serviceAccountName: 'x' })).toThrow(
      new TypeError('satSelectors: "namespace" must be a non-empty string (found "")'),
    )
  })
})

describe('sortSelectors and compareSelectors', () => {
  it('orders by type, then value, by code unit (uppercase before lowercase), and removes duplicates', () => {
    const input = [psat('b'), { type: 'k8s_sat', value: 'a' }, psat('B'), psat('b'), psat('a')]
    expect(sortSelectors(input)).toEqual([psat('B'), psat('a'), psat('b'), { type: 'k8s_sat', value: 'a' }])
    expect(input).toHaveLength(5)
  })

  it('compares equal selectors as 0', () => {
    expect(compareSelectors(psat('x'), psat('x'))).toBe(0)
    expect(compareSelectors(psat('x'), psat('y'))).toBeLessThan(0)
  })
})

describe('parseSelector and formatSelector', () => {
  it.each([
    ['k8s_psat:agent_ns:spire', 'k8s_psat', 'agent_ns:spire'],
    [
      'k8s_psat:agent_node_label:topology.kubernetes.io/zone:eu-1a',
      'k8s_psat',
      'agent_node_label:topology.kubernetes.io/zone:eu-1a',
    ],
    ['k8s_sat:cluster:demo', 'k8s_sat', 'cluster:demo'],
    ['unix:uid:0', 'unix', 'uid:0'],
  ])('%s splits at the first colon and formats back', (text, type, value) => {
    expect(parseSelector(text)).toEqual({ type, value })
    expect(formatSelector({ type, value })).toBe(text)
  })

  it.each([
    ['no colon', 'k8s_psat'],
    ['an empty type', ':agent_ns:spire'],
    ['an empty value', 'k8s_psat:'],
    ['the empty string', ''],
  ])('refuses %s', (_name, text) => {
    const error = catchAttestError(() => parseSelector(text))
    expect(error.code).toBe('ATT_ERR_BAD_REQUEST')
    expect(error.details).toEqual({ check: 'selector_format', value: text, expected: '<type>:<value>' })
    expect(error.message).toBe(
      `invalid selector ${JSON.stringify(text)}: expected "<type>:<value>" with both sides non-empty, e.g. "k8s_psat:agent_ns:spire"`,
    )
  })
})
