import { objectMeta } from './api-types.ts'
import { cloneJson, compareGoStrings, type JsonObject, objectAt, stringAt } from './json.ts'
import { canonicalize } from './schema.ts'

/**
 * The cluster's objects in memory, with etcd's two properties that clients
 * depend on: one global, increasing `resourceVersion` stamped on every write,
 * and a history of changes that a watch can resume from until it is compacted.
 *
 * Objects are stored as their wire JSON and copied on the way in and out, so
 * no caller can change stored state by accident.
 */

/** The kind of change, as a watch reports it. */
export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

/** One change, kept in the history and handed to live watchers. */
export interface StoreEvent {
  readonly type: StoreEventType
  /** The resource key of the object (`pods`, `clusterroles.rbac.authorization.k8s.io`). */
  readonly resource: string
  /** The object's namespace, `''` when cluster-scoped. */
  readonly namespace: string
  /** The new state; for `DELETED`, the last state with the deletion's resourceVersion. */
  readonly object: JsonObject
  /** The state before the change (`undefined` for `ADDED`). */
  readonly previous: JsonObject | undefined
  readonly resourceVersion: number
}

/** Options of {@link ObjectStore}. */
export interface ObjectStoreOptions {
  /** How many changes a watch can resume from; older ones are compacted away. */
  readonly historyLimit: number
}

/** The answer of {@link ObjectStore.eventsSince} when the requested version was compacted. */
export interface HistoryCompacted {
  readonly compacted: true
  /** The oldest resourceVersion a watch can still start from. */
  readonly oldestResourceVersion: number
}

/** The in-memory object store with a global resourceVersion and a change history. */
export class ObjectStore {
  readonly #historyLimit: number
  #resourceVersion = 1
  #compactedThrough = 1
  readonly #objects = new Map<string, Map<string, JsonObject>>()
  #history: StoreEvent[] = []
  readonly #listeners = new Set<(event: StoreEvent) => void>()

  constructor(options: ObjectStoreOptions) {
    if (!Number.isInteger(options.historyLimit) || options.historyLimit < 1) {
      throw new TypeError('"historyLimit" must be a positive integer')
    }
    this.#historyLimit = options.historyLimit
  }

  /** The resourceVersion of the latest write (what a list reports). */
  get resourceVersion(): number {
    return this.#resourceVersion
  }

  /** A copy of the stored object, or `undefined`. */
  get(resource: string, namespace: string, name: string): JsonObject | undefined {
    const stored = this.#objects.get(resource)?.get(objectKey(namespace, name))
    return stored === undefined ? undefined : cloneJson(stored)
  }

  /** Copies of the objects of `resource` (in `namespace`, or all), in etcd key order. */
  list(resource: string, namespace?: string): JsonObject[] {
    const objects = [...(this.#objects.get(resource)?.entries() ?? [])]
      .filter(([key]) => namespace === undefined || key.startsWith(`${namespace}/`))
      .sort(([a], [b]) => compareGoStrings(a, b))
    return objects.map(([, object]) => cloneJson(object))
  }

  /** Stores a new object, stamping the next resourceVersion. The caller checked it does not exist. */
  create(resource: string, object: JsonObject): JsonObject {
    return this.#write('ADDED', resource, object, undefined)
  }

  /** Replaces a stored object, stamping the next resourceVersion. */
  update(resource: string, object: JsonObject): JsonObject {
    const { namespace, name } = identify(object)
    const previous = this.#objects.get(resource)?.get(objectKey(namespace, name))
    if (previous === undefined)
      throw new TypeError(`cannot update ${resource} ${namespace}/${name}: it is not stored`)
    return this.#write('MODIFIED', resource, object, previous)
  }

  /** Removes a stored object; returns its last state with the deletion's resourceVersion. */
  delete(resource: string, namespace: string, name: string): JsonObject {
    const previous = this.#objects.get(resource)?.get(objectKey(namespace, name))
    if (previous === undefined)
      throw new TypeError(`cannot delete ${resource} ${namespace}/${name}: it is not stored`)
    return this.#write('DELETED', resource, previous, previous)
  }

  /**
   * The changes after `resourceVersion`, oldest first, or {@link HistoryCompacted}
   * when some of them are no longer kept.
   */
  eventsSince(resourceVersion: number): StoreEvent[] | HistoryCompacted {
    if (resourceVersion < this.#compactedThrough) {
      return { compacted: true, oldestResourceVersion: this.#compactedThrough }
    }
    return this.#history.filter((event) => event.resourceVersion > resourceVersion)
  }

  /** Forgets the whole history, as an etcd compaction does: older watches get 410 Gone. */
  compact(): void {
    this.#history = []
    this.#compactedThrough = this.#resourceVersion
  }

  /** Calls `listener` after every write; returns the unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  #write(
    type: StoreEventType,
    resource: string,
    object: JsonObject,
    previous: JsonObject | undefined,
  ): JsonObject {
    const resourceVersion = ++this.#resourceVersion
    const stored = cloneJson(object)
    const metadata = objectAt(stored, 'metadata')
    if (metadata === undefined) throw new TypeError(`a stored ${resource} object needs metadata`)
    metadata.resourceVersion = String(resourceVersion)
    // Keep ObjectMeta's field order: resourceVersion sits between uid and creationTimestamp.
    stored.metadata = canonicalize(objectMeta, metadata)
    const { namespace, name } = identify(stored)
    let byKey = this.#objects.get(resource)
    if (byKey === undefined) {
      byKey = new Map()
      this.#objects.set(resource, byKey)
    }
    if (type === 'DELETED') byKey.delete(objectKey(namespace, name))
    else byKey.set(objectKey(namespace, name), stored)

    const event: StoreEvent = { type, resource, namespace, object: stored, previous, resourceVersion }
    this.#history.push(event)
    if (this.#history.length > this.#historyLimit) {
      const dropped = this.#history.splice(0, this.#history.length - this.#historyLimit)
      this.#compactedThrough = dropped.at(-1)?.resourceVersion ?? this.#compactedThrough
    }
    for (const listener of this.#listeners) listener(event)
    return cloneJson(stored)
  }
}

function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`
}

function identify(object: JsonObject): { namespace: string; name: string } {
  const metadata = objectAt(object, 'metadata')
  const name = stringAt(metadata, 'name')
  if (name === undefined || name === '') throw new TypeError('a stored object needs metadata.name')
  return { namespace: stringAt(metadata, 'namespace') ?? '', name }
}
