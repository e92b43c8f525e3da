import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KubeWorld } from '../../test/kube-world.ts'
import { TOKEN_REVIEW_PERMISSION } from './cluster-client.ts'
import { KubeClusterClient } from './kube-cluster-client.ts'

/** Written by `kubectl` 1.32 (set-cluster, `config set users.<name>.tokenFile`, set-context, use-context). */
const KUBECTL_KUBECONFIG = new URL('../../test/fixtures/kubectl/token-file.kubeconfig', import.meta.url)

let world: KubeWorld
let dir: string

beforeAll(async () => {
  world = await KubeWorld.start()
  dir = await mkdtemp(join(tmpdir(), 'kubectl-kubeconfig-'))
})

afterAll(async () => {
  await world?.stop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

/**
 * kubectl's file, unchanged but for the server's address, next to the `ca.crt` and `token` it
 * names by relative path (kubectl resolves both against the kubeconfig's directory).
 */
async function kubectlKubeconfig(token: string): Promise<string> {
  const written = await readFile(KUBECTL_KUBECONFIG, 'utf8')
  expect(written).toContain('    tokenFile: token\n')
  await writeFile(join(dir, 'kubeconfig'), written.replace('https://127.0.0.1:6443', world.api.url))
  await writeFile(join(dir, 'ca.crt'), world.api.caCertificatePem)
  await writeFile(join(dir, 'token'), `${token}\n`)
  return join(dir, 'kubeconfig')
}

describe('a kubeconfig as kubectl writes it', () => {
  it('calls the API with the token of its tokenFile, not as system:anonymous', async () => {
    const reviewer = world.api.addIdentity({
      name: 'k8s-attest-server',
      rules: [{ apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] }],
    })
    const client = KubeClusterClient.fromKubeconfig({
      cluster: 'demo',
      kubeconfigFile: await kubectlKubeconfig(reviewer.token),
    })
    try {
      expect(await client.checkPermission(TOKEN_REVIEW_PERMISSION)).toMatchObject({ allowed: true })
      const pod = world.newAgentPod()
      expect(await client.reviewToken(pod.token, ['spire-server'])).toMatchObject({ authenticated: true })
    } finally {
      await client.close()
    }
  })
})
