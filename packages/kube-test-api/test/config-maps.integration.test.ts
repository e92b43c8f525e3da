import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../src/clock.ts'
import type { JsonObject } from '../src/json.ts'
import { type KubeTestApi, startKubeTestApi } from '../src/test-api.ts'
import { openStream, send } from './support/https-client.ts'
import { START } from './support/test-cluster.ts'

/** ConfigMaps over HTTPS: every verb through the generic REST machinery, with kube-apiserver's status codes and bodies. */

const BASE = '/api/v1/namespaces/spire/configmaps'
let api: KubeTestApi
let clock: ManualClock

beforeAll(async () => {
  clock = new ManualClock(START)
  api = await startKubeTestApi({ clock })
  api.createNamespace('spire')
})

afterAll(async () => {
  await api.stop()
})

function call(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const headers: Record<string, string> = { Authorization: `Bearer ${api.admin.token}` }
  if (body !== undefined) headers['Content-Type'] = contentType
  return send(api.url, api.caCertificatePem, {
    method,
    path,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
}

async function parsed(response: Promise<{ status: number; raw: string }>) {
  const { status, raw } = await response
  return { status, body: JSON.parse(raw) as JsonObject }
}

/** The 409 of a ConfigMap write, as kube-apiserver's `errors.NewConflict` words it. */
function conflict(name: string, reason: string) {
  return {
    status: 409,
    body: {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `Operation cannot be fulfilled on configmaps "${name}": ${reason}`,
      reason: 'Conflict',
      details: { name, kind: 'configmaps' },
      code: 409,
    },
  }
}

function resourceVersionOf(object: JsonObject): string {
  return String((object.metadata as JsonObject).resourceVersion)
}

describe('configmaps over HTTP', () => {
  it('create (201), get, list and delete (a Status), then 404', async () => {
    const created = await parsed(call('POST', BASE, { metadata: { name: 'crud' }, data: { k: 'v' } }))
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1', data: { k: 'v' } })
    expect(await parsed(call('GET', `${BASE}/crud`))).toEqual({ status: 200, body: created.body })
    const list = await parsed(call('GET', BASE))
    expect(list.body).toMatchObject({ kind: 'ConfigMapList', apiVersion: 'v1' })
    expect((list.body.items as JsonObject[]).map((item) => (item.metadata as JsonObject).name)).toContain(
      'crud',
    )
    const deleted = await parsed(call('DELETE', `${BASE}/crud`))
    expect(deleted).toEqual({
      status: 200,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name: 'crud', kind: 'configmaps', uid: (created.body.metadata as JsonObject).uid },
      },
    })
    expect(await parsed(call('GET', `${BASE}/crud`))).toEqual({
      status: 404,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'configmaps "crud" not found',
        reason: 'NotFound',
        details: { name: 'crud', kind: 'configmaps' },
        code: 404,
      },
    })
  })

  it('can be created through the programmatic API under the store key configmaps', () => {
    const stored = api.createObject(
      'configmaps',
      { metadata: { name: 'programmatic' }, data: { a: 'b' } },
      'spire',
    )
    expect(stored).toMatchObject({ name: 'programmatic', namespace: 'spire' })
    expect(api.getObject('configmaps', 'programmatic', 'spire').object.data).toEqual({ a: 'b' })
    expect(api.deleteObject('configmaps', 'programmatic', { namespace: 'spire' })).toMatchObject({
      status: 'Success',
    })
  })

  it('update with PUT (200), and refuse a stale resourceVersion with 409', async () => {
    const created = (await parsed(call('POST', BASE, { metadata: { name: 'put' }, data: { k: '1' } }))).body
    const updated = await parsed(call('PUT', `${BASE}/put`, { ...created, data: { k: '2' } }))
    expect(updated).toMatchObject({ status: 200, body: { data: { k: '2' } } })
    expect(await parsed(call('PUT', `${BASE}/put`, { ...created, data: { k: '3' } }))).toEqual(
      conflict(
        'put',
        'the object has been modified; please apply your changes to the latest version and try again',
      ),
    )
  })

  it('refuse a PUT whose uid is not the stored one (a precondition, 409) and a patched uid (immutable, 422)', async () => {
    const created = (await parsed(call('POST', BASE, { metadata: { name: 'uid' }, data: { k: '1' } }))).body
    const stored = String((created.metadata as JsonObject).uid)
    const other = '6f1b4c0e-0000-4000-8000-000000000000'
    const put = await parsed(
      call('PUT', `${BASE}/uid`, {
        ...created,
        metadata: { ...(created.metadata as JsonObject), uid: other },
      }),
    )
    expect(put).toEqual(
      conflict(
        'uid',
        `StorageError: invalid object, Code: 4, Key: /registry/configmaps/spire/uid, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: ${other}, UID in object meta: ${stored}`,
      ),
    )
    const patched = await parsed(
      call('PATCH', `${BASE}/uid`, { metadata: { uid: other } }, 'application/merge-patch+json'),
    )
    expect(patched).toMatchObject({
      status: 422,
      body: {
        reason: 'Invalid',
        message: `ConfigMap "uid" is invalid: metadata.uid: Invalid value: "${other}": field is immutable`,
      },
    })
    // The stored uid in the body, or none, is an ordinary update.
    expect((await parsed(call('PUT', `${BASE}/uid`, { ...created, data: { k: '2' } }))).status).toBe(200)
  })

  it('patch with all three patch types, a merge patch resourceVersion acting as a precondition', async () => {
    const created = (await parsed(call('POST', BASE, { metadata: { name: 'patch' }, data: { a: '1' } }))).body
    const merged = await parsed(
      call(
        'PATCH',
        `${BASE}/patch`,
        { metadata: { resourceVersion: resourceVersionOf(created) }, data: { b: '2' } },
        'application/merge-patch+json',
      ),
    )
    expect(merged).toMatchObject({ status: 200, body: { data: { a: '1', b: '2' } } })
    const strategic = await parsed(
      call('PATCH', `${BASE}/patch`, { data: { a: null } }, 'application/strategic-merge-patch+json'),
    )
    expect(strategic).toMatchObject({ status: 200, body: { data: { b: '2' } } })
    const json = await parsed(
      call(
        'PATCH',
        `${BASE}/patch`,
        [{ op: 'add', path: '/data/c', value: '3' }],
        'application/json-patch+json',
      ),
    )
    expect(json).toMatchObject({ status: 200, body: { data: { b: '2', c: '3' } } })
    const stale = await parsed(
      call(
        'PATCH',
        `${BASE}/patch`,
        { metadata: { resourceVersion: resourceVersionOf(created) }, data: { d: '4' } },
        'application/merge-patch+json',
      ),
    )
    expect(stale).toMatchObject({
      status: 409,
      body: {
        message:
          'Operation cannot be fulfilled on configmaps "patch": the object has been modified; please apply your changes to the latest version and try again',
        reason: 'Conflict',
        code: 409,
      },
    })
  })

  it('refuse illegal base64 in binaryData with 400 and invalid content with 422', async () => {
    expect(
      await parsed(call('POST', BASE, { metadata: { name: 'bad' }, binaryData: { k: '@@@@' } })),
    ).toEqual({
      status: 400,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'ConfigMap in version "v1" cannot be handled as a ConfigMap: illegal base64 data at input byte 0',
        reason: 'BadRequest',
        code: 400,
      },
    })
    const invalid = await parsed(call('POST', BASE, { metadata: { name: 'bad' }, data: { 'a:b': 'x' } }))
    expect(invalid.status).toBe(422)
    expect(invalid.body).toMatchObject({
      reason: 'Invalid',
      details: {
        name: 'bad',
        kind: 'ConfigMap',
        causes: [{ reason: 'FieldValueInvalid', field: 'data[a:b]' }],
      },
    })
  })

  it('refuse changing an immutable ConfigMap with 422', async () => {
    await call('POST', BASE, { metadata: { name: 'frozen' }, immutable: true, data: { k: 'v' } })
    expect(
      await parsed(call('PATCH', `${BASE}/frozen`, { data: { k: 'w' } }, 'application/merge-patch+json')),
    ).toEqual({
      status: 422,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set',
        reason: 'Invalid',
        details: {
          name: 'frozen',
          kind: 'ConfigMap',
          causes: [
            {
              reason: 'FieldValueForbidden',
              message: 'Forbidden: field is immutable when `immutable` is set',
              field: 'data',
            },
          ],
        },
        code: 422,
      },
    })
  })

  it('watch: ADDED, MODIFIED and DELETED events', async () => {
    const start = resourceVersionOf((await parsed(call('GET', BASE))).body)
    const stream = await openStream(api.url, api.caCertificatePem, {
      method: 'GET',
      path: `${BASE}?watch=1&resourceVersion=${start}&timeoutSeconds=5`,
      headers: { Authorization: `Bearer ${api.admin.token}` },
    })
    await call('POST', BASE, { metadata: { name: 'watched' }, data: { k: '1' } })
    await call('PATCH', `${BASE}/watched`, { data: { k: '2' } }, 'application/merge-patch+json')
    await call('DELETE', `${BASE}/watched`)
    clock.advance(5000)
    const events = (await stream.done)
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { type: string; object: JsonObject })
    expect(stream.status).toBe(200)
    const value = (object: JsonObject): string => String((object.data as JsonObject | undefined)?.k)
    expect(events.map((event) => `${event.type} ${value(event.object)}`)).toEqual([
      'ADDED 1',
      'MODIFIED 2',
      'DELETED 2',
    ])
  })
})
