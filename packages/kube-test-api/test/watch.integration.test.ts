import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../src/clock.ts'
import type { JsonObject } from '../src/json.ts'
import { type KubeTestApi, startKubeTestApi } from '../src/test-api.ts'
import { openStream, send } from './support/https-client.ts'
import { START } from './support/test-cluster.ts'

/**
 * Watches over HTTPS, with the clock in the test's hands: each stream is
 * read to its end after the clock passes its timeout, so no test waits.
 */

interface WatchEvent {
  readonly type: string
  readonly object: JsonObject
}

let api: KubeTestApi
let clock: ManualClock

function headers(): Record<string, string> {
  return { Authorization: `Bearer ${api.admin.token}` }
}

async function listVersion(path: string): Promise<string> {
  const response = await send(api.url, api.caCertificatePem, { method: 'GET', path, headers: headers() })
  return String(((JSON.parse(response.raw) as JsonObject).metadata as JsonObject).resourceVersion)
}

/** Opens a watch, runs `during`, lets `timeoutSeconds` pass, and returns every event. */
async function watch(path: string, timeoutSeconds: number, during: () => void | Promise<void> = () => {}) {
  const separator = path.includes('?') ? '&' : '?'
  const stream = await openStream(api.url, api.caCertificatePem, {
    method: 'GET',
    path: `${path}${separator}watch=1&timeoutSeconds=${timeoutSeconds}`,
    headers: headers(),
  })
  await during()
  clock.advance(timeoutSeconds * 1000)
  const body = await stream.done
  const events = body
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as WatchEvent)
  return { status: stream.status, contentType: stream.headers['content-type'], events }
}

function metadataOf(object: JsonObject | undefined): JsonObject {
  const metadata = object?.metadata
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    throw new Error('an event object without metadata')
  return metadata
}

function names(events: readonly WatchEvent[]): string[] {
  return events.map((event) => `${event.type} ${String((event.object.metadata as JsonObject).name ?? '')}`)
}

beforeEach(async () => {
  clock = new ManualClock(START)
  api = await startKubeTestApi({ clock })
  api.createNamespace('spire')
  api.createServiceAccount('spire', 'spire-agent')
  api.createNode('node-a')
})

afterEach(async () => {
  await api.stop()
})

function createPod(name: string, labels: Record<string, string> = { app: 'spire-agent' }) {
  return api.createPod({
    namespace: 'spire',
    name,
    serviceAccountName: 'spire-agent',
    nodeName: 'node-a',
    labels,
  })
}

describe('a watch', () => {
  it('streams ADDED, MODIFIED and DELETED from a list resourceVersion, then bookmarks before its timeout', async () => {
    const version = await listVersion('/api/v1/namespaces/spire/pods')
    const result = await watch(
      `/api/v1/namespaces/spire/pods?resourceVersion=${version}&allowWatchBookmarks=true`,
      10,
      async () => {
        createPod('agent')
        const patched = await send(api.url, api.caCertificatePem, {
          method: 'PATCH',
          path: '/api/v1/namespaces/spire/pods/agent',
          headers: { ...headers(), 'Content-Type': 'application/merge-patch+json' },
          body: JSON.stringify({ metadata: { labels: { tier: 'x' } } }),
        })
        expect(patched.status).toBe(200)
        api.deleteObject('pods', 'agent', { namespace: 'spire', gracePeriodSeconds: 0 })
      },
    )
    expect(result.status).toBe(200)
    expect(result.contentType).toBe('application/json')
    expect(result.events.map((event) => event.type)).toEqual([
      'ADDED',
      'MODIFIED',
      'MODIFIED',
      'DELETED',
      'BOOKMARK',
      'BOOKMARK',
    ])
    const [added, , terminating, deleted, bookmark] = result.events.map((event) => event.object)
    expect(metadataOf(terminating).deletionGracePeriodSeconds).toBe(0)
    expect(metadataOf(deleted).uid).toBe(metadataOf(added).uid)
    expect(bookmark).toEqual({
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: {
        resourceVersion: metadataOf(deleted).resourceVersion,
        creationTimestamp: null,
      },
      spec: { containers: null },
      status: {},
    })
  })

  it('starts with an ADDED event per existing object without a resourceVersion', async () => {
    createPod('first')
    createPod('second')
    const result = await watch('/api/v1/namespaces/spire/pods', 1)
    expect(names(result.events)).toEqual(['ADDED first', 'ADDED second'])
  })

  it('replays the history from an old resourceVersion and answers 410 Gone once it is compacted', async () => {
    createPod('early')
    expect(names((await watch('/api/v1/namespaces/spire/pods?resourceVersion=1', 1)).events)).toEqual([
      'ADDED early',
    ])
    api.compactWatchHistory()
    const oldest = Number(await listVersion('/api/v1/namespaces/spire/pods'))
    const result = await watch('/api/v1/namespaces/spire/pods?resourceVersion=1', 1)
    expect(result.status).toBe(200)
    expect(result.events).toEqual([
      {
        type: 'ERROR',
        object: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `too old resource version: 1 (${oldest})`,
          reason: 'Expired',
          code: 410,
        },
      },
    ])
  })

  it('reports objects entering and leaving its label selector as ADDED and DELETED', async () => {
    createPod('moving', { app: 'other' })
    const version = await listVersion('/api/v1/namespaces/spire/pods')
    const relabel = (app: string) =>
      send(api.url, api.caCertificatePem, {
        method: 'PATCH',
        path: '/api/v1/namespaces/spire/pods/moving',
        headers: { ...headers(), 'Content-Type': 'application/strategic-merge-patch+json' },
        body: JSON.stringify({ metadata: { labels: { app } } }),
      })
    const result = await watch(
      `/api/v1/namespaces/spire/pods?resourceVersion=${version}&labelSelector=app%3Dspire-agent`,
      1,
      async () => {
        await relabel('spire-agent')
        await relabel('other')
      },
    )
    expect(names(result.events)).toEqual(['ADDED moving', 'DELETED moving'])
  })

  it('watches nodes by field selector and sends a bookmark every minute', async () => {
    const result = await watch(
      '/api/v1/nodes?fieldSelector=metadata.name%3Dnode-b&allowWatchBookmarks=true',
      150,
      () => {
        api.createNode('node-b')
        api.createNode('node-c')
      },
    )
    expect(result.events.map((event) => event.type)).toEqual([
      'ADDED',
      'BOOKMARK',
      'BOOKMARK',
      'BOOKMARK',
      'BOOKMARK',
    ])
    expect(result.events[1]?.object.kind).toBe('Node')
  })

  it('treats timeoutSeconds=0 as no timeout asked for: the server default (30 to 60 minutes) applies', async () => {
    const stream = await openStream(api.url, api.caCertificatePem, {
      method: 'GET',
      path: `/api/v1/namespaces/spire/pods?watch=1&timeoutSeconds=0&resourceVersion=${await listVersion('/api/v1/namespaces/spire/pods')}`,
      headers: headers(),
    })
    clock.advance(1000)
    createPod('after-zero')
    clock.advance(60 * 60 * 1000)
    const events = (await stream.done).split('\n').filter((line) => line !== '')
    expect(events.map((line) => (JSON.parse(line) as WatchEvent).type)).toContain('ADDED')
  })

  it('refuses a resourceVersion that is not one with 400', async () => {
    const response = await send(api.url, api.caCertificatePem, {
      method: 'GET',
      path: '/api/v1/namespaces/spire/pods?watch=true&resourceVersion=abc',
      headers: headers(),
    })
    expect(response.status).toBe(400)
    expect(JSON.parse(response.raw)).toMatchObject({ reason: 'BadRequest', code: 400 })
  })
})
