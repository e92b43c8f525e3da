import type { NodeAttestorsConfig } from '../config/server-config.ts'
import { permissionsFor, REQUIRED_PERMISSIONS } from '../kubernetes/cluster-client.ts'
import type { ClusterClients } from '../kubernetes/cluster-clients.ts'
import type { PermissionTarget } from './permission-check.ts'

/**
 * Every cluster client, with the permissions its attestor needs: a k8s_psat cluster in JWKS
 * mode (`token_verification = "jwks"`) needs the discovery URLs and service accounts instead of
 * TokenReview, and is asked for exactly those; pods and service accounts only in the namespaces
 * of the cluster's allow-list.
 */
export function permissionTargets(
  clients: ClusterClients,
  nodeAttestors: NodeAttestorsConfig,
): PermissionTarget[] {
  return [
    ...[...clients.k8sPsat].map(([cluster, client]) => {
      const config = nodeAttestors.k8sPsat?.clusters.get(cluster)
      const required =
        config?.tokenVerification === 'jwks'
          ? REQUIRED_PERMISSIONS.k8s_psat_jwks
          : REQUIRED_PERMISSIONS.k8s_psat
      return {
        attestor: 'k8s_psat' as const,
        cluster,
        client,
        permissions: permissionsFor(required, config?.serviceAccountAllowList ?? []),
      }
    }),
    ...[...clients.k8sSat].map(([cluster, client]) => ({
      attestor: 'k8s_sat' as const,
      cluster,
      client,
      permissions: REQUIRED_PERMISSIONS.k8s_sat,
    })),
  ]
}
