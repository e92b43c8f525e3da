import { beforeEach, describe, expect, it } from 'vitest'
import { createTestCluster } from '../test/support/test-cluster.ts'
import type { ManualClock } from './clock.ts'
import type { JsonObject } from './json.ts'
import type { Registry } from './registry.ts'
import { namespaces } from './resources/namespaces.ts'
import { nodes } from './resources/nodes.ts'
import { pods } from './resources/pods.ts'
import { secrets } from './resources/secrets.ts'
import { serviceAccounts } from './resources/service-accounts.ts'
import type { ObjectStore, StoreEvent } from './store.ts'

/** The generic REST storage: kube-apiserver's create/update/delete semantics. */

const write = { manager: 'test' }
let registry: Registry
let store: ObjectStore
let clock: ManualClock
let events: StoreEvent[]

const podBody = (name: string, extra: JsonObject = {}): JsonObject => ({
  metadata: { name },
  spec: { nodeName: 'node-a', serviceAccountName: 'sa', containers: [{ name: 'a', image: 'x:1' }] },
  ...extra,
})

function thrown(action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    return error
  }
  throw new Error('expected the call to throw')
}

function metadata(object: JsonObject): JsonObject {
  return object.metadata as JsonObject
}

beforeEach(() => {
  let cluster: ReturnType<typeof createTestCluster>['cluster']
  ;({ cluster, clock } = createTestCluster())
  registry = cluster.registry
  store = cluster.store
  registry.create(namespaces, '', { metadata: { name: 'spire' } }, write)
  registry.create(serviceAccounts, 'spire', { metadata: { name: 'sa' } }, write)
  events = []
  store.subscribe((event) => events.push(event))
})

describe('create', () => {
  it('stamps uid, resourceVersion and creationTimestamp, and refuses duplicates with 409', () => {
    const created = registry.create(pods, 'spire', podBody('p'), write)
    expect(metadata(created)).toMatchObject({
      name: 'p',
      namespace: 'spire',
      creationTimestamp: '2026-11-24T02:49:18Z',
    })
    expect(Number(metadata(created).resourceVersion)).toBe(store.resourceVersion)
    expect(thrown(() => registry.create(pods, 'spire', podBody('p'), write))).toMatchObject({
      code: 'ATT_ERR_KUBE_TEST_ALREADY_EXISTS',
      message: 'pods "p" already exists',
    })
  })

  it('generates a name from generateName', () => {
    const created = registry.create(
      pods,
      'spire',
      { ...podBody(''), metadata: { generateName: 'agent-' } },
      write,
    )
    expect(metadata(created).name).toMatch(/^agent-[bcdfghjklmnpqrstvwxz2456789]{5}$/)
  })

  it('refuses a missing namespace (404), a missing service account (403) and invalid objects (422)', () => {
    expect(thrown(() => registry.create(pods, 'nowhere', podBody('p'), write))).toMatchObject({
      code: 'ATT_ERR_KUBE_TEST_NOT_FOUND',
      message: 'namespaces "nowhere" not found',
    })
    expect(
      thrown(() =>
        registry.create(
          pods,
          'spire',
          { ...podBody('p'), spec: { serviceAccountName: 'ghost', containers: [{ name: 'a', image: 'i' }] } },
          write,
        ),
      ),
    ).toMatchObject({
      code: 'ATT_ERR_KUBE_TEST_FORBIDDEN',
      message:
        'pods "p" is forbidden: error looking up service account spire/ghost: serviceaccount "ghost" not found',
    })
    expect(
      thrown(() =>
        registry.create(
          pods,
          'spire',
          { metadata: { name: 'Bad' }, spec: { serviceAccountName: 'sa' } },
          write,
        ),
      ),
    ).toMatchObject({
      code: 'ATT_ERR_KUBE_TEST_INVALID',
      message: expect.stringMatching(
        /^Pod "Bad" is invalid: \[metadata.name: Invalid value: "Bad": a lowercase RFC 1123 subdomain .*, spec.containers: Required value\]$/,
      ),
    })
  })

  it('refuses a body for another namespace with 400', () => {
    expect(
      thrown(() =>
        registry.create(
          pods,
          'spire',
          { ...podBody('p'), metadata: { name: 'p', namespace: 'other' } },
          write,
        ),
      ),
    ).toMatchObject({
      code: 'ATT_ERR_KUBE_TEST_BAD_REQUEST',
      message: 'the namespace of the provided object does not match the namespace sent on the request',
    })
  })
})

describe('update and patch', () => {
  it('refuse a stale resourceVersion with 409 and keep the status of the main resource', () => {
    const created = registry.create(pods, 'spire', podBody('p'), write)
    const stale = { ...created, metadata: { ...metadata(created), resourceVersion: '1', labels: { a: 'b' } } }
    expect(thrown(() => registry.update(pods, 'spire', 'p', stale, write))).toMatchObject({
      code: 'ATT_ERR_KUBE_TEST_CONFLICT',
      message:
        'Operation cannot be fulfilled on pods "p": the object has been modified; please apply your changes to the latest version and try again',
    })
    const updated = registry.update(pods, 'spire', 'p', { ...created, status: { phase: 'Running' } }, write)
    expect(updated.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' })
  })

  it('write the status through the status subresource only', () => {
    const created = registry.create(pods, 'spire', podBody('p'), write)
    const updated = registry.update(
      pods,
      'spire',
      'p',
      { ...created, status: { phase: 'Running', hostIP: '10.0.0.1' } },
      write,
      'status',
    )
    expect(updated.status).toEqual({ phase: 'Running', hostIP: '10.0.0.1' })
    const statusEntry = (metadata(updated).managedFields as JsonObject[]).find(
      (entry) => entry.subresource === 'status',
    )
    expect(statusEntry?.fieldsV1).toEqual({ 'f:status': { 'f:hostIP': {}, 'f:phase': {} } })
  })

  it('do not write when nothing changes', () => {
    const created = registry.create(pods, 'spire', podBody('p'), write)
    events = []
    expect(
      registry.patch(
        pods,
        'spire',
        'p',
        'application/merge-patch+json',
        { metadata: { labels: null } },
        write,
      ),
    ).toEqual(created)
    expect(events).toEqual([])
  })

  it('refuse changing a running pod spec with 422', () => {
    registry.create(pods, 'spire', podBody('p'), write)
    expect(
      thrown(() =>
        registry.patch(
          pods,
          'spire',
          'p',
          'application/merge-patch+json',
          { spec: { nodeName: 'node-b' } },
          write,
        ),
      ),
    ).toMatchObject({
      code: 'ATT_ERR_KUBE_TEST_INVALID',
      message: expect.stringContaining('spec: Forbidden: pod updates may not change fields'),
    })
  })
})

describe('delete', () => {
  it('makes a scheduled pod terminate for its grace period, then shortens it', () => {
    registry.create(pods, 'spire', podBody('p'), write)
    const terminating = registry.delete(pods, 'spire', 'p', { ...write, gracePeriodSeconds: 30 }).body
    expect(metadata(terminating)).toMatchObject({
      deletionTimestamp: '2026-11-24T02:49:48Z',
      deletionGracePeriodSeconds: 30,
    })
    clock.advance(5000)
    const unchanged = registry.delete(pods, 'spire', 'p', { ...write, gracePeriodSeconds: 60 }).body
    expect(unchanged).toEqual(terminating)
    const shortened = registry.delete(pods, 'spire', 'p', { ...write, gracePeriodSeconds: 10 }).body
    expect(metadata(shortened)).toMatchObject({
      deletionTimestamp: '2026-11-24T02:49:28Z',
      deletionGracePeriodSeconds: 10,
    })
    expect(events.map((event) => event.type)).toEqual(['ADDED', 'MODIFIED', 'MODIFIED'])
  })

  it('force-deletes with a last MODIFIED then DELETED, and answers with the object', () => {
    registry.create(pods, 'spire', podBody('p'), write)
    const deleted = registry.delete(pods, 'spire', 'p', { ...write, gracePeriodSeconds: 0 }).body
    expect(events.map((event) => event.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED'])
    expect(metadata(deleted)).toMatchObject({
      deletionGracePeriodSeconds: 0,
      resourceVersion: String(store.resourceVersion),
    })
    expect(store.get('pods', 'spire', 'p')).toBeUndefined()
  })

  it('deletes an unscheduled pod at once', () => {
    registry.create(
      pods,
      'spire',
      { ...podBody('p'), spec: { serviceAccountName: 'sa', containers: [{ name: 'a', image: 'i' }] } },
      write,
    )
    registry.delete(pods, 'spire', 'p', write)
    expect(store.get('pods', 'spire', 'p')).toBeUndefined()
  })

  it('answers a node deletion with a success Status and honours preconditions', () => {
    const node = registry.create(nodes, '', { metadata: { name: 'n' } }, write)
    expect(
      thrown(() => registry.delete(nodes, '', 'n', { ...write, preconditions: { uid: 'other' } })),
    ).toMatchObject({
      code: 'ATT_ERR_KUBE_TEST_CONFLICT',
      message: `Operation cannot be fulfilled on nodes "n": Precondition failed: UID in precondition: other, UID in object meta: ${String(metadata(node).uid)}`,
    })
    expect(registry.delete(nodes, '', 'n', write).body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: 'n', kind: 'nodes', uid: metadata(node).uid },
    })
  })

  it('keeps an object with finalizers until an update removes the last one', () => {
    registry.create(secrets, 'spire', { metadata: { name: 's', finalizers: ['example.com/keep'] } }, write)
    const pending = registry.delete(secrets, 'spire', 's', write).body
    expect(metadata(pending).deletionTimestamp).toBe('2026-11-24T02:49:18Z')
    registry.patch(
      secrets,
      'spire',
      's',
      'application/merge-patch+json',
      { metadata: { finalizers: null } },
      write,
    )
    expect(store.get('secrets', 'spire', 's')).toBeUndefined()
  })

  it('terminates a namespace and everything in it', () => {
    registry.create(pods, 'spire', podBody('p'), write)
    const terminating = registry.delete(namespaces, '', 'spire', write).body
    expect(terminating.status).toEqual({ phase: 'Terminating' })
    expect(store.get('namespaces', '', 'spire')).toBeUndefined()
    expect(store.list('pods', 'spire')).toEqual([])
    expect(store.list('serviceaccounts', 'spire')).toEqual([])
  })
})
