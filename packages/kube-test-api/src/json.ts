/**
 * JSON values as kube-apiserver receives and returns them. Objects are kept as
 * plain JSON (not classes) because the wire form is what this package must get
 * right, field for field and in kube-apiserver's key order.
 */

/** A JSON scalar. */
export type JsonPrimitive = string | number | boolean | null

/** Any JSON value. */
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject

/** A JSON object; key order is significant for the wire form. */
export interface JsonObject {
  [key: string]: JsonValue
}

/** Whether `value` is a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A deep copy of `value`; stored objects are never shared with callers. */
export function cloneJson<T extends JsonValue>(value: T): T {
  return structuredClone(value)
}

/** Deep equality of two JSON values; key order is ignored. */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined || a === null || b === null) return false
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]))
  }
  if (isJsonObject(a)) {
    if (!isJsonObject(b)) return false
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && jsonEqual(a[key], b[key]))
  }
  return false
}

/** The object at `value[key]`, or `undefined` when absent or not an object. */
export function objectAt(value: JsonObject | undefined, key: string): JsonObject | undefined {
  const child = value?.[key]
  return isJsonObject(child) ? child : undefined
}

/** The string at `value[key]`, or `undefined` when absent or not a string. */
export function stringAt(value: JsonObject | undefined, key: string): string | undefined {
  const child = value?.[key]
  return typeof child === 'string' ? child : undefined
}

/** The number at `value[key]`, or `undefined` when absent or not a number. */
export function numberAt(value: JsonObject | undefined, key: string): number | undefined {
  const child = value?.[key]
  return typeof child === 'number' ? child : undefined
}

/** The array at `value[key]`, or `undefined` when absent or not an array. */
export function arrayAt(value: JsonObject | undefined, key: string): JsonValue[] | undefined {
  const child = value?.[key]
  return Array.isArray(child) ? child : undefined
}

/** The string map (labels, annotations) at `value[key]`; non-string entries are skipped. */
export function stringMapAt(value: JsonObject | undefined, key: string): Record<string, string> {
  const map: Record<string, string> = {}
  for (const [entryKey, entry] of Object.entries(objectAt(value, key) ?? {})) {
    if (typeof entry === 'string') map[entryKey] = entry
  }
  return map
}

/**
 * JSON with the keys of every object sorted, as Go's encoding/json writes a
 * `map[string]any` (JWT claims, `user.extra`).
 */
export function sortKeysDeep(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sortKeysDeep)
  if (!isJsonObject(value)) return value
  const sorted: JsonObject = {}
  for (const key of Object.keys(value).sort(compareGoStrings)) {
    sorted[key] = sortKeysDeep(value[key] as JsonValue)
  }
  return sorted
}

/** Go's string order: byte-wise, which for the ASCII keys used here is code-unit order. */
export function compareGoStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
