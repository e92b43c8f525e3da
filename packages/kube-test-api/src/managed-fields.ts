import { formatKubeTime } from './clock.ts'
import {
  compareGoStrings,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  jsonEqual,
  objectAt,
} from './json.ts'
import type { TypeSchema } from './schema.ts'

/**
 * `metadata.managedFields` as kube-apiserver keeps them for non-apply writes
 * (operation `Update`): the fields a write added or changed, compared against
 * the object before it (a zero object for a create), are credited to the
 * writer's manager — the User-Agent up to its first `/`, or `unknown`.
 *
 * The comparison follows structured-merge-diff's `Compare`: a map, struct or
 * list item that did not exist before is itself a member of the set (written
 * as `".": {}`), a leaf counts when added or changed, atomic values are
 * leaves, and both-sides-empty values are leaves.
 */

/** A set of field paths, stored as a tree; a node is a member when the path itself is in the set. */
export class FieldSet {
  member = false
  readonly children = new Map<string, FieldSet>()

  /** Adds `path` (a list of serialized path elements such as `f:spec`, `k:{"name":"a"}`). */
  insert(path: readonly string[]): void {
    let node: FieldSet = this
    for (const element of path) {
      let child = node.children.get(element)
      if (child === undefined) {
        child = new FieldSet()
        node.children.set(element, child)
      }
      node = child
    }
    node.member = true
  }

  /** Whether no path is a member. */
  isEmpty(): boolean {
    if (this.member) return false
    for (const child of this.children.values()) if (!child.isEmpty()) return false
    return true
  }

  /** The paths in this set or in `other`. */
  union(other: FieldSet): FieldSet {
    const result = this.copy()
    result.#addAll(other)
    return result
  }

  /** The paths in this set and not in `other` (membership by membership, like SMD's `Difference`). */
  difference(other: FieldSet): FieldSet {
    const result = new FieldSet()
    result.member = this.member && !other.member
    for (const [element, child] of this.children) {
      const otherChild = other.children.get(element)
      const remaining = otherChild === undefined ? child.copy() : child.difference(otherChild)
      if (!remaining.isEmpty()) result.children.set(element, remaining)
    }
    return result
  }

  /** The paths in this set that are neither in `other` nor below one of its members (SMD's `RecursiveDifference`). */
  recursiveDifference(other: FieldSet): FieldSet {
    const result = new FieldSet()
    result.member = this.member && !other.member
    for (const [element, child] of this.children) {
      const otherChild = other.children.get(element)
      if (otherChild?.member) continue
      const remaining = otherChild === undefined ? child.copy() : child.recursiveDifference(otherChild)
      if (!remaining.isEmpty()) result.children.set(element, remaining)
    }
    return result
  }

  copy(): FieldSet {
    const result = new FieldSet()
    result.#addAll(this)
    return result
  }

  #addAll(other: FieldSet): void {
    this.member ||= other.member
    for (const [element, child] of other.children) {
      const own = this.children.get(element)
      if (own === undefined) this.children.set(element, child.copy())
      else own.#addAll(child)
    }
  }

  /** The `fieldsV1` JSON: `"."` first, then fields, keys, values and indexes, each sorted. */
  toFieldsV1(): JsonObject {
    const out: JsonObject = {}
    if (this.member && this.children.size > 0) out['.'] = {}
    for (const element of [...this.children.keys()].sort(comparePathElements)) {
      const child = this.children.get(element)
      if (child !== undefined && !child.isEmpty()) out[element] = child.toFieldsV1()
    }
    return out
  }

  /** Parses a `fieldsV1` JSON value back into a set. */
  static fromFieldsV1(json: JsonValue | undefined): FieldSet {
    const set = new FieldSet()
    if (!isJsonObject(json)) return set
    const visit = (node: JsonObject, target: FieldSet): void => {
      for (const [element, child] of Object.entries(node)) {
        if (element === '.') {
          target.member = true
          continue
        }
        const childSet = new FieldSet()
        if (isJsonObject(child)) {
          if (Object.keys(child).length === 0) childSet.member = true
          else visit(child, childSet)
        }
        target.children.set(element, childSet)
      }
    }
    visit(json, set)
    return set
  }

  /** A set of the given paths. */
  static of(...paths: (readonly string[])[]): FieldSet {
    const set = new FieldSet()
    for (const path of paths) set.insert(path)
    return set
  }
}

const ELEMENT_RANK: Readonly<Record<string, number>> = { f: 0, k: 1, v: 2, i: 3 }

function comparePathElements(a: string, b: string): number {
  const rankDifference = (ELEMENT_RANK[a[0] ?? ''] ?? 9) - (ELEMENT_RANK[b[0] ?? ''] ?? 9)
  return rankDifference !== 0 ? rankDifference : compareGoStrings(a, b)
}

/** The fields a write added, changed and removed. */
export interface Comparison {
  readonly added: FieldSet
  readonly modified: FieldSet
  readonly removed: FieldSet
}

/** Compares two versions of an object the way structured-merge-diff does for managed fields. */
export function compareObjects(
  schema: TypeSchema,
  before: JsonValue | undefined,
  after: JsonValue | undefined,
): Comparison {
  const comparison: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() }
  compareValue(schema, before, after, [], comparison)
  return comparison
}

function isEmptyValue(value: JsonValue | undefined): boolean {
  if (value === undefined || value === null) return true
  if (Array.isArray(value)) return value.length === 0
  return isJsonObject(value) && Object.keys(value).length === 0
}

function compareLeaf(
  before: JsonValue | undefined,
  after: JsonValue | undefined,
  path: string[],
  out: Comparison,
): void {
  if (before === undefined) out.added.insert(path)
  else if (after === undefined) out.removed.insert(path)
  else if (!jsonEqual(before, after)) out.modified.insert(path)
}

function compareValue(
  schema: TypeSchema,
  before: JsonValue | undefined,
  after: JsonValue | undefined,
  path: string[],
  out: Comparison,
): void {
  const bothEmpty = isEmptyValue(before) && isEmptyValue(after)
  const isLeaf =
    schema.type === 'scalar' ||
    (schema.type === 'list' && schema.listType.type === 'atomic') ||
    (schema.type === 'struct' && schema.atomic === true) ||
    (schema.type === 'any' && !isJsonObject(after ?? before ?? null)) ||
    bothEmpty
  if (isLeaf) {
    compareLeaf(before, after, path, out)
    return
  }
  if (schema.type === 'list') compareList(schema, before, after, path, out)
  else compareMap(schema, before, after, path, out)
  // Non-leaf items that appear or disappear are members themselves (the `"."`).
  if (before === undefined) out.added.insert(path)
  else if (after === undefined) out.removed.insert(path)
}

function compareMap(
  schema: TypeSchema,
  before: JsonValue | undefined,
  after: JsonValue | undefined,
  path: string[],
  out: Comparison,
): void {
  const beforeMap = isJsonObject(before) ? before : {}
  const afterMap = isJsonObject(after) ? after : {}
  const keys = new Set([...Object.keys(beforeMap), ...Object.keys(afterMap)])
  for (const key of keys) {
    compareValue(childSchema(schema, key), beforeMap[key], afterMap[key], [...path, `f:${key}`], out)
  }
}

function childSchema(schema: TypeSchema, key: string): TypeSchema {
  if (schema.type === 'struct') return schema.fields[key]?.schema ?? { type: 'any' }
  if (schema.type === 'map') return schema.values
  return { type: 'any' }
}

function compareList(
  schema: Extract<TypeSchema, { type: 'list' }>,
  before: JsonValue | undefined,
  after: JsonValue | undefined,
  path: string[],
  out: Comparison,
): void {
  const beforeItems = indexListItems(schema, before)
  const afterItems = indexListItems(schema, after)
  const elements = [
    ...afterItems.keys(),
    ...[...beforeItems.keys()].filter((element) => !afterItems.has(element)),
  ]
  for (const element of elements) {
    compareValue(schema.items, beforeItems.get(element), afterItems.get(element), [...path, element], out)
  }
}

/** The serialized path element of every item of a set or map-typed list (`v:"x"`, `k:{"name":"a"}`). */
function indexListItems(
  schema: Extract<TypeSchema, { type: 'list' }>,
  list: JsonValue | undefined,
): Map<string, JsonValue> {
  const items = new Map<string, JsonValue>()
  if (!Array.isArray(list)) return items
  list.forEach((item, index) => {
    const element = listItemPathElement(schema, item, index)
    if (!items.has(element)) items.set(element, item)
  })
  return items
}

/** `k:{…}` for map-typed lists (key fields sorted), `v:…` for sets, `i:n` otherwise. */
export function listItemPathElement(
  schema: Extract<TypeSchema, { type: 'list' }>,
  item: JsonValue,
  index: number,
): string {
  const listType = schema.listType
  if (listType.type === 'set') return `v:${JSON.stringify(item)}`
  if (listType.type === 'map' && isJsonObject(item)) {
    const key: JsonObject = {}
    for (const field of [...listType.keys].sort(compareGoStrings)) {
      const value = item[field]
      if (value !== undefined) key[field] = value
    }
    return `k:${JSON.stringify(key)}`
  }
  return `i:${index}`
}

/** Metadata fields never credited to a manager (kube's strip-meta manager). */
const STRIPPED_FIELDS = FieldSet.of(
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata'],
  ['f:metadata', 'f:name'],
  ['f:metadata', 'f:namespace'],
  ['f:metadata', 'f:creationTimestamp'],
  ['f:metadata', 'f:selfLink'],
  ['f:metadata', 'f:uid'],
  ['f:metadata', 'f:generation'],
  ['f:metadata', 'f:managedFields'],
  ['f:metadata', 'f:resourceVersion'],
)

/** What a write needs to update `metadata.managedFields`. */
export interface ManagedFieldsWrite {
  readonly schema: TypeSchema
  /** The object before the write: the stored one, or the kind's zero object for a create. */
  readonly before: JsonObject
  /** The object after defaulting, before admission and the strategy fill in server-side fields. */
  readonly after: JsonObject
  /** The writer's manager name (see {@link managerFromUserAgent}). */
  readonly manager: string
  /** `v1`, `authentication.k8s.io/v1`, … */
  readonly apiVersion: string
  readonly now: number
  /** The subresource written (`token`, `status`), if any. */
  readonly subresource?: string
  /** Paths the manager of this endpoint may not own (e.g. `status` on the main resource). */
  readonly resetFields?: FieldSet
}

/**
 * The `metadata.managedFields` after a non-apply write: the writer's entry
 * gains what it added or changed, loses what it removed, and every other
 * manager loses what the writer took over. Entries that become empty vanish.
 */
export function updateManagedFields(write: ManagedFieldsWrite): JsonValue[] {
  const before = withoutManagedFields(write.before)
  const after = withoutManagedFields(write.after)
  const comparison = compareObjects(write.schema, before, after)
  const ignored = write.resetFields ?? new FieldSet()
  const changed = comparison.added
    .union(comparison.modified)
    .difference(STRIPPED_FIELDS)
    .recursiveDifference(ignored)
  const removed = comparison.removed

  const entries = existingEntries(write.before)
  const isWriter = (entry: JsonObject): boolean =>
    entry.manager === write.manager &&
    entry.operation === 'Update' &&
    entry.apiVersion === write.apiVersion &&
    (entry.subresource ?? '') === (write.subresource ?? '')

  const result: JsonObject[] = []
  let writerFound = false
  for (const entry of entries) {
    const owned = FieldSet.fromFieldsV1(entry.fieldsV1)
    if (isWriter(entry)) {
      writerFound = true
      const updated = owned.difference(removed).union(changed)
      if (updated.isEmpty()) continue
      // The entry's time moves only when this write added or changed something.
      result.push(managedFieldsEntry(write, updated, changed.isEmpty() ? undefined : write.now, entry))
      continue
    }
    const remaining = owned.difference(changed).difference(removed)
    if (remaining.isEmpty()) continue
    result.push({ ...entry, fieldsV1: remaining.toFieldsV1() })
  }
  if (!writerFound && !changed.isEmpty())
    result.push(managedFieldsEntry(write, changed, write.now, undefined))
  return sortEntries(result)
}

function managedFieldsEntry(
  write: ManagedFieldsWrite,
  owned: FieldSet,
  time: number | undefined,
  previous: JsonObject | undefined,
): JsonObject {
  const entry: JsonObject = {
    manager: write.manager,
    operation: 'Update',
    apiVersion: write.apiVersion,
    time: time === undefined ? (previous?.time ?? formatKubeTime(write.now)) : formatKubeTime(time),
    fieldsType: 'FieldsV1',
    fieldsV1: owned.toFieldsV1(),
  }
  if (write.subresource !== undefined) entry.subresource = write.subresource
  return entry
}

function existingEntries(object: JsonObject): JsonObject[] {
  const list = objectAt(object, 'metadata')?.managedFields
  return Array.isArray(list) ? list.filter(isJsonObject) : []
}

function withoutManagedFields(object: JsonObject): JsonObject {
  const metadata = objectAt(object, 'metadata')
  if (metadata === undefined || !('managedFields' in metadata)) return object
  const { managedFields: _dropped, ...rest } = metadata
  return { ...object, metadata: rest }
}

/** kube's order of managed fields entries: operation, time, manager, apiVersion, subresource. */
function sortEntries(entries: JsonObject[]): JsonObject[] {
  const key = (entry: JsonObject): string[] => [
    String(entry.operation ?? ''),
    String(entry.time ?? '').padStart(25, '0'),
    String(entry.manager ?? ''),
    String(entry.apiVersion ?? ''),
    String(entry.subresource ?? ''),
  ]
  return [...entries].sort((a, b) => {
    const ka = key(a)
    const kb = key(b)
    for (let index = 0; index < ka.length; index++) {
      const order = compareGoStrings(ka[index] as string, kb[index] as string)
      if (order !== 0) return order
    }
    return 0
  })
}

/**
 * The field manager kube-apiserver records for a non-apply write: the
 * User-Agent up to its first `/` (`Python-urllib/3.12` → `Python-urllib`), or
 * `unknown` without one.
 */
export function managerFromUserAgent(userAgent: string | undefined): string {
  const manager = (userAgent ?? '').split('/')[0]?.trim() ?? ''
  return manager === '' ? 'unknown' : manager
}
