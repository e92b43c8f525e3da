import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { KubeConfig } from '@kubernetes/client-node'
import { currentUser, kubeconfigCredentialProblems } from './kubeconfig-credentials.ts'
import { TokenFileAuthenticator } from './token-file-authenticator.ts'

/** Options of {@link loadKubeconfigFile}. */
export interface LoadKubeconfigOptions {
  /** The clock of the `tokenFile` re-reads. Default `Date.now`. */
  readonly now?: () => number
}

/**
 * Loads the kubeconfig at `path` into `config` as kubectl would read it: client-node's loading,
 * plus kubectl's `tokenFile` (resolved against the file's directory, as kubectl does).
 *
 * @throws {Error} when the current user's credentials have any of
 *   {@link kubeconfigCredentialProblems} (the configuration loader reports them earlier, with
 *   every other problem), or when client-node cannot load the file.
 */
export function loadKubeconfigFile(
  config: KubeConfig,
  path: string,
  options: LoadKubeconfigOptions = {},
): void {
  const text = readFileSync(path, 'utf8')
  const problems = kubeconfigCredentialProblems(text)
  if (problems.length > 0) {
    throw new Error(`the kubeconfig ${JSON.stringify(path)} cannot be used: ${problems.join('; ')}`)
  }
  config.loadFromFile(path)
  const user = currentUser(text)
  const tokenFile = user?.fields.tokenFile
  if (user !== undefined && typeof tokenFile === 'string') {
    config.addAuthenticator(
      new TokenFileAuthenticator({
        userName: user.name,
        path: resolve(dirname(path), tokenFile),
        ...(options.now === undefined ? {} : { now: options.now }),
      }),
    )
  }
}
