import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { renderKubeconfig, writeKubeconfigFile } from './kubeconfig.ts'

const input = {
  server: 'https://127.0.0.1:6443',
  caCertificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  userName: 'system:admin "quoted"',
  token: 'abc.def',
}

describe('renderKubeconfig', () => {
  it('is read by @kubernetes/client-node unchanged', () => {
    const config = new KubeConfig()
    config.loadFromString(renderKubeconfig(input))
    expect(config.getCurrentCluster()).toMatchObject({
      name: 'kube-test-api',
      server: 'https://127.0.0.1:6443',
      caData: Buffer.from(input.caCertificatePem).toString('base64'),
    })
    expect(config.getCurrentUser()).toMatchObject({ name: input.userName, token: 'abc.def' })
    expect(config.getCurrentContext()).toBe(`${input.userName}@kube-test-api`)
  })
})

describe('writeKubeconfigFile', () => {
  it('writes an owner-only file', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'kubeconfig-test-'))
    try {
      const path = await writeKubeconfigFile(input, join(directory, 'config'))
      expect(await readFile(path, 'utf8')).toBe(renderKubeconfig(input))
      expect((await stat(path)).mode & 0o777).toBe(0o600)
    } finally {
      await rm(directory, { recursive: true, force: true })
    }
  })
})
