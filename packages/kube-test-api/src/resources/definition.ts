import type { JsonObject } from '../json.ts'
import type { NameRule } from '../names.ts'
import type { StructSchema } from '../schema.ts'
import type { FieldError, GroupResource } from '../status.ts'
import type { ObjectStore } from '../store.ts'

/** What a write's admission and strategy steps may look at. */
export interface WriteContext {
  /** The clock's time of the write, in epoch milliseconds. */
  readonly now: number
  /** Read access to the cluster, for admission lookups (a pod's service account). */
  readonly store: ObjectStore
}

/**
 * One resource kube-apiserver serves, with the behaviour of its REST
 * strategy: defaulting, validation, the server-side fields admission and the
 * strategy fill in, and how deletion answers.
 */
export interface ResourceDefinition {
  /** The API group, `''` for the core group. */
  readonly group: string
  readonly version: string
  /** The plural resource name in URLs (`pods`). */
  readonly resource: string
  readonly kind: string
  readonly listKind: string
  readonly namespaced: boolean
  readonly schema: StructSchema
  readonly nameRule: NameRule
  /** `status` is a subresource: main-resource writes keep the stored status and vice versa. */
  readonly hasStatus: boolean
  /** DELETE answers with the object (pods, service accounts) rather than a `Status`. */
  readonly deleteReturnsObject: boolean
  /** `SetDefaults_*`, applied when a body is decoded and before managed fields are computed. */
  applyDefaults?(object: JsonObject): void
  /** Field validation on create (`previous` undefined) and update. */
  validate?(object: JsonObject, previous: JsonObject | undefined): FieldError[]
  /** Admission and `PrepareForCreate`: the fields the server fills in. May throw a `KubeStatusError`. */
  prepareForCreate?(object: JsonObject, context: WriteContext): void
  /** `PrepareForUpdate` and update admission. May throw a `KubeStatusError`. */
  prepareForUpdate?(object: JsonObject, previous: JsonObject, context: WriteContext): void
  /**
   * The grace period a DELETE gets (`CheckGracefulDelete`); absent for
   * resources that are deleted at once.
   */
  gracePeriodSeconds?(object: JsonObject, requested: number | undefined): number
}

/** `v1` or `rbac.authorization.k8s.io/v1`. */
export function apiVersionOf(definition: ResourceDefinition): string {
  return definition.group === '' ? definition.version : `${definition.group}/${definition.version}`
}

/** The definition's group and resource, for error messages. */
export function groupResourceOf(definition: ResourceDefinition): GroupResource {
  return { group: definition.group, resource: definition.resource }
}

/** The key objects of this resource are stored under (`pods`, `clusterroles.rbac.authorization.k8s.io`). */
export function storeKeyOf(definition: ResourceDefinition): string {
  return definition.group === '' ? definition.resource : `${definition.resource}.${definition.group}`
}
