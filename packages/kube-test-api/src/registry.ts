import { listMeta } from './api-types.ts'
import { type Clock, formatKubeTime, parseKubeTime } from './clock.ts'
import { decodeObject } from './decode.ts'
import {
  cloneJson,
  type JsonObject,
  type JsonValue,
  jsonEqual,
  numberAt,
  objectAt,
  stringAt,
} from './json.ts'
import { FieldSet, updateManagedFields } from './managed-fields.ts'
import { newUid, randomSuffix, validateName } from './names.ts'
import { applyPatch, type PatchContentType } from './patch.ts'
import {
  apiVersionOf,
  groupResourceOf,
  type ResourceDefinition,
  storeKeyOf,
  type WriteContext,
} from './resources/definition.ts'
import { canonicalize, zeroValue } from './schema.ts'
import type { ObjectMatcher } from './selectors.ts'
import {
  alreadyExists,
  badRequest,
  conflict,
  type FieldError,
  forbidden,
  invalid,
  notFound,
  staleResourceVersion,
  successStatus,
} from './status.ts'
import type { ObjectStore } from './store.ts'

/**
 * The generic REST storage of kube-apiserver (`registry/generic/registry.Store`)
 * over the {@link ObjectStore}: create, get, list, update, patch and delete
 * with the defaulting → managed fields → admission → validation → storage
 * order, `resourceVersion` preconditions, graceful deletion and finalizers.
 * Both the HTTP handlers and the programmatic API write through it.
 */

/** Who writes and when; the manager name goes into `managedFields`. */
export interface WriteRequest {
  /** The field manager (see `managerFromUserAgent`). */
  readonly manager: string
}

/** `DeleteOptions` that matter here. */
export interface DeleteRequest extends WriteRequest {
  readonly gracePeriodSeconds?: number
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string }
}

/** What a DELETE answers (always with 200): the object (pods, service accounts, pending deletions) or a `Status`. */
export interface DeleteResult {
  readonly body: JsonObject
}

const STATUS_FIELDS = FieldSet.of(['f:status'])
const NAMESPACES = { group: '', resource: 'namespaces' }

/** The REST storage of every resource. */
export class Registry {
  readonly #store: ObjectStore
  readonly #clock: Clock
  readonly #definitions: readonly ResourceDefinition[]

  constructor(store: ObjectStore, clock: Clock, definitions: readonly ResourceDefinition[]) {
    this.#store = store
    this.#clock = clock
    this.#definitions = definitions
  }

  /** The definition with store key `resource` (`pods`, `clusterroles.rbac.authorization.k8s.io`). */
  definition(storeKey: string): ResourceDefinition {
    const definition = this.#definitions.find((candidate) => storeKeyOf(candidate) === storeKey)
    if (definition === undefined) throw new TypeError(`no resource is stored under "${storeKey}"`)
    return definition
  }

  /** `GET …/<name>`. */
  get(definition: ResourceDefinition, namespace: string, name: string): JsonObject {
    const stored = this.#store.get(storeKeyOf(definition), scopeOf(definition, namespace), name)
    if (stored === undefined) throw notFound(groupResourceOf(definition), name)
    return stored
  }

  /** `GET …` (a list): the matching objects without `kind`/`apiVersion`, and the list's resourceVersion. */
  list(
    definition: ResourceDefinition,
    namespace: string | undefined,
    matchers: readonly ObjectMatcher[],
  ): JsonObject {
    const items = this.#store
      .list(storeKeyOf(definition), definition.namespaced ? namespace : undefined)
      .filter((object) => matchers.every((matches) => matches(object)))
      .map(({ kind: _kind, apiVersion: _apiVersion, ...rest }) => rest)
    return {
      kind: definition.listKind,
      apiVersion: apiVersionOf(definition),
      metadata: canonicalize(listMeta, { resourceVersion: String(this.#store.resourceVersion) }),
      items,
    }
  }

  /** `POST`: decode, default, credit managed fields, admit, validate, store. */
  create(
    definition: ResourceDefinition,
    namespace: string,
    body: JsonValue,
    request: WriteRequest,
  ): JsonObject {
    const now = this.#clock.now()
    const object = this.#decode(definition, body)
    const metadata = metadataOf(object)
    if (definition.namespaced) {
      const bodyNamespace = stringAt(metadata, 'namespace') ?? ''
      if (bodyNamespace !== '' && bodyNamespace !== namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        )
      }
      metadata.namespace = namespace
    } else delete metadata.namespace
    if (!stringAt(metadata, 'name') && stringAt(metadata, 'generateName')) {
      metadata.name = `${stringAt(metadata, 'generateName')}${randomSuffix()}`
    }
    const name = stringAt(metadata, 'name') ?? ''

    metadata.managedFields = updateManagedFields({
      schema: definition.schema,
      before: zeroValue(definition.schema) as JsonObject,
      after: object,
      manager: request.manager,
      apiVersion: apiVersionOf(definition),
      now,
      ...(definition.hasStatus ? { resetFields: STATUS_FIELDS } : {}),
    })
    if ((metadata.managedFields as JsonValue[]).length === 0) delete metadata.managedFields

    if (definition.namespaced) this.#admitNamespace(definition, namespace, name)
    const context: WriteContext = { now, store: this.#store }
    definition.prepareForCreate?.(object, context)
    delete metadata.deletionTimestamp
    delete metadata.deletionGracePeriodSeconds
    metadata.uid = newUid()
    metadata.creationTimestamp = formatKubeTime(now)

    this.#validate(definition, object, undefined)
    if (this.#store.get(storeKeyOf(definition), scopeOf(definition, namespace), name) !== undefined) {
      throw alreadyExists(groupResourceOf(definition), name)
    }
    return this.#store.create(storeKeyOf(definition), this.#canonical(definition, object))
  }

  /** `PUT` of the object or of its `status` subresource. */
  update(
    definition: ResourceDefinition,
    namespace: string,
    name: string,
    body: JsonValue,
    request: WriteRequest,
    subresource?: 'status',
  ): JsonObject {
    const object = this.#decode(definition, body)
    return this.#replace(definition, namespace, name, object, request, subresource, 'update')
  }

  /** `PATCH` of the object or of its `status` subresource. */
  patch(
    definition: ResourceDefinition,
    namespace: string,
    name: string,
    type: PatchContentType,
    patch: JsonValue,
    request: WriteRequest,
    subresource?: 'status',
  ): JsonObject {
    const existing = this.get(definition, namespace, name)
    const patched = applyPatch(type, existing, patch, definition.schema)
    const object = this.#decode(definition, patched)
    return this.#replace(definition, namespace, name, object, request, subresource, 'patch')
  }

  /** `DELETE`, with graceful deletion for pods, finalizers, and the namespace controller's cleanup. */
  delete(
    definition: ResourceDefinition,
    namespace: string,
    name: string,
    request: DeleteRequest,
  ): DeleteResult {
    const storeKey = storeKeyOf(definition)
    const scope = scopeOf(definition, namespace)
    const existing = this.get(definition, namespace, name)
    const metadata = metadataOf(existing)
    this.#checkPreconditions(definition, existing, request.preconditions)
    const now = this.#clock.now()

    if (definition.resource === 'namespaces' && definition.group === '')
      return this.#deleteNamespace(existing, now)

    if (definition.gracePeriodSeconds !== undefined) {
      const period = definition.gracePeriodSeconds(existing, request.gracePeriodSeconds)
      const currentTimestamp = parseKubeTime(stringAt(metadata, 'deletionTimestamp'))
      const currentGrace = numberAt(metadata, 'deletionGracePeriodSeconds')
      let changed = false
      if (currentTimestamp === undefined) {
        metadata.deletionTimestamp = formatKubeTime(now + period * 1000)
        metadata.deletionGracePeriodSeconds = period
        changed = true
      } else if (currentGrace !== undefined && currentGrace > 0) {
        // Already terminating: only a shorter grace period changes anything,
        // and it counts from when the deletion started.
        if (period >= currentGrace) return { body: existing }
        metadata.deletionTimestamp = formatKubeTime(currentTimestamp - currentGrace * 1000 + period * 1000)
        metadata.deletionGracePeriodSeconds = period
        changed = true
      }
      // Terminating with no grace left means a delete that failed half-way: finish it.
      if (changed) {
        const updated = this.#store.update(storeKey, this.#canonical(definition, existing))
        if (period > 0 || hasFinalizers(updated)) return { body: updated }
      }
      return this.#finishDelete(definition, scope, name)
    }

    if (hasFinalizers(existing)) {
      if (stringAt(metadata, 'deletionTimestamp') !== undefined) return { body: existing }
      metadata.deletionTimestamp = formatKubeTime(now)
      metadata.deletionGracePeriodSeconds = 0
      return { body: this.#store.update(storeKey, this.#canonical(definition, existing)) }
    }
    return this.#finishDelete(definition, scope, name)
  }

  #finishDelete(definition: ResourceDefinition, scope: string, name: string): DeleteResult {
    const deleted = this.#store.delete(storeKeyOf(definition), scope, name)
    if (definition.deleteReturnsObject) return { body: deleted }
    return {
      body: successStatus({
        name,
        group: definition.group,
        kind: definition.resource,
        uid: stringAt(metadataOf(deleted), 'uid') ?? '',
      }),
    }
  }

  /**
   * Namespaces go `Terminating`; the namespace controller (instantaneous
   * here) then deletes everything in them and the namespace itself.
   */
  #deleteNamespace(existing: JsonObject, now: number): DeleteResult {
    const name = stringAt(metadataOf(existing), 'name') ?? ''
    if (stringAt(metadataOf(existing), 'deletionTimestamp') !== undefined) return { body: existing }
    metadataOf(existing).deletionTimestamp = formatKubeTime(now)
    metadataOf(existing).deletionGracePeriodSeconds = 0
    existing.status = { phase: 'Terminating' }
    const namespacesDefinition = this.definition('namespaces')
    const terminating = this.#store.update('namespaces', this.#canonical(namespacesDefinition, existing))
    for (const definition of this.#definitions.filter((candidate) => candidate.namespaced)) {
      for (const object of this.#store.list(storeKeyOf(definition), name)) {
        this.#store.delete(storeKeyOf(definition), name, stringAt(metadataOf(object), 'name') ?? '')
      }
    }
    this.#store.delete('namespaces', '', name)
    return { body: terminating }
  }

  #replace(
    definition: ResourceDefinition,
    namespace: string,
    name: string,
    incoming: JsonObject,
    request: WriteRequest,
    subresource: 'status' | undefined,
    verb: 'update' | 'patch',
  ): JsonObject {
    const incomingMetadata = metadataOf(incoming)
    const bodyName = stringAt(incomingMetadata, 'name') ?? ''
    if (bodyName !== '' && bodyName !== name) {
      throw badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${name})`)
    }
    const bodyNamespace = stringAt(incomingMetadata, 'namespace') ?? ''
    if (definition.namespaced && bodyNamespace !== '' && bodyNamespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      )
    }
    const existing = this.get(definition, namespace, name)
    const existingMetadata = metadataOf(existing)
    const uid = stringAt(incomingMetadata, 'uid') ?? ''
    const existingUid = stringAt(existingMetadata, 'uid') ?? ''
    if (uid !== '' && uid !== existingUid)
      throw uidRefusal(definition, namespace, name, uid, existingUid, verb)
    const requestedVersion = stringAt(incomingMetadata, 'resourceVersion') ?? ''
    if (requestedVersion !== '' && requestedVersion !== stringAt(existingMetadata, 'resourceVersion')) {
      throw staleResourceVersion(groupResourceOf(definition), name)
    }

    let object: JsonObject
    if (subresource === 'status') {
      object = cloneJson(existing)
      object.status = incoming.status ?? null
    } else {
      object = incoming
      if (definition.hasStatus) object.status = existing.status ?? null
      const metadata = metadataOf(object)
      for (const field of [
        'uid',
        'creationTimestamp',
        'deletionTimestamp',
        'deletionGracePeriodSeconds',
        'generation',
      ]) {
        const value = existingMetadata[field]
        if (value === undefined) delete metadata[field]
        else metadata[field] = value
      }
      metadata.name = name
      if (definition.namespaced) metadata.namespace = namespace
      else delete metadata.namespace
    }
    const now = this.#clock.now()
    const managedFields = updateManagedFields({
      schema: definition.schema,
      before: existing,
      after: object,
      manager: request.manager,
      apiVersion: apiVersionOf(definition),
      now,
      ...(subresource === undefined ? {} : { subresource }),
      ...(definition.hasStatus && subresource === undefined ? { resetFields: STATUS_FIELDS } : {}),
    })
    const metadata = metadataOf(object)
    if (managedFields.length > 0) metadata.managedFields = managedFields
    else delete metadata.managedFields

    if (subresource === undefined)
      definition.prepareForUpdate?.(object, existing, { now, store: this.#store })
    this.#validate(definition, object, existing)

    const candidate = this.#canonical(definition, object)
    metadataOf(candidate).resourceVersion = stringAt(existingMetadata, 'resourceVersion') ?? ''
    if (jsonEqual(withoutManagedFieldsTimes(candidate), withoutManagedFieldsTimes(existing))) return existing
    const updated = this.#store.update(storeKeyOf(definition), candidate)
    if (stringAt(metadataOf(updated), 'deletionTimestamp') !== undefined && !hasFinalizers(updated)) {
      return this.#store.delete(storeKeyOf(definition), scopeOf(definition, namespace), name)
    }
    return updated
  }

  #decode(definition: ResourceDefinition, body: JsonValue): JsonObject {
    const target = { kind: definition.kind, apiVersion: apiVersionOf(definition), schema: definition.schema }
    const object = decodeObject(body, target)
    definition.applyDefaults?.(object)
    return this.#canonical(definition, object)
  }

  #canonical(definition: ResourceDefinition, object: JsonObject): JsonObject {
    return canonicalize(definition.schema, object) as JsonObject
  }

  #validate(definition: ResourceDefinition, object: JsonObject, previous: JsonObject | undefined): void {
    const metadata = metadataOf(object)
    const name = stringAt(metadata, 'name') ?? ''
    const errors: FieldError[] = []
    if (name === '') {
      errors.push({
        field: 'metadata.name',
        type: 'Required value',
        detail: 'name or generateName is required',
      })
    } else if (previous === undefined) errors.push(...validateName(name, definition.nameRule))
    errors.push(...(definition.validate?.(object, previous) ?? []))
    if (errors.length > 0) throw invalid({ group: definition.group, kind: definition.kind }, name, errors)
  }

  /** NamespaceLifecycle: the namespace must exist and not be terminating. */
  #admitNamespace(definition: ResourceDefinition, namespace: string, name: string): void {
    const stored = this.#store.get('namespaces', '', namespace)
    if (stored === undefined) throw notFound(NAMESPACES, namespace)
    if (stringAt(metadataOf(stored), 'deletionTimestamp') !== undefined) {
      throw forbidden(
        groupResourceOf(definition),
        name,
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      )
    }
  }

  #checkPreconditions(
    definition: ResourceDefinition,
    existing: JsonObject,
    preconditions: DeleteRequest['preconditions'],
  ): void {
    const metadata = metadataOf(existing)
    const name = stringAt(metadata, 'name') ?? ''
    const uid = stringAt(metadata, 'uid') ?? ''
    const resourceVersion = stringAt(metadata, 'resourceVersion') ?? ''
    if (preconditions?.uid !== undefined && preconditions.uid !== uid) {
      throw conflict(
        groupResourceOf(definition),
        name,
        `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${uid}`,
      )
    }
    if (preconditions?.resourceVersion !== undefined && preconditions.resourceVersion !== resourceVersion) {
      throw conflict(
        groupResourceOf(definition),
        name,
        `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in meta: ${resourceVersion}`,
      )
    }
  }
}

function scopeOf(definition: ResourceDefinition, namespace: string): string {
  return definition.namespaced ? namespace : ''
}

/** The object's `metadata`, which every decoded object has. */
export function metadataOf(object: JsonObject): JsonObject {
  const metadata = objectAt(object, 'metadata')
  if (metadata === undefined) throw new TypeError('the object has no metadata')
  return metadata
}

function hasFinalizers(object: JsonObject): boolean {
  const finalizers = objectAt(object, 'metadata')?.finalizers
  return Array.isArray(finalizers) && finalizers.length > 0
}

function withoutManagedFieldsTimes(object: JsonObject): JsonObject {
  const copy = cloneJson(object)
  const managedFields = objectAt(copy, 'metadata')?.managedFields
  if (Array.isArray(managedFields)) {
    for (const entry of managedFields)
      if (entry !== null && typeof entry === 'object' && !Array.isArray(entry)) delete entry.time
  }
  return copy
}

/**
 * A write naming a uid other than the stored one. A PUT's uid is a precondition
 * (rest.DefaultUpdatedObjectInfo), checked before the resourceVersion: 409 in the storage layer's
 * words. A patch has none: the patched uid meets ValidateObjectMetaUpdate's immutability, 422.
 * Either way an object read before it was deleted and recreated is not written over.
 */
function uidRefusal(
  definition: ResourceDefinition,
  namespace: string,
  name: string,
  uid: string,
  existingUid: string,
  verb: 'update' | 'patch',
): Error {
  if (verb === 'patch') {
    return invalid({ group: definition.group, kind: definition.kind }, name, [
      { field: 'metadata.uid', type: 'Invalid value', value: uid, detail: 'field is immutable' },
    ])
  }
  const key = `/registry/${definition.resource}/${definition.namespaced ? `${namespace}/` : ''}${name}`
  return conflict(
    groupResourceOf(definition),
    name,
    `StorageError: invalid object, Code: 4, Key: ${key}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: ${uid}, UID in object meta: ${existingUid}`,
  )
}
