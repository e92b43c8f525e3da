import { node as nodeSchema } from '../api-types.ts'
import { arrayAt, isJsonObject, type JsonObject, objectAt, stringAt } from '../json.ts'
import type { ResourceDefinition } from './definition.ts'

/**
 * Nodes. There is no kubelet, so a node keeps the status it was created with
 * (its `addresses`, typically), and the TaintNodesByCondition admission
 * plugin's `not-ready` taint stays on it.
 */

const NOT_READY_TAINT = 'node.kubernetes.io/not-ready'

/** TaintNodesByCondition: a new node is `not-ready` (NoSchedule) until its kubelet reports. */
function prepareForCreate(node: JsonObject): void {
  const spec = objectAt(node, 'spec') ?? {}
  node.spec = spec
  const taints = (arrayAt(spec, 'taints') ?? []).filter(isJsonObject)
  const tainted = taints.some(
    (taint) => stringAt(taint, 'key') === NOT_READY_TAINT && stringAt(taint, 'effect') === 'NoSchedule',
  )
  if (!tainted) spec.taints = [...taints, { key: NOT_READY_TAINT, effect: 'NoSchedule' }]
}

/** The `nodes` resource. */
export const nodes: ResourceDefinition = {
  group: '',
  version: 'v1',
  resource: 'nodes',
  kind: 'Node',
  listKind: 'NodeList',
  namespaced: false,
  schema: nodeSchema,
  nameRule: 'dns1123-subdomain',
  hasStatus: true,
  deleteReturnsObject: false,
  prepareForCreate,
}
