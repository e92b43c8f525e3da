import {
  clusterRoleBinding as clusterRoleBindingSchema,
  clusterRole as clusterRoleSchema,
  roleBinding as roleBindingSchema,
  role as roleSchema,
} from '../api-types.ts'
import type { ResourceDefinition } from './definition.ts'
import { defaultBinding, RBAC_GROUP, validateBinding, validatePolicyRules } from './rbac-validation.ts'

/**
 * The RBAC resources: ClusterRoles and ClusterRoleBindings, and their
 * namespaced forms, Roles and RoleBindings. All are named by path segment
 * (`ValidateRBACName`), have no status, and answer a DELETE with a `Status`.
 * The authorizer (`authorization.ts`) reads them.
 */

export { RBAC_GROUP }

const common = {
  group: RBAC_GROUP,
  version: 'v1',
  nameRule: 'path-segment',
  hasStatus: false,
  deleteReturnsObject: false,
} as const

/** The `clusterroles` resource. */
export const clusterRoles: ResourceDefinition = {
  ...common,
  resource: 'clusterroles',
  kind: 'ClusterRole',
  listKind: 'ClusterRoleList',
  namespaced: false,
  schema: clusterRoleSchema,
  validate: (role) => validatePolicyRules(role, 'cluster'),
}

/** The `clusterrolebindings` resource. */
export const clusterRoleBindings: ResourceDefinition = {
  ...common,
  resource: 'clusterrolebindings',
  kind: 'ClusterRoleBinding',
  listKind: 'ClusterRoleBindingList',
  namespaced: false,
  schema: clusterRoleBindingSchema,
  applyDefaults: defaultBinding,
  validate: (binding, previous) => validateBinding(binding, previous, 'cluster'),
}

/** The `roles` resource: rules that apply in the Role's namespace only. */
export const roles: ResourceDefinition = {
  ...common,
  resource: 'roles',
  kind: 'Role',
  listKind: 'RoleList',
  namespaced: true,
  schema: roleSchema,
  validate: (role) => validatePolicyRules(role, 'namespace'),
}

/** The `rolebindings` resource: grants a Role, or a ClusterRole's rules, in its own namespace. */
export const roleBindings: ResourceDefinition = {
  ...common,
  resource: 'rolebindings',
  kind: 'RoleBinding',
  listKind: 'RoleBindingList',
  namespaced: true,
  schema: roleBindingSchema,
  applyDefaults: defaultBinding,
  validate: (binding, previous) => validateBinding(binding, previous, 'namespace'),
}
