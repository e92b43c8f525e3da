import { configMaps } from './config-maps.ts'
import type { ResourceDefinition } from './definition.ts'
import { namespaces } from './namespaces.ts'
import { nodes } from './nodes.ts'
import { pods } from './pods.ts'
import { clusterRoleBindings, clusterRoles, roleBindings, roles } from './rbac.ts'
import { secrets } from './secrets.ts'
import { serviceAccounts } from './service-accounts.ts'

/** Every stored resource the test API serves. */
export const RESOURCE_DEFINITIONS: readonly ResourceDefinition[] = [
  namespaces,
  serviceAccounts,
  pods,
  nodes,
  secrets,
  configMaps,
  clusterRoles,
  clusterRoleBindings,
  roles,
  roleBindings,
]

/** The definition serving `group`/`version`/`resource`, if any. */
export function findResource(
  group: string,
  version: string,
  resource: string,
): ResourceDefinition | undefined {
  return RESOURCE_DEFINITIONS.find(
    (definition) =>
      definition.group === group && definition.version === version && definition.resource === resource,
  )
}
