import { cloneJson, isJsonObject, type JsonObject, type JsonValue, jsonEqual } from './json.ts'
import { listItemPathElement } from './managed-fields.ts'
import type { TypeSchema } from './schema.ts'
import { badRequest, unsupportedMediaType } from './status.ts'

/**
 * The PATCH media types kube-apiserver accepts (server-side apply aside):
 * JSON merge patch (RFC 7386), strategic merge patch (merge patch where
 * keyed lists merge by key and `$patch` directives apply) and JSON patch
 * (RFC 6902).
 */

/** The PATCH content types served, in kube-apiserver's order. */
export const PATCH_CONTENT_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
] as const

/** One of {@link PATCH_CONTENT_TYPES}. */
export type PatchContentType = (typeof PATCH_CONTENT_TYPES)[number]

/** The patch type of a request's Content-Type (parameters ignored), or a 415. */
export function patchTypeOf(contentType: string | undefined): PatchContentType {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  const known = PATCH_CONTENT_TYPES.find((type) => type === mediaType)
  if (known === undefined) {
    throw unsupportedMediaType([...PATCH_CONTENT_TYPES, 'application/apply-patch+yaml'])
  }
  return known
}

/** Applies `patch` of `type` to `target` (not modified); `schema` gives the keys of keyed lists. */
export function applyPatch(
  type: PatchContentType,
  target: JsonObject,
  patch: JsonValue,
  schema: TypeSchema,
): JsonObject {
  let result: JsonValue
  switch (type) {
    case 'application/merge-patch+json':
      result = mergePatch(target, patch)
      break
    case 'application/strategic-merge-patch+json':
      result = strategicMergePatch(target, patch, schema)
      break
    case 'application/json-patch+json':
      result = jsonPatch(target, patch)
      break
  }
  if (!isJsonObject(result)) throw badRequest('the patch did not result in an object')
  return result
}

/** RFC 7386. */
function mergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) return cloneJson(patch)
  const result: JsonObject = isJsonObject(target) ? cloneJson(target) : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key]
    else result[key] = mergePatch(result[key], value)
  }
  return result
}

function fieldSchema(schema: TypeSchema | undefined, key: string): TypeSchema | undefined {
  if (schema?.type === 'struct') return schema.fields[key]?.schema
  if (schema?.type === 'map') return schema.values
  return undefined
}

function strategicMergePatch(
  target: JsonValue | undefined,
  patch: JsonValue,
  schema: TypeSchema | undefined,
): JsonValue {
  if (!isJsonObject(patch)) return cloneJson(patch)
  if (patch.$patch === 'replace') {
    const { $patch: _directive, ...rest } = patch
    return cloneJson(rest)
  }
  if (patch.$patch === 'delete') return null
  const result: JsonObject = isJsonObject(target) ? cloneJson(target) : {}
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$setElementOrder/') || key === '$retainKeys') continue
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length)
      const current = result[field]
      if (Array.isArray(current) && Array.isArray(value)) {
        result[field] = current.filter((item) => !value.some((removed) => jsonEqual(removed, item)))
      }
      continue
    }
    const childSchema = fieldSchema(schema, key)
    if (value === null) {
      delete result[key]
    } else if (
      Array.isArray(value) &&
      childSchema?.type === 'list' &&
      childSchema.listType.type !== 'atomic'
    ) {
      result[key] = mergeList(result[key], value, childSchema)
    } else if (isJsonObject(value)) {
      const merged = strategicMergePatch(result[key], value, childSchema)
      if (merged === null) delete result[key]
      else result[key] = merged
    } else {
      result[key] = cloneJson(value)
    }
  }
  return result
}

function mergeList(
  target: JsonValue | undefined,
  patch: JsonValue[],
  schema: Extract<TypeSchema, { type: 'list' }>,
): JsonValue[] {
  const result = Array.isArray(target) ? cloneJson(target) : []
  if (schema.listType.type === 'set') {
    for (const item of patch)
      if (!result.some((existing) => jsonEqual(existing, item))) result.push(cloneJson(item))
    return result
  }
  for (const item of patch) {
    if (!isJsonObject(item)) continue
    const element = listItemPathElement(schema, withoutDirectives(item), 0)
    const index = result.findIndex(
      (existing, position) =>
        isJsonObject(existing) && listItemPathElement(schema, existing, position) === element,
    )
    if (item.$patch === 'delete') {
      if (index !== -1) result.splice(index, 1)
      continue
    }
    if (index === -1) result.push(cloneJson(withoutDirectives(item)))
    else result[index] = strategicMergePatch(result[index], item, schema.items) ?? {}
  }
  return result
}

function withoutDirectives(item: JsonObject): JsonObject {
  const { $patch: _directive, ...rest } = item
  return rest
}

function decodePointer(pointer: string): string[] {
  if (pointer === '') return []
  if (!pointer.startsWith('/')) throw badRequest(`JSON pointer "${pointer}" must start with "/"`)
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
}

function resolveParent(
  document: JsonValue,
  path: string[],
  op: string,
): { parent: JsonObject | JsonValue[]; key: string } {
  let current: JsonValue = document
  for (const segment of path.slice(0, -1)) {
    const next: JsonValue | undefined = Array.isArray(current)
      ? current[Number(segment)]
      : isJsonObject(current)
        ? current[segment]
        : undefined
    if (next === undefined)
      throw badRequest(`doc is missing path: "/${path.join('/')}": missing value (op ${op})`)
    current = next
  }
  if (!Array.isArray(current) && !isJsonObject(current)) {
    throw badRequest(`doc is missing path: "/${path.join('/')}": missing value (op ${op})`)
  }
  return { parent: current, key: path.at(-1) ?? '' }
}

function readPointer(document: JsonValue, path: string[], op: string): JsonValue {
  const { parent, key } = resolveParent(document, path, op)
  const value = Array.isArray(parent) ? parent[Number(key)] : parent[key]
  if (value === undefined)
    throw badRequest(`doc is missing path: "/${path.join('/')}": missing value (op ${op})`)
  return value
}

function addAt(document: JsonValue, path: string[], value: JsonValue, op: string): void {
  const { parent, key } = resolveParent(document, path, op)
  if (Array.isArray(parent)) {
    const index = key === '-' ? parent.length : Number(key)
    if (!Number.isInteger(index) || index < 0 || index > parent.length) {
      throw badRequest(`add operation does not apply: index ${key} is out of bounds`)
    }
    parent.splice(index, 0, value)
  } else parent[key] = value
}

function removeAt(document: JsonValue, path: string[], op: string): JsonValue {
  const value = readPointer(document, path, op)
  const { parent, key } = resolveParent(document, path, op)
  if (Array.isArray(parent)) parent.splice(Number(key), 1)
  else delete parent[key]
  return value
}

/** RFC 6902. */
function jsonPatch(target: JsonObject, patch: JsonValue): JsonValue {
  if (!Array.isArray(patch)) throw badRequest('a JSON patch must be an array of operations')
  let document: JsonValue = cloneJson(target)
  for (const operation of patch) {
    if (!isJsonObject(operation) || typeof operation.op !== 'string' || typeof operation.path !== 'string') {
      throw badRequest('every JSON patch operation needs "op" and "path"')
    }
    const op = operation.op
    const path = decodePointer(operation.path)
    const value = operation.value
    switch (op) {
      case 'add':
        if (value === undefined) throw badRequest('add operation needs a "value"')
        if (path.length === 0) document = cloneJson(value)
        else addAt(document, path, cloneJson(value), op)
        break
      case 'remove':
        removeAt(document, path, op)
        break
      case 'replace':
        if (value === undefined) throw badRequest('replace operation needs a "value"')
        if (path.length === 0) document = cloneJson(value)
        else {
          removeAt(document, path, op)
          addAt(document, path, cloneJson(value), op)
        }
        break
      case 'test':
        if (!jsonEqual(readPointer(document, path, op), value ?? null)) {
          throw badRequest(`testing value /${path.join('/')} failed: test failed`)
        }
        break
      case 'move':
      case 'copy': {
        if (typeof operation.from !== 'string') throw badRequest(`${op} operation needs a "from"`)
        const from = decodePointer(operation.from)
        const moved =
          op === 'move' ? removeAt(document, from, op) : cloneJson(readPointer(document, from, op))
        addAt(document, path, moved, op)
        break
      }
      default:
        throw badRequest(`Unexpected kind: ${op}`)
    }
  }
  return document
}
