import { describe, expect, it } from 'vitest'
import { pod } from './api-types.ts'
import type { JsonObject } from './json.ts'
import { applyPatch, patchTypeOf } from './patch.ts'

const target: JsonObject = {
  metadata: { name: 'p', labels: { app: 'a', tier: 't' }, finalizers: ['x'] },
  spec: {
    containers: [
      { name: 'a', image: 'old' },
      { name: 'b', image: 'b:1' },
    ],
  },
}

describe('applyPatch', () => {
  it('merge patch (RFC 7386): objects merge, null removes, lists are replaced', () => {
    const result = applyPatch(
      'application/merge-patch+json',
      target,
      { metadata: { labels: { tier: null, new: 'n' } }, spec: { containers: [{ name: 'c' }] } },
      pod,
    )
    expect(result.metadata).toMatchObject({ labels: { app: 'a', new: 'n' } })
    expect(result.spec).toEqual({ containers: [{ name: 'c' }] })
  })

  it('strategic merge patch: keyed lists merge by key, sets merge, $patch directives apply', () => {
    const result = applyPatch(
      'application/strategic-merge-patch+json',
      target,
      {
        metadata: { finalizers: ['y'] },
        spec: {
          containers: [
            { name: 'a', image: 'new' },
            { name: 'b', $patch: 'delete' },
            { name: 'c', image: 'c:1' },
          ],
        },
      },
      pod,
    )
    expect(result.metadata).toMatchObject({ finalizers: ['x', 'y'] })
    expect(result.spec).toEqual({
      containers: [
        { name: 'a', image: 'new' },
        { name: 'c', image: 'c:1' },
      ],
    })
  })

  it('JSON patch (RFC 6902): add, remove, replace, test, move and copy', () => {
    const result = applyPatch(
      'application/json-patch+json',
      target,
      [
        { op: 'test', path: '/metadata/name', value: 'p' },
        { op: 'add', path: '/metadata/labels/new', value: 'n' },
        { op: 'remove', path: '/metadata/labels/tier' },
        { op: 'replace', path: '/spec/containers/0/image', value: 'new' },
        { op: 'copy', from: '/metadata/labels/app', path: '/metadata/labels/copy' },
        { op: 'move', from: '/metadata/labels/new', path: '/metadata/labels/moved' },
      ],
      pod,
    )
    expect(result.metadata).toMatchObject({ labels: { app: 'a', copy: 'a', moved: 'n' } })
    expect((result.spec as JsonObject).containers).toEqual([
      { name: 'a', image: 'new' },
      { name: 'b', image: 'b:1' },
    ])
    expect(() =>
      applyPatch(
        'application/json-patch+json',
        target,
        [{ op: 'test', path: '/metadata/name', value: 'q' }],
        pod,
      ),
    ).toThrow('testing value /metadata/name failed: test failed')
  })
})

describe('patchTypeOf', () => {
  it('reads the media type and refuses others with 415', () => {
    expect(patchTypeOf('application/merge-patch+json; charset=utf-8')).toBe('application/merge-patch+json')
    expect(() => patchTypeOf('application/json')).toThrow(/the body of the request was in an unknown format/)
  })
})
