import { describe, expect, it } from 'vitest'
import { FakeClusterClient } from '../../test/fake-cluster-client.ts'
import { psatClusterConfig } from '../../test/psat-cluster-config.ts'
import type { NodeAttestorsConfig, PsatClusterConfig } from '../config/server-config.ts'
import { permissionsFor, REQUIRED_PERMISSIONS } from '../kubernetes/cluster-client.ts'
import { permissionTargets } from './permission-targets.ts'

function psatCluster(
  name: string,
  tokenVerification: PsatClusterConfig['tokenVerification'],
): PsatClusterConfig {
  return psatClusterConfig({ name, tokenVerification })
}

describe('permissionTargets', () => {
  it('asks each k8s_psat cluster for exactly the permissions of its verification mode', () => {
    const nodeAttestors: NodeAttestorsConfig = {
      k8sPsat: {
        clusters: new Map([
          ['reviewed', psatCluster('reviewed', 'tokenreview')],
          ['local', psatCluster('local', 'jwks')],
        ]),
      },
      k8sSat: undefined,
    }
    const clients = {
      k8sPsat: new Map([
        ['reviewed', new FakeClusterClient()],
        ['local', new FakeClusterClient()],
      ]),
      k8sSat: new Map(),
    }
    const targets = permissionTargets(clients, nodeAttestors)
    expect(targets.map(({ cluster, permissions }) => [cluster, permissions])).toEqual([
      ['reviewed', permissionsFor(REQUIRED_PERMISSIONS.k8s_psat, ['spire:spire-agent'])],
      ['local', permissionsFor(REQUIRED_PERMISSIONS.k8s_psat_jwks, ['spire:spire-agent'])],
    ])
    // JWKS mode never reviews tokens, so it is not asked for TokenReview.
    expect(REQUIRED_PERMISSIONS.k8s_psat_jwks).not.toContainEqual(REQUIRED_PERMISSIONS.k8s_sat[0])
  })
})
