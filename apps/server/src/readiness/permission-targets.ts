import type { NodeAttestorsConfig } from '../config/server-config.ts'
import { REQUIRED_PERMISSIONS } from '../kubernetes/cluster-client.ts'
import type { ClusterClients } from '../kubernetes/cluster-clients.ts'
import type { PermissionTarget } from './permission-check.ts'

/**
 * Every cluster client, with the permissions its attestor needs: a k8s_psat cluster in JWKS
 * mode (`token_verification = "jwks"`) needs the discovery URLs and service accounts instead of
 * TokenReview, and is asked for exactly those.
 */
export function permissionTargets(
  clients: ClusterClients,
  nodeAttestors: NodeAttestorsConfig,
): PermissionTarget[] {
  return [
    ...[...clients.k8sPsat].map(([cluster, client]) => ({
      attestor: 'k8s_psat' as const,
      cluster,
      client,
      permissions:
        nodeAttestors.k8sPsat?.clusters.get(cluster)?.tokenVerification === 'jwks'
          ? REQUIRED_PERMISSIONS.k8s_psat_jwks
          : REQUIRED_PERMISSIONS.k8s_psat,
    })),
    ...[...clients.k8sSat].map(([cluster, client]) => ({
      attestor: 'k8s_sat' as const,
      cluster,
      client,
      permissions: REQUIRED_PERMISSIONS.k8s_sat,
    })),
  ]
}
