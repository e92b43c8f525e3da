import { namespace as namespaceSchema } from '../api-types.ts'
import { type JsonObject, objectAt, stringAt } from '../json.ts'
import type { ResourceDefinition } from './definition.ts'

/**
 * Namespaces. The `kubernetes.io/metadata.name` label is a default (so it
 * shows in managed fields); the `kubernetes` finalizer and the `Active`
 * phase come from the strategy.
 */

/** The label every namespace carries with its own name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name'

function applyDefaults(namespace: JsonObject): void {
  const metadata = objectAt(namespace, 'metadata') ?? {}
  const name = stringAt(metadata, 'name')
  if (name) metadata.labels = { ...(objectAt(metadata, 'labels') ?? {}), [NAMESPACE_NAME_LABEL]: name }
}

function prepareForCreate(namespace: JsonObject): void {
  namespace.spec = { finalizers: ['kubernetes'] }
  namespace.status = { phase: 'Active' }
}

/** The `namespaces` resource. */
export const namespaces: ResourceDefinition = {
  group: '',
  version: 'v1',
  resource: 'namespaces',
  kind: 'Namespace',
  listKind: 'NamespaceList',
  namespaced: false,
  schema: namespaceSchema,
  nameRule: 'dns1123-label',
  hasStatus: true,
  deleteReturnsObject: true,
  applyDefaults,
  prepareForCreate,
}
