import { compareGoStrings, isJsonObject, type JsonObject, type JsonValue } from './json.ts'

/**
 * A small description of the Kubernetes Go types this package serves, enough
 * to behave like kube-apiserver on the wire:
 *
 * - key order and `omitempty` of every known field (responses are written in
 *   Go struct order; Go maps come out with sorted keys);
 * - the zero value of a type (`{"metadata":{"creationTimestamp":null},
 *   "spec":{"containers":null},"status":{}}` is a zero Pod, the body of a
 *   watch BOOKMARK and the "before" side of a create's managed fields);
 * - list semantics (`atomic`, `set`, `map` keyed by fields) for managed
 *   fields and strategic merge patches;
 * - Go type names, for the decode errors kube-apiserver returns.
 *
 * Fields the schema does not know are kept as sent, after the known ones.
 */
export type TypeSchema = ScalarSchema | StructSchema | MapSchema | ListSchema | AnySchema

/** A Go scalar: `string`, `int64`, `bool`, `v1.Time` (RFC 3339 or null), or a free-form quantity. */
export interface ScalarSchema {
  readonly type: 'scalar'
  readonly goType: string
  readonly json: 'string' | 'number' | 'boolean' | 'time'
}

/** A Go struct: named fields in declaration order. */
export interface StructSchema {
  readonly type: 'struct'
  readonly goType: string
  readonly fields: Readonly<Record<string, FieldSchema>>
  /** `+structType=atomic`: managed as one value (e.g. `roleRef`). */
  readonly atomic?: boolean
}

/** A Go `map[string]T`, written with sorted keys. */
export interface MapSchema {
  readonly type: 'map'
  readonly goType: string
  readonly values: TypeSchema
}

/** `+listType`: atomic (default), set, or map keyed by the named fields. */
export type ListType =
  | { readonly type: 'atomic' }
  | { readonly type: 'set' }
  | { readonly type: 'map'; readonly keys: readonly string[] }

/** A Go slice. */
export interface ListSchema {
  readonly type: 'list'
  readonly goType: string
  readonly items: TypeSchema
  readonly listType: ListType
}

/** A value this package does not model; kept verbatim and managed as one value. */
export interface AnySchema {
  readonly type: 'any'
}

/** A struct field: its type and how Go's encoding/json writes it. */
export interface FieldSchema {
  readonly schema: TypeSchema
  /** `omitempty`: dropped when empty (a non-pointer scalar's zero, an empty map or slice, null). */
  readonly omitEmpty: boolean
  /** A pointer (`*int64`, `*bool`, `*Struct`): zero is null, and `false`/`0` are kept. */
  readonly pointer: boolean
}

/** Builders that keep the type definitions short and readable. */
export const t = {
  string: { type: 'scalar', goType: 'string', json: 'string' } as ScalarSchema,
  int64: { type: 'scalar', goType: 'int64', json: 'number' } as ScalarSchema,
  int32: { type: 'scalar', goType: 'int32', json: 'number' } as ScalarSchema,
  bool: { type: 'scalar', goType: 'bool', json: 'boolean' } as ScalarSchema,
  time: { type: 'scalar', goType: 'v1.Time', json: 'time' } as ScalarSchema,
  any: { type: 'any' } as AnySchema,
  struct(
    goType: string,
    fields: Record<string, FieldSchema | TypeSchema>,
    options: { atomic?: boolean } = {},
  ): StructSchema {
    const normalized: Record<string, FieldSchema> = {}
    for (const [name, field] of Object.entries(fields)) {
      normalized[name] = 'schema' in field ? field : { schema: field, omitEmpty: true, pointer: false }
    }
    return { type: 'struct', goType, fields: normalized, ...(options.atomic ? { atomic: true } : {}) }
  },
  map(values: TypeSchema, goType = `map[string]${goTypeName(values)}`): MapSchema {
    return { type: 'map', goType, values }
  },
  list(items: TypeSchema, listType: ListType = { type: 'atomic' }): ListSchema {
    return { type: 'list', goType: `[]${goTypeName(items)}`, items, listType }
  },
  listMap(items: TypeSchema, ...keys: string[]): ListSchema {
    return t.list(items, { type: 'map', keys })
  },
  /** A field without `omitempty` (always written; absent means the zero value). */
  required(schema: TypeSchema): FieldSchema {
    return { schema, omitEmpty: false, pointer: false }
  },
  /** An `omitempty` pointer (`*bool`, `*int64`, `*Struct`): `false` and `0` are kept. */
  pointer(schema: TypeSchema): FieldSchema {
    return { schema, omitEmpty: true, pointer: true }
  },
  /** A pointer without `omitempty`: written as null when absent. */
  requiredPointer(schema: TypeSchema): FieldSchema {
    return { schema, omitEmpty: false, pointer: true }
  },
}

function goTypeName(schema: TypeSchema): string {
  return schema.type === 'any' ? 'interface {}' : schema.goType
}

/** Go's `omitempty` test for a non-pointer value. */
function isGoEmpty(value: JsonValue): boolean {
  if (value === null || value === '' || value === 0 || value === false) return true
  if (Array.isArray(value)) return value.length === 0
  return false
}

/** The zero value of a type as Go's encoding/json writes it. */
export function zeroValue(schema: TypeSchema): JsonValue {
  switch (schema.type) {
    case 'scalar':
      return schema.json === 'string'
        ? ''
        : schema.json === 'number'
          ? 0
          : schema.json === 'boolean'
            ? false
            : null
    case 'struct':
      return canonicalize(schema, {})
    default:
      return null
  }
}

/**
 * `value` as kube-apiserver would write it after decoding it into the Go type
 * of `schema`: known fields in declaration order with `omitempty` applied and
 * zero values filled in, maps with sorted keys, unknown fields kept at the end.
 */
export function canonicalize(schema: TypeSchema, value: JsonValue): JsonValue {
  switch (schema.type) {
    case 'any':
    case 'scalar':
      return value
    case 'map': {
      if (!isJsonObject(value)) return value
      const out: JsonObject = {}
      for (const key of Object.keys(value).sort(compareGoStrings)) {
        out[key] = canonicalize(schema.values, value[key] as JsonValue)
      }
      return out
    }
    case 'list':
      return Array.isArray(value) ? value.map((item) => canonicalize(schema.items, item)) : value
    case 'struct': {
      if (!isJsonObject(value)) return value
      const out: JsonObject = {}
      for (const [name, field] of Object.entries(schema.fields)) {
        const fieldValue = value[name]
        if (fieldValue === undefined || fieldValue === null) {
          if (!field.omitEmpty) out[name] = field.pointer ? null : zeroValue(field.schema)
          else if (field.schema.type === 'struct' && !field.pointer) out[name] = zeroValue(field.schema)
          continue
        }
        const canonical = canonicalize(field.schema, fieldValue)
        const isStruct = field.schema.type === 'struct' || field.schema.type === 'any'
        if (field.omitEmpty && !field.pointer && !isStruct && isGoEmpty(canonical)) continue
        if (
          field.omitEmpty &&
          isJsonObject(canonical) &&
          field.schema.type === 'map' &&
          Object.keys(canonical).length === 0
        ) {
          continue
        }
        out[name] = canonical
      }
      for (const [name, fieldValue] of Object.entries(value)) {
        if (!(name in schema.fields)) out[name] = fieldValue
      }
      return out
    }
  }
}

/** A JSON value's type name as Go's decoder reports it ("string", "number", "object", …). */
function jsonTypeName(value: JsonValue): string {
  if (Array.isArray(value)) return 'array'
  if (value === null) return 'null'
  if (typeof value === 'object') return 'object'
  if (typeof value === 'boolean') return 'bool'
  return typeof value
}

/** One mismatch between a JSON body and the Go type it must decode into. */
export interface DecodeMismatch {
  /** `json: cannot unmarshal string into Go struct field TokenReview.spec of type v1.TokenReviewSpec`. */
  readonly message: string
}

/**
 * The first place where `value` cannot decode into `schema`, worded as Go's
 * encoding/json words it, or `undefined` when it decodes. `rootName` is the
 * top-level Go type name (`TokenReview`).
 */
export function findDecodeMismatch(
  schema: StructSchema,
  value: JsonObject,
  rootName: string,
): DecodeMismatch | undefined {
  return checkStruct(schema, value, rootName, [])
}

function checkStruct(
  schema: StructSchema,
  value: JsonObject,
  structName: string,
  path: readonly string[],
): DecodeMismatch | undefined {
  for (const [name, field] of Object.entries(schema.fields)) {
    const fieldValue = value[name]
    if (fieldValue === undefined || fieldValue === null) continue
    const mismatch = checkValue(field.schema, fieldValue, structName, [...path, name])
    if (mismatch !== undefined) return mismatch
  }
  return undefined
}

function checkValue(
  schema: TypeSchema,
  value: JsonValue,
  structName: string,
  path: readonly string[],
): DecodeMismatch | undefined {
  const mismatch = (goType: string): DecodeMismatch => ({
    message: `json: cannot unmarshal ${jsonTypeName(value)} into Go struct field ${structName}.${path.join('.')} of type ${goType}`,
  })
  switch (schema.type) {
    case 'any':
      return undefined
    case 'scalar':
      if (schema.json === 'time') {
        return typeof value === 'string' ? undefined : mismatch(schema.goType)
      }
      if (schema.json === 'number') {
        return typeof value === 'number' && Number.isInteger(value) ? undefined : mismatch(schema.goType)
      }
      return typeof value === schema.json ? undefined : mismatch(schema.goType)
    case 'struct':
      if (!isJsonObject(value)) return mismatch(schema.goType)
      return checkStruct(schema, value, schema.goType.replace(/^.*\./, ''), path)
    case 'map':
      if (!isJsonObject(value)) return mismatch(schema.goType)
      for (const [key, entry] of Object.entries(value)) {
        if (entry === null) continue
        const inner = checkValue(schema.values, entry, structName, [...path, key])
        if (inner !== undefined) return inner
      }
      return undefined
    case 'list':
      if (!Array.isArray(value)) return mismatch(schema.goType)
      for (const item of value) {
        if (item === null) continue
        const inner = checkValue(schema.items, item, structName, path)
        if (inner !== undefined) return inner
      }
      return undefined
  }
}
