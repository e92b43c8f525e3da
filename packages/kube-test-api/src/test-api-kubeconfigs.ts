import { rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Identity } from './identities.ts'
import { type KubeconfigInput, renderKubeconfig, writeKubeconfigFile } from './kubeconfig.ts'
import type { KubeTestApi } from './test-api.ts'

/**
 * The test API's kubeconfigs: rendered for an identity (default the admin),
 * or written to files, the temporary directories of which are removed when
 * the test API stops.
 */

/** The kubeconfig methods of a test API, and the cleanup of the files they wrote. */
export interface TestApiKubeconfigs {
  readonly methods: Pick<KubeTestApi, 'kubeconfig' | 'writeKubeconfig'>
  /** Removes the temporary directories {@link KubeTestApi.writeKubeconfig} created so far. */
  removeTemporaryDirectories(): Promise<void>
}

/** Kubeconfigs for the server `cluster` names, authenticating as `admin` unless told otherwise. */
export function testApiKubeconfigs(
  cluster: Pick<KubeconfigInput, 'server' | 'caCertificatePem'>,
  admin: Identity,
): TestApiKubeconfigs {
  const temporaryDirectories: string[] = []
  const kubeconfigInput = (identity: Pick<Identity, 'name' | 'token'> = admin): KubeconfigInput => ({
    server: cluster.server,
    caCertificatePem: cluster.caCertificatePem,
    userName: identity.name,
    token: identity.token,
  })
  return {
    methods: {
      kubeconfig: (options = {}) => renderKubeconfig(kubeconfigInput(options.identity)),
      writeKubeconfig: async (options = {}) => {
        const path = await writeKubeconfigFile(kubeconfigInput(options.identity), options.path)
        if (options.path === undefined) temporaryDirectories.push(dirname(path))
        return path
      },
    },
    removeTemporaryDirectories: async () => {
      await Promise.all(
        temporaryDirectories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })),
      )
    },
  }
}
