import { Secret } from '@k8s-attest/core'
import { describe, expect, it } from 'vitest'
import type { KubeWorld } from '../../test/kube-world.ts'
import { harnessConfig } from '../../test/server-harness.ts'
import type { ServerConfig } from '../config/server-config.ts'
import { changedNonReloadableKeys, clusterChanges, isNoChange } from './config-diff.ts'

const world = { kubeconfigPath: '/etc/kubeconfig' } as KubeWorld

function config(clusters: Record<string, { world: KubeWorld; config?: object }>): ServerConfig {
  return harnessConfig({ clusters: { psat: clusters } }, '/var/lib/k8s-attest')
}

describe('changedNonReloadableKeys', () => {
  it('names each key that needs a restart, as the file spells it', () => {
    const running = config({ demo: { world } })
    const next = { ...running, bindPort: 9000, trustDomain: 'other.org', dataDir: '/elsewhere' }
    expect(changedNonReloadableKeys(running, next)).toEqual([
      'server.trust_domain',
      'server.bind_port',
      'server.data_dir',
    ])
  })

  it('sees a changed admin token by its value, never by its redacted form', () => {
    const running = config({ demo: { world } })
    const admin = running.admin
    if (admin === undefined) throw new TypeError('the harness configures the admin API')
    const sameToken = {
      ...running,
      admin: { ...admin, bearerToken: new Secret(admin.bearerToken?.reveal() ?? '') },
    }
    const otherToken = {
      ...running,
      admin: { ...admin, bearerToken: new Secret('another-token-of-32-characters!!') },
    }
    expect(changedNonReloadableKeys(running, sameToken)).toEqual([])
    expect(changedNonReloadableKeys(running, otherToken)).toEqual(['server.admin'])
  })

  it('ignores the clusters, which are reloadable', () => {
    expect(changedNonReloadableKeys(config({ demo: { world } }), config({ other: { world } }))).toEqual([])
  })
})

describe('clusterChanges', () => {
  it('lists added, changed and removed clusters per attestor, sorted', () => {
    const running = config({ a: { world }, b: { world }, c: { world } })
    const next = config({
      b: { world, config: { serviceAccountAllowList: ['spire:other'] } },
      c: { world },
      e: { world },
      d: { world },
    })
    const changes = clusterChanges(running, next)
    expect(changes).toEqual({
      k8s_psat: { added: ['d', 'e'], changed: ['b'], removed: ['a'] },
      k8s_sat: { added: [], changed: [], removed: [] },
    })
    expect(isNoChange(changes)).toBe(false)
    expect(isNoChange(clusterChanges(running, config({ a: { world }, b: { world }, c: { world } })))).toBe(
      true,
    )
  })
})
