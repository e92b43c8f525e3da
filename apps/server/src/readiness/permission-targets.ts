import { REQUIRED_PERMISSIONS } from '../kubernetes/cluster-client.ts'
import type { ClusterClients } from '../kubernetes/cluster-clients.ts'
import type { PermissionTarget } from './permission-check.ts'

/** Every cluster client, with the permissions its attestor needs. */
export function permissionTargets(clients: ClusterClients): PermissionTarget[] {
  return [
    ...[...clients.k8sPsat].map(([cluster, client]) => ({
      attestor: 'k8s_psat' as const,
      cluster,
      client,
      permissions: REQUIRED_PERMISSIONS.k8s_psat,
    })),
    ...[...clients.k8sSat].map(([cluster, client]) => ({
      attestor: 'k8s_sat' as const,
      cluster,
      client,
      permissions: REQUIRED_PERMISSIONS.k8s_sat,
    })),
  ]
}
