import { describe, expect, it } from 'vitest'
import { ObjectStore } from './store.ts'

const object = (name: string, label = 'a') => ({ metadata: { name, namespace: 'ns', labels: { l: label } } })

describe('ObjectStore', () => {
  it('stamps one increasing resourceVersion, keeping ObjectMeta field order', () => {
    const store = new ObjectStore({ historyLimit: 10 })
    const first = store.create('pods', object('a'))
    const second = store.create('pods', object('b'))
    expect(Object.keys(first.metadata as object)).toEqual([
      'name',
      'namespace',
      'resourceVersion',
      'creationTimestamp',
      'labels',
    ])
    expect(Number((second.metadata as { resourceVersion: string }).resourceVersion)).toBe(
      store.resourceVersion,
    )
  })

  it('replays changes after a version until the history limit compacts them', () => {
    const store = new ObjectStore({ historyLimit: 2 })
    store.create('pods', object('a'))
    const start = store.resourceVersion
    store.update('pods', object('a', 'b'))
    store.delete('pods', 'ns', 'a')
    expect(store.eventsSince(start)).toMatchObject([{ type: 'MODIFIED' }, { type: 'DELETED' }])
    expect(store.eventsSince(1)).toEqual({ compacted: true, oldestResourceVersion: start })
    store.compact()
    expect(store.eventsSince(start)).toMatchObject({ compacted: true })
  })

  it('hands out copies that cannot change what is stored', () => {
    const store = new ObjectStore({ historyLimit: 10 })
    store.create('pods', object('a'))
    const copy = store.get('pods', 'ns', 'a') as { metadata: { labels: { l: string } } }
    copy.metadata.labels.l = 'changed'
    expect(store.get('pods', 'ns', 'a')).toMatchObject({ metadata: { labels: { l: 'a' } } })
  })

  it('refuses misuse with TypeErrors', () => {
    expect(() => new ObjectStore({ historyLimit: 0 })).toThrow(TypeError)
    expect(() => new ObjectStore({ historyLimit: 1 }).update('pods', object('x'))).toThrow(
      'cannot update pods ns/x: it is not stored',
    )
  })
})
