import { beforeEach, describe, expect, it } from 'vitest'
import { createTestCluster, refusal } from '../../test/support/test-cluster.ts'
import type { JsonObject, JsonValue } from '../json.ts'
import type { Registry } from '../registry.ts'
import { configMaps, MAX_CONFIG_MAP_SIZE } from './config-maps.ts'
import { namespaces } from './namespaces.ts'

/** ConfigMaps through the generic registry: kube-apiserver's validation, immutability and preconditions. */

const write = { manager: 'test' }
let registry: Registry

beforeEach(() => {
  registry = createTestCluster().cluster.registry
  registry.create(namespaces, '', { metadata: { name: 'spire' } }, write)
})

function create(body: JsonObject): JsonObject {
  return registry.create(configMaps, 'spire', body, write)
}

function metadata(object: JsonObject): JsonObject {
  return object.metadata as JsonObject
}

function mergePatch(name: string, patch: JsonValue): JsonObject {
  return registry.patch(configMaps, 'spire', name, 'application/merge-patch+json', patch, write)
}

/** The 422 body kube-apiserver sends for ConfigMap `name` with these causes. */
function invalidStatus(
  name: string,
  causes: readonly { reason: string; message: string; field: string }[],
): JsonObject {
  const texts = causes.map((cause) => `${cause.field}: ${cause.message}`)
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `ConfigMap "${name}" is invalid: ${texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`}`,
    reason: 'Invalid',
    details: { name, kind: 'ConfigMap', causes: [...causes] },
    code: 422,
  }
}

const KEY_MESSAGE =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
const IMMUTABLE = 'Forbidden: field is immutable when `immutable` is set'

describe('create, get and list', () => {
  it('store the Go field order with sorted keys, and read back the same object', () => {
    const created = create({
      binaryData: { 'b.bin': 'AAEC' },
      data: { z: '1', a: '2' },
      metadata: { name: 'settings' },
    })
    expect(Object.keys(created)).toEqual(['kind', 'apiVersion', 'metadata', 'data', 'binaryData'])
    expect(created).toMatchObject({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      data: { a: '2', z: '1' },
      binaryData: { 'b.bin': 'AAEC' },
    })
    expect(Object.keys(created.data as JsonObject)).toEqual(['a', 'z'])
    expect(metadata(created).managedFields).toEqual([
      {
        manager: 'test',
        operation: 'Update',
        apiVersion: 'v1',
        time: '2026-11-24T02:49:18Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:binaryData': { '.': {}, 'f:b.bin': {} }, 'f:data': { '.': {}, 'f:a': {}, 'f:z': {} } },
      },
    ])
    expect(registry.get(configMaps, 'spire', 'settings')).toEqual(created)
    const list = registry.list(configMaps, 'spire', [])
    expect(list).toMatchObject({ kind: 'ConfigMapList', apiVersion: 'v1' })
    expect((list.items as JsonObject[]).map((item) => metadata(item).name)).toEqual(['settings'])
  })

  it('keep `immutable: false`, a pointer, rather than dropping it', () => {
    expect(create({ metadata: { name: 'c' }, immutable: false }).immutable).toBe(false)
  })

  it('refuse binaryData that is not base64 with 400, as decoding a ConfigMap fails', () => {
    expect(refusal(() => create({ metadata: { name: 'c' }, binaryData: { k: 'AAE*' } }))).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: illegal base64 data at input byte 3',
      reason: 'BadRequest',
      code: 400,
    })
  })

  it('refuse a data value that is not a string with 400', () => {
    const status = refusal(() => create({ metadata: { name: 'c' }, data: { k: 1 } }))
    expect(status).toMatchObject({ reason: 'BadRequest', code: 400 })
    expect(status.message).toMatch(
      /^ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap\.data/,
    )
  })

  it('refuse a name that is not a DNS-1123 subdomain with 422', () => {
    expect(refusal(() => create({ metadata: { name: 'Bad' } })).message).toMatch(
      /^ConfigMap "Bad" is invalid: metadata.name: Invalid value: "Bad": a lowercase RFC 1123 subdomain/,
    )
  })
})

describe('ValidateConfigMap', () => {
  it('refuses a data key outside [-._a-zA-Z0-9]+ at data[key]', () => {
    expect(refusal(() => create({ metadata: { name: 'c' }, data: { 'a b': 'x' } }))).toEqual(
      invalidStatus('c', [
        { reason: 'FieldValueInvalid', message: `Invalid value: "a b": ${KEY_MESSAGE}`, field: 'data[a b]' },
      ]),
    )
  })

  it('refuses a binaryData key outside [-._a-zA-Z0-9]+ at binaryData[key]', () => {
    expect(refusal(() => create({ metadata: { name: 'c' }, binaryData: { 'a/b': 'AA==' } }))).toEqual(
      invalidStatus('c', [
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: "a/b": ${KEY_MESSAGE}`,
          field: 'binaryData[a/b]',
        },
      ]),
    )
  })

  it('refuses a key longer than 253 characters', () => {
    const key = 'k'.repeat(254)
    expect(refusal(() => create({ metadata: { name: 'c' }, data: { [key]: 'x' } }))).toEqual(
      invalidStatus('c', [
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: "${key}": must be no more than 253 characters`,
          field: `data[${key}]`,
        },
      ]),
    )
  })

  it("refuses the keys '.' and '..' and keys starting with '..', which would leave the volume", () => {
    expect(
      refusal(() => create({ metadata: { name: 'c' }, data: { '.': 'x', '..': 'y', '..data': 'z' } })),
    ).toEqual(
      invalidStatus('c', [
        { reason: 'FieldValueInvalid', message: `Invalid value: ".": must not be '.'`, field: 'data[.]' },
        { reason: 'FieldValueInvalid', message: `Invalid value: "..": must not be '..'`, field: 'data[..]' },
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: "..data": must not start with '..'`,
          field: 'data[..data]',
        },
      ]),
    )
  })

  it('refuses a key present in both data and binaryData, reporting it from both sides', () => {
    expect(
      refusal(() => create({ metadata: { name: 'c' }, data: { k: 'x' }, binaryData: { k: 'eA==' } })),
    ).toEqual(
      invalidStatus('c', [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "k": duplicate of key present in binaryData',
          field: 'data[k]',
        },
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "k": duplicate of key present in data',
          field: 'binaryData[k]',
        },
      ]),
    )
  })

  it('allows exactly 1 MiB of values, counting UTF-8 bytes of data and decoded bytes of binaryData', () => {
    // 3 bytes of "€" per character, and 3 decoded bytes per 4 base64 characters.
    const binary = Buffer.alloc(MAX_CONFIG_MAP_SIZE - 3 - 4).toString('base64')
    const created = create({
      metadata: { name: 'c' },
      data: { euro: '€', four: 'abcd' },
      binaryData: { b: binary },
    })
    expect(metadata(created).name).toBe('c')
  })

  it('refuses more than 1 MiB of values with Too long at the whole object, without the value', () => {
    const binary = Buffer.alloc(MAX_CONFIG_MAP_SIZE - 3).toString('base64')
    const status = refusal(() =>
      create({ metadata: { name: 'big' }, data: { euro: '€', one: 'x' }, binaryData: { b: binary } }),
    )
    expect(status).toEqual(
      invalidStatus('big', [
        { reason: 'FieldValueTooLong', message: 'Too long: must have at most 1048576 bytes', field: '[]' },
      ]),
    )
    expect(status.message).toBe('ConfigMap "big" is invalid: []: Too long: must have at most 1048576 bytes')
  })
})

describe('update and patch', () => {
  it('replace the object with PUT and refuse a stale resourceVersion with 409', () => {
    const created = create({ metadata: { name: 'c' }, data: { k: 'v1' } })
    const updated = registry.update(configMaps, 'spire', 'c', { ...created, data: { k: 'v2' } }, write)
    expect(updated.data).toEqual({ k: 'v2' })
    expect(Number(metadata(updated).resourceVersion)).toBeGreaterThan(
      Number(metadata(created).resourceVersion),
    )
    expect(
      refusal(() => registry.update(configMaps, 'spire', 'c', { ...created, data: { k: 'v3' } }, write)),
    ).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'Operation cannot be fulfilled on configmaps "c": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict',
      details: { name: 'c', kind: 'configmaps' },
      code: 409,
    })
  })

  it('apply a merge patch whose metadata.resourceVersion matches, as a precondition met', () => {
    const created = create({ metadata: { name: 'c' }, data: { a: '1', b: '2' } })
    const patched = mergePatch('c', {
      metadata: { resourceVersion: String(metadata(created).resourceVersion) },
      data: { a: null, c: '3' },
    })
    expect(patched.data).toEqual({ b: '2', c: '3' })
    expect(metadata(patched).resourceVersion).not.toBe(metadata(created).resourceVersion)
  })

  it('refuse a merge patch whose metadata.resourceVersion is stale with 409 Conflict', () => {
    const created = create({ metadata: { name: 'c' }, data: { a: '1' } })
    mergePatch('c', { data: { a: '2' } })
    const status = refusal(() =>
      mergePatch('c', {
        metadata: { resourceVersion: String(metadata(created).resourceVersion) },
        data: { a: '3' },
      }),
    )
    expect(status).toMatchObject({
      message:
        'Operation cannot be fulfilled on configmaps "c": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict',
      details: { name: 'c', kind: 'configmaps' },
      code: 409,
    })
    expect(registry.get(configMaps, 'spire', 'c').data).toEqual({ a: '2' })
  })

  it('apply strategic merge and JSON patches, and validate their result', () => {
    create({ metadata: { name: 'c' }, data: { a: '1' } })
    const strategic = registry.patch(
      configMaps,
      'spire',
      'c',
      'application/strategic-merge-patch+json',
      { data: { b: '2' } },
      write,
    )
    expect(strategic.data).toEqual({ a: '1', b: '2' })
    const json = registry.patch(
      configMaps,
      'spire',
      'c',
      'application/json-patch+json',
      [
        { op: 'remove', path: '/data/a' },
        { op: 'add', path: '/binaryData', value: { bin: 'AAE=' } },
      ],
      write,
    )
    expect(json).toMatchObject({ data: { b: '2' }, binaryData: { bin: 'AAE=' } })
    expect(refusal(() => mergePatch('c', { binaryData: { b: 'AAE=' } }))).toEqual(
      invalidStatus('c', [
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "b": duplicate of key present in binaryData',
          field: 'data[b]',
        },
        {
          reason: 'FieldValueInvalid',
          message: 'Invalid value: "b": duplicate of key present in data',
          field: 'binaryData[b]',
        },
      ]),
    )
  })

  it('refuse a patch that makes binaryData not base64 with 400', () => {
    create({ metadata: { name: 'c' } })
    expect(refusal(() => mergePatch('c', { binaryData: { k: 'A' } })).message).toBe(
      'ConfigMap in version "v1" cannot be handled as a ConfigMap: illegal base64 data at input byte 0',
    )
  })
})

describe('ValidateConfigMapUpdate of an immutable ConfigMap', () => {
  beforeEach(() => {
    create({ metadata: { name: 'frozen' }, immutable: true, data: { a: '1' }, binaryData: { b: 'AA==' } })
  })

  it('refuses a change of data at field data', () => {
    expect(refusal(() => mergePatch('frozen', { data: { a: '2' } }))).toEqual(
      invalidStatus('frozen', [{ reason: 'FieldValueForbidden', message: IMMUTABLE, field: 'data' }]),
    )
  })

  it('refuses a change of binaryData at field binaryData', () => {
    expect(refusal(() => mergePatch('frozen', { binaryData: null }))).toEqual(
      invalidStatus('frozen', [{ reason: 'FieldValueForbidden', message: IMMUTABLE, field: 'binaryData' }]),
    )
  })

  it('refuses unsetting immutable, or setting it to false, at field immutable', () => {
    expect(refusal(() => mergePatch('frozen', { immutable: null }))).toEqual(
      invalidStatus('frozen', [{ reason: 'FieldValueForbidden', message: IMMUTABLE, field: 'immutable' }]),
    )
    expect(refusal(() => mergePatch('frozen', { immutable: false, data: { a: '2' } }))).toEqual(
      invalidStatus('frozen', [
        { reason: 'FieldValueForbidden', message: IMMUTABLE, field: 'immutable' },
        { reason: 'FieldValueForbidden', message: IMMUTABLE, field: 'data' },
      ]),
    )
  })

  it('still lets metadata change', () => {
    expect(metadata(mergePatch('frozen', { metadata: { labels: { tier: 'x' } } })).labels).toEqual({
      tier: 'x',
    })
  })

  it('lets a mutable ConfigMap change its data and become immutable in one write', () => {
    create({ metadata: { name: 'thawed' }, data: { a: '1' } })
    expect(mergePatch('thawed', { immutable: true, data: { a: '2' } })).toMatchObject({
      immutable: true,
      data: { a: '2' },
    })
  })
})

describe('delete', () => {
  it('answers with a success Status naming the configmap', () => {
    const created = create({ metadata: { name: 'c' } })
    expect(registry.delete(configMaps, 'spire', 'c', write).body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: 'c', kind: 'configmaps', uid: metadata(created).uid },
    })
    expect(refusal(() => registry.get(configMaps, 'spire', 'c')).message).toBe('configmaps "c" not found')
  })
})
