import { describe, expect, it } from 'vitest'
import { pod, tokenRequest } from './api-types.ts'
import type { JsonObject } from './json.ts'
import { compareObjects, FieldSet, managerFromUserAgent, updateManagedFields } from './managed-fields.ts'
import { canonicalize, zeroValue } from './schema.ts'

const NOW = Date.parse('2026-11-24T02:55:21Z')

describe('FieldSet', () => {
  it('writes fieldsV1 with "." for members that have children, fields before keys, each sorted', () => {
    const set = FieldSet.of(
      ['f:metadata', 'f:labels'],
      ['f:metadata', 'f:labels', 'f:tier'],
      ['f:metadata', 'f:labels', 'f:app'],
      ['f:spec', 'k:{"name":"a"}'],
      ['f:spec', 'k:{"name":"a"}', 'f:image'],
      ['f:spec', 'f:dnsPolicy'],
    )
    const fieldsV1 = set.toFieldsV1()
    expect(JSON.stringify(fieldsV1)).toBe(
      '{"f:metadata":{"f:labels":{".":{},"f:app":{},"f:tier":{}}},"f:spec":{"f:dnsPolicy":{},"k:{\\"name\\":\\"a\\"}":{".":{},"f:image":{}}}}',
    )
    expect(FieldSet.fromFieldsV1(fieldsV1).toFieldsV1()).toEqual(fieldsV1)
  })

  it('computes differences member by member, or whole subtrees recursively', () => {
    const set = FieldSet.of(['f:spec', 'f:a'], ['f:status', 'f:phase'])
    expect(set.difference(FieldSet.of(['f:spec', 'f:a'])).toFieldsV1()).toEqual({
      'f:status': { 'f:phase': {} },
    })
    expect(set.recursiveDifference(FieldSet.of(['f:status'])).toFieldsV1()).toEqual({
      'f:spec': { 'f:a': {} },
    })
  })
})

describe('compareObjects', () => {
  it('counts a new map or list item as a member, and new leaves as added', () => {
    const before = zeroValue(pod)
    const after = canonicalize(pod, {
      metadata: { labels: { app: 'x' } },
      spec: { containers: [{ name: 'a', image: 'i', resources: {} }], securityContext: {} },
    })
    const { added } = compareObjects(pod, before, after)
    expect(added.toFieldsV1()).toMatchObject({
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': {
        'f:containers': { 'k:{"name":"a"}': { '.': {}, 'f:image': {}, 'f:name': {}, 'f:resources': {} } },
        'f:securityContext': {},
      },
    })
  })

  it('treats atomic lists and a value replacing null as changed leaves', () => {
    const before = zeroValue(tokenRequest)
    const after = canonicalize(tokenRequest, {
      spec: { audiences: ['a'], expirationSeconds: 600, boundObjectRef: { kind: 'Pod', name: 'p' } },
    })
    const { added, modified } = compareObjects(tokenRequest, before, after)
    expect(added.toFieldsV1()).toEqual({ 'f:spec': { 'f:boundObjectRef': { 'f:kind': {}, 'f:name': {} } } })
    expect(modified.toFieldsV1()).toMatchObject({
      'f:spec': { 'f:audiences': {}, 'f:expirationSeconds': {} },
    })
  })
})

describe('updateManagedFields', () => {
  const created = (labels: Record<string, string>): JsonObject =>
    canonicalize(pod, { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p', labels } }) as JsonObject

  it('credits a create to its manager, leaving out metadata the server owns and reset fields', () => {
    const after = created({ app: 'x' })
    ;(after.status as JsonObject).phase = 'Pending'
    const entries = updateManagedFields({
      schema: pod,
      before: zeroValue(pod) as JsonObject,
      after,
      manager: 'kubectl',
      apiVersion: 'v1',
      now: NOW,
      resetFields: FieldSet.of(['f:status']),
    })
    expect(entries).toEqual([
      {
        manager: 'kubectl',
        operation: 'Update',
        apiVersion: 'v1',
        time: '2026-11-24T02:55:21Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } },
      },
    ])
  })

  it("merges a manager's later changes and takes them from other managers", () => {
    const first = created({ app: 'x' })
    ;(first.metadata as JsonObject).managedFields = updateManagedFields({
      schema: pod,
      before: zeroValue(pod) as JsonObject,
      after: first,
      manager: 'one',
      apiVersion: 'v1',
      now: NOW,
    })
    const second = created({ app: 'y', tier: 'z' })
    const entries = updateManagedFields({
      schema: pod,
      before: first,
      after: second,
      manager: 'two',
      apiVersion: 'v1',
      now: NOW + 1000,
    })
    // `one` keeps the labels map it created; `two` now owns the labels it set.
    expect(entries).toEqual([
      expect.objectContaining({
        manager: 'one',
        time: '2026-11-24T02:55:21Z',
        fieldsV1: { 'f:metadata': { 'f:labels': {} } },
      }),
      expect.objectContaining({
        manager: 'two',
        time: '2026-11-24T02:55:22Z',
        fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {}, 'f:tier': {} } } },
      }),
    ])
  })

  it('writes no entry for a write that sets nothing a manager can own', () => {
    const after = canonicalize(pod, {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: { name: 'p', uid: 'u' },
    }) as JsonObject
    expect(
      updateManagedFields({
        schema: pod,
        before: zeroValue(pod) as JsonObject,
        after,
        manager: 'm',
        apiVersion: 'v1',
        now: NOW,
      }),
    ).toEqual([])
  })
})

describe('managerFromUserAgent', () => {
  it('takes the User-Agent up to its first slash, or unknown', () => {
    expect(managerFromUserAgent('Python-urllib/3.12')).toBe('Python-urllib')
    expect(managerFromUserAgent('kubectl/v1.32.0 (linux/amd64)')).toBe('kubectl')
    expect(managerFromUserAgent(undefined)).toBe('unknown')
    expect(managerFromUserAgent('')).toBe('unknown')
  })
})
