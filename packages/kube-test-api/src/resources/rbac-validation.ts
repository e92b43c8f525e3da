import { goQuote } from '../go-format.ts'
import { arrayAt, isJsonObject, type JsonObject, jsonEqual, objectAt, stringAt } from '../json.ts'
import { validateName } from '../names.ts'
import type { FieldError } from '../status.ts'

/**
 * The defaulting and validation the four RBAC resources share
 * (`pkg/apis/rbac/v1/defaults.go`, `pkg/apis/rbac/validation`): policy
 * rules for Roles and ClusterRoles; `roleRef` and subjects for RoleBindings
 * and ClusterRoleBindings, which differ only in the role kinds they may name
 * and in whether a ServiceAccount subject needs a namespace.
 */

/** The RBAC API group. */
export const RBAC_GROUP = 'rbac.authorization.k8s.io'

/** Where the rules or the binding apply. */
export type RbacScope = 'cluster' | 'namespace'

/** `field.NotSupported`'s detail: `supported values: "Role", "ClusterRole"`. */
function supportedValues(values: readonly string[]): string {
  return `supported values: ${values.map(goQuote).join(', ')}`
}

function strings(object: JsonObject, key: string): string[] {
  return (arrayAt(object, key) ?? []).filter((entry): entry is string => typeof entry === 'string')
}

/** `%#v` of a `[]string`, as field errors print slice values: `[]string{"/a", "/b"}`. */
function goStringSlice(values: readonly string[]): string {
  return `[]string{${values.map(goQuote).join(', ')}}`
}

/**
 * `ValidatePolicyRule` over `rules`: verbs are required; a non-resource rule
 * may not name resources, nor live in a namespaced Role; a resource rule
 * needs API groups and resources.
 */
export function validatePolicyRules(role: JsonObject, scope: RbacScope): FieldError[] {
  const errors: FieldError[] = []
  ;(arrayAt(role, 'rules') ?? []).forEach((entry, index) => {
    const rule = isJsonObject(entry) ? entry : {}
    const path = `rules[${index}]`
    if (strings(rule, 'verbs').length === 0) {
      errors.push({
        field: `${path}.verbs`,
        type: 'Required value',
        detail: 'verbs must contain at least one value',
      })
    }
    const nonResourceURLs = strings(rule, 'nonResourceURLs')
    if (nonResourceURLs.length > 0) {
      const invalidURLs = (detail: string): FieldError => ({
        field: `${path}.nonResourceURLs`,
        type: 'Invalid value',
        goValue: goStringSlice(nonResourceURLs),
        detail,
      })
      if (scope === 'namespace')
        errors.push(invalidURLs('namespaced rules cannot apply to non-resource URLs'))
      if (['apiGroups', 'resources', 'resourceNames'].some((key) => strings(rule, key).length > 0)) {
        errors.push(invalidURLs('rules cannot apply to both regular resources and non-resource URLs'))
      }
      return
    }
    if (strings(rule, 'apiGroups').length === 0) {
      errors.push({
        field: `${path}.apiGroups`,
        type: 'Required value',
        detail: 'resource rules must supply at least one api group',
      })
    }
    if (strings(rule, 'resources').length === 0) {
      errors.push({
        field: `${path}.resources`,
        type: 'Required value',
        detail: 'resource rules must supply at least one resource',
      })
    }
  })
  return errors
}

/**
 * `SetDefaults_RoleBinding` / `SetDefaults_ClusterRoleBinding` and
 * `SetDefaults_Subject`: `roleRef.apiGroup` is the RBAC group; User and
 * Group subjects belong to it, ServiceAccount subjects to none.
 */
export function defaultBinding(binding: JsonObject): void {
  const roleRef = objectAt(binding, 'roleRef')
  if (roleRef !== undefined && !stringAt(roleRef, 'apiGroup')) roleRef.apiGroup = RBAC_GROUP
  for (const subject of (arrayAt(binding, 'subjects') ?? []).filter(isJsonObject)) {
    const kind = stringAt(subject, 'kind')
    if ((kind === 'User' || kind === 'Group') && !stringAt(subject, 'apiGroup')) subject.apiGroup = RBAC_GROUP
  }
}

/**
 * `ValidateRoleBindingSubject`. In a RoleBinding a ServiceAccount subject
 * may leave out its namespace: it then means the binding's namespace.
 */
function validateSubject(subject: JsonObject, scope: RbacScope, path: string): FieldError[] {
  const errors: FieldError[] = []
  const name = stringAt(subject, 'name') ?? ''
  const apiGroup = stringAt(subject, 'apiGroup') ?? ''
  const kind = stringAt(subject, 'kind') ?? ''
  if (name === '') errors.push({ field: `${path}.name`, type: 'Required value' })
  switch (kind) {
    case 'ServiceAccount':
      if (name !== '') errors.push(...validateName(name, 'dns1123-subdomain', `${path}.name`))
      if (apiGroup !== '') {
        errors.push({
          field: `${path}.apiGroup`,
          type: 'Unsupported value',
          value: apiGroup,
          detail: supportedValues(['']),
        })
      }
      if (scope === 'cluster' && !stringAt(subject, 'namespace')) {
        errors.push({ field: `${path}.namespace`, type: 'Required value' })
      }
      break
    case 'User':
    case 'Group':
      if (apiGroup !== RBAC_GROUP) {
        errors.push({
          field: `${path}.apiGroup`,
          type: 'Unsupported value',
          value: apiGroup,
          detail: supportedValues([RBAC_GROUP]),
        })
      }
      break
    default:
      errors.push({
        field: `${path}.kind`,
        type: 'Unsupported value',
        value: kind,
        detail: supportedValues(['ServiceAccount', 'User', 'Group']),
      })
  }
  return errors
}

/** `%#v` of the internal `rbac.RoleRef`, the value `cannot change roleRef` shows. */
function goRoleRef(roleRef: JsonObject): string {
  const field = (key: string): string => goQuote(stringAt(roleRef, key) ?? '')
  return `rbac.RoleRef{APIGroup:${field('apiGroup')}, Kind:${field('kind')}, Name:${field('name')}}`
}

/**
 * `ValidateRoleBinding` / `ValidateClusterRoleBinding` and their update
 * forms: a ClusterRoleBinding may only name a ClusterRole, a RoleBinding a
 * Role or a ClusterRole; `roleRef` never changes (delete and recreate the
 * binding instead).
 */
export function validateBinding(
  binding: JsonObject,
  previous: JsonObject | undefined,
  scope: RbacScope,
): FieldError[] {
  const errors: FieldError[] = []
  const roleRef = objectAt(binding, 'roleRef') ?? {}
  const apiGroup = stringAt(roleRef, 'apiGroup') ?? ''
  if (apiGroup !== RBAC_GROUP) {
    errors.push({
      field: 'roleRef.apiGroup',
      type: 'Unsupported value',
      value: apiGroup,
      detail: supportedValues([RBAC_GROUP]),
    })
  }
  const kinds = scope === 'cluster' ? ['ClusterRole'] : ['Role', 'ClusterRole']
  const kind = stringAt(roleRef, 'kind') ?? ''
  if (!kinds.includes(kind)) {
    errors.push({
      field: 'roleRef.kind',
      type: 'Unsupported value',
      value: kind,
      detail: supportedValues(kinds),
    })
  }
  const name = stringAt(roleRef, 'name') ?? ''
  if (name === '') errors.push({ field: 'roleRef.name', type: 'Required value' })
  else errors.push(...validateName(name, 'path-segment', 'roleRef.name'))
  ;(arrayAt(binding, 'subjects') ?? []).forEach((subject, index) => {
    errors.push(...validateSubject(isJsonObject(subject) ? subject : {}, scope, `subjects[${index}]`))
  })
  if (previous !== undefined && !jsonEqual(objectAt(previous, 'roleRef'), roleRef)) {
    errors.push({
      field: 'roleRef',
      type: 'Invalid value',
      goValue: goRoleRef(roleRef),
      detail: 'cannot change roleRef',
    })
  }
  return errors
}
