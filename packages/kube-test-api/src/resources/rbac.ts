import {
  clusterRoleBinding as clusterRoleBindingSchema,
  clusterRole as clusterRoleSchema,
} from '../api-types.ts'
import { arrayAt, isJsonObject, type JsonObject, jsonEqual, objectAt, stringAt } from '../json.ts'
import type { FieldError } from '../status.ts'
import type { ResourceDefinition } from './definition.ts'

/** The RBAC API group. */
export const RBAC_GROUP = 'rbac.authorization.k8s.io'

/** User and Group subjects belong to the RBAC group; ServiceAccount subjects to none. */
function defaultSubjects(binding: JsonObject): void {
  for (const subject of (arrayAt(binding, 'subjects') ?? []).filter(isJsonObject)) {
    const kind = stringAt(subject, 'kind')
    if ((kind === 'User' || kind === 'Group') && !stringAt(subject, 'apiGroup')) subject.apiGroup = RBAC_GROUP
  }
}

function validateBinding(binding: JsonObject, previous: JsonObject | undefined): FieldError[] {
  const errors: FieldError[] = []
  const roleRef = objectAt(binding, 'roleRef') ?? {}
  if (!stringAt(roleRef, 'name')) errors.push({ field: 'roleRef.name', type: 'Required value' })
  const kind = stringAt(roleRef, 'kind') ?? ''
  if (kind !== 'ClusterRole') {
    errors.push({
      field: 'roleRef.kind',
      type: 'Unsupported value',
      value: kind,
      detail: 'supported values: "ClusterRole"',
    })
  }
  ;(arrayAt(binding, 'subjects') ?? []).forEach((subject, index) => {
    const entry = isJsonObject(subject) ? subject : {}
    const path = `subjects[${index}]`
    if (!stringAt(entry, 'name')) errors.push({ field: `${path}.name`, type: 'Required value' })
    const subjectKind = stringAt(entry, 'kind') ?? ''
    if (subjectKind === 'ServiceAccount' && !stringAt(entry, 'namespace')) {
      errors.push({ field: `${path}.namespace`, type: 'Required value' })
    } else if (!['ServiceAccount', 'User', 'Group'].includes(subjectKind)) {
      errors.push({
        field: `${path}.kind`,
        type: 'Unsupported value',
        value: subjectKind,
        detail: 'supported values: "ServiceAccount", "User", "Group"',
      })
    }
  })
  if (previous !== undefined && !jsonEqual(objectAt(previous, 'roleRef'), roleRef)) {
    errors.push({
      field: 'roleRef',
      type: 'Invalid value',
      value: stringAt(roleRef, 'name') ?? '',
      detail: 'cannot change roleRef',
    })
  }
  return errors
}

/** The `clusterroles` resource. */
export const clusterRoles: ResourceDefinition = {
  group: RBAC_GROUP,
  version: 'v1',
  resource: 'clusterroles',
  kind: 'ClusterRole',
  listKind: 'ClusterRoleList',
  namespaced: false,
  schema: clusterRoleSchema,
  nameRule: 'path-segment',
  hasStatus: false,
  deleteReturnsObject: false,
}

/** The `clusterrolebindings` resource. */
export const clusterRoleBindings: ResourceDefinition = {
  group: RBAC_GROUP,
  version: 'v1',
  resource: 'clusterrolebindings',
  kind: 'ClusterRoleBinding',
  listKind: 'ClusterRoleBindingList',
  namespaced: false,
  schema: clusterRoleBindingSchema,
  nameRule: 'path-segment',
  hasStatus: false,
  deleteReturnsObject: false,
  applyDefaults: defaultSubjects,
  validate: validateBinding,
}
