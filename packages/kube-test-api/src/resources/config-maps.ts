import { configMap as configMapSchema } from '../api-types.ts'
import { type JsonObject, jsonEqual, objectAt } from '../json.ts'
import type { FieldError } from '../status.ts'
import { decodedLength, requireBase64Values } from './byte-maps.ts'
import { validateConfigKey } from './config-keys.ts'
import type { ResourceDefinition } from './definition.ts'

/**
 * ConfigMaps, with `ValidateConfigMap` and `ValidateConfigMapUpdate` of
 * `pkg/apis/core/validation`: config keys in `data` and `binaryData`, no key
 * in both, at most 1 MiB of values, and nothing but metadata changing once
 * `immutable` is set. The strategy adds nothing else (no status, no
 * generation), and a DELETE answers with a `Status`.
 */

/** `core.MaxSecretSize`, which ConfigMaps share: the values of `data` and `binaryData` together. */
export const MAX_CONFIG_MAP_SIZE = 1024 * 1024

const IMMUTABLE_DETAIL = 'field is immutable when `immutable` is set'

/** Decoding: `binaryData` is `[]byte`, so its values must be base64 (a 400 otherwise). */
function applyDefaults(configMap: JsonObject): void {
  requireBase64Values(objectAt(configMap, 'binaryData'), 'ConfigMap')
}

/** The size Go counts: `len(string)` is UTF-8 bytes, `len([]byte)` the decoded bytes. */
function valueSize(value: unknown, binary: boolean): number {
  if (typeof value !== 'string') return 0
  return binary ? decodedLength(value) : Buffer.byteLength(value, 'utf8')
}

/**
 * `ValidateConfigMap`. A key in both maps is reported from each side. Go
 * walks its maps in random order; keys are walked here in the sorted order
 * they are stored in, so the errors come out the same every time.
 */
function validateContent(configMap: JsonObject): FieldError[] {
  const errors: FieldError[] = []
  const data = objectAt(configMap, 'data') ?? {}
  const binaryData = objectAt(configMap, 'binaryData') ?? {}
  let totalSize = 0
  const bags = [
    { field: 'data', entries: data, other: binaryData, otherField: 'binaryData', binary: false },
    { field: 'binaryData', entries: binaryData, other: data, otherField: 'data', binary: true },
  ]
  for (const { field, entries, other, otherField, binary } of bags) {
    for (const [key, value] of Object.entries(entries)) {
      errors.push(...validateConfigKey(key, field))
      if (Object.hasOwn(other, key)) {
        errors.push({
          field: `${field}[${key}]`,
          type: 'Invalid value',
          value: key,
          detail: `duplicate of key present in ${otherField}`,
        })
      }
      totalSize += valueSize(value, binary)
    }
  }
  // `field.NewPath("")`: the error is about the whole object, and prints as `[]`.
  if (totalSize > MAX_CONFIG_MAP_SIZE) {
    errors.push({ field: '[]', type: 'Too long', detail: `must have at most ${MAX_CONFIG_MAP_SIZE} bytes` })
  }
  return errors
}

/** `ValidateConfigMapUpdate`: an immutable ConfigMap keeps `immutable`, `data` and `binaryData`. */
function validateImmutable(configMap: JsonObject, previous: JsonObject): FieldError[] {
  if (previous.immutable !== true) return []
  const errors: FieldError[] = []
  if (configMap.immutable !== true)
    errors.push({ field: 'immutable', type: 'Forbidden', detail: IMMUTABLE_DETAIL })
  for (const field of ['data', 'binaryData']) {
    if (!jsonEqual(configMap[field], previous[field])) {
      errors.push({ field, type: 'Forbidden', detail: IMMUTABLE_DETAIL })
    }
  }
  return errors
}

function validate(configMap: JsonObject, previous: JsonObject | undefined): FieldError[] {
  const immutable = previous === undefined ? [] : validateImmutable(configMap, previous)
  return [...immutable, ...validateContent(configMap)]
}

/** The `configmaps` resource. */
export const configMaps: ResourceDefinition = {
  group: '',
  version: 'v1',
  resource: 'configmaps',
  kind: 'ConfigMap',
  listKind: 'ConfigMapList',
  namespaced: true,
  schema: configMapSchema,
  nameRule: 'dns1123-subdomain',
  hasStatus: false,
  deleteReturnsObject: false,
  applyDefaults,
  validate,
}
