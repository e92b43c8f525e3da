import { chmod, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Kubeconfig files for the test API, in the shape kubectl and
 * `KubeConfig.loadFromFile` of @kubernetes/client-node read unchanged: one
 * cluster with `certificate-authority-data`, one user with a bearer `token`,
 * one context, selected as current.
 */

/** What a kubeconfig points at and authenticates as. */
export interface KubeconfigInput {
  /** `https://127.0.0.1:<port>`. */
  readonly server: string
  readonly caCertificatePem: string
  /** The user entry's name (the identity's name). */
  readonly userName: string
  readonly token: string
  /** The cluster entry's name. Default `kube-test-api`. */
  readonly clusterName?: string
}

/** A YAML double-quoted scalar (JSON string syntax is valid YAML). */
function quoted(value: string): string {
  return JSON.stringify(value)
}

/** The kubeconfig YAML for `input`. */
export function renderKubeconfig(input: KubeconfigInput): string {
  const cluster = input.clusterName ?? 'kube-test-api'
  const context = `${input.userName}@${cluster}`
  const caData = Buffer.from(input.caCertificatePem, 'utf8').toString('base64')
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${quoted(cluster)}`,
    '  cluster:',
    `    server: ${quoted(input.server)}`,
    `    certificate-authority-data: ${quoted(caData)}`,
    'users:',
    `- name: ${quoted(input.userName)}`,
    '  user:',
    `    token: ${quoted(input.token)}`,
    'contexts:',
    `- name: ${quoted(context)}`,
    '  context:',
    `    cluster: ${quoted(cluster)}`,
    `    user: ${quoted(input.userName)}`,
    `current-context: ${quoted(context)}`,
    'preferences: {}',
    '',
  ].join('\n')
}

/**
 * Writes the kubeconfig for `input` to `path` (default: `kubeconfig` in a new
 * temporary directory), readable by the owner only since it holds a token.
 * Returns the path.
 */
export async function writeKubeconfigFile(input: KubeconfigInput, path?: string): Promise<string> {
  const target = path ?? join(await mkdtemp(join(tmpdir(), 'kube-test-api-')), 'kubeconfig')
  await writeFile(target, renderKubeconfig(input), { mode: 0o600 })
  await chmod(target, 0o600)
  return target
}
