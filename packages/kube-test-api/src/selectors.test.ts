import { describe, expect, it } from 'vitest'
import type { JsonObject } from './json.ts'
import { parseFieldSelector, parseLabelSelector } from './selectors.ts'

const pod = (labels: Record<string, string>, nodeName = 'node-a'): JsonObject => ({
  metadata: { name: 'p', namespace: 'spire', labels },
  spec: { nodeName },
  status: { phase: 'Running' },
})

describe('parseLabelSelector', () => {
  it('supports equality, inequality, set and existence requirements', () => {
    const matches = (selector: string, labels: Record<string, string>) =>
      parseLabelSelector(selector)(pod(labels))
    expect(matches('app=spire-agent', { app: 'spire-agent' })).toBe(true)
    expect(matches('app==spire-agent,tier!=x', { app: 'spire-agent', tier: 'y' })).toBe(true)
    expect(matches('app in (a, b)', { app: 'b' })).toBe(true)
    expect(matches('app notin (a,b)', { app: 'a' })).toBe(false)
    expect(matches('app', {})).toBe(false)
    expect(matches('!app', {})).toBe(true)
  })

  it('refuses what it cannot parse with 400', () => {
    expect(() => parseLabelSelector('a b c')).toThrow(/unable to parse requirement/)
  })
})

describe('parseFieldSelector', () => {
  it("selects on the resource's supported fields", () => {
    expect(parseFieldSelector('spec.nodeName=node-a,status.phase=Running', 'pods')(pod({}))).toBe(true)
    expect(parseFieldSelector('spec.nodeName!=node-a', 'pods')(pod({}))).toBe(false)
    expect(parseFieldSelector('metadata.name=p', 'nodes')(pod({}))).toBe(true)
  })

  it('reads an unset boolean field as "false", as strconv.FormatBool fills the field set', () => {
    const node: JsonObject = { metadata: { name: 'n' }, spec: {} }
    expect(parseFieldSelector('spec.unschedulable=false', 'nodes')(node)).toBe(true)
    expect(parseFieldSelector('spec.unschedulable=true', 'nodes')(node)).toBe(false)
    expect(
      parseFieldSelector('spec.unschedulable=true', 'nodes')({ ...node, spec: { unschedulable: true } }),
    ).toBe(true)
    expect(parseFieldSelector('spec.hostNetwork=false', 'pods')(pod({}))).toBe(true)
  })

  it('refuses fields the resource cannot be selected by', () => {
    expect(() => parseFieldSelector('spec.nodeName=x', 'nodes')).toThrow(
      'field label not supported: spec.nodeName',
    )
  })
})
