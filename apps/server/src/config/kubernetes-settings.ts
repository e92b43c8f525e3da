import { readFile, stat } from 'node:fs/promises'
import { describeFileError, type HclBodyReader } from '@k8s-attest/spire-config'
import { kubeconfigCredentialProblems } from '../kubernetes/kubeconfig-credentials.ts'

/** The shapes of the Kubernetes names a configuration may hold, as the API server validates them. */
export const KUBERNETES_NAMES = {
  /** A namespace: a DNS-1123 label. */
  namespace: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
  /** A service account or ConfigMap name: a DNS-1123 subdomain (at most 253 characters, checked apart). */
  objectName: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
} as const

/**
 * Why `key` cannot be a key of a ConfigMap's `data`, as kube-apiserver's `IsConfigMapKey` says
 * (kubelet makes each key a file name in a volume), or `undefined` for a valid key.
 */
export function configMapKeyProblem(key: string): string | undefined {
  if (key.length > 253 || !/^[-._a-zA-Z0-9]+$/.test(key))
    return 'at most 253 letters, digits, "-", "_" and "."'
  if (key === '.' || key === '..' || key.startsWith('..')) return 'not ".", ".." or a name starting with ".."'
  return undefined
}

/**
 * A kubeconfig path setting (`kube_config_file`, the k8sbundle notifier's
 * `kube_config_file_path`): `undefined` for in-cluster configuration (`""` or left out), else
 * the absolute path of a file that exists and whose credentials client-node can use.
 */
export async function readKubeConfigFile(
  block: HclBodyReader,
  key: string,
  resolvePath: (path: string) => string,
): Promise<string | undefined> {
  const setting = block.string(key, 'a kubeconfig path, or "" for in-cluster configuration', {
    allowEmpty: true,
  })
  if (setting === undefined || setting === '') return undefined
  const path = resolvePath(setting)
  try {
    const info = await stat(path)
    if (!info.isFile()) block.report(key, `${JSON.stringify(path)} is not a file`)
    else {
      // Credentials @kubernetes/client-node would silently drop are refused now, not found
      // out as "missing RBAC" of system:anonymous at the first call.
      for (const problem of kubeconfigCredentialProblems(await readFile(path, 'utf8'))) {
        block.report(key, `${JSON.stringify(path)}: ${problem}`)
      }
    }
  } catch (error) {
    block.report(key, `cannot read ${JSON.stringify(path)}: ${describeFileError(error)}`)
  }
  return path
}
