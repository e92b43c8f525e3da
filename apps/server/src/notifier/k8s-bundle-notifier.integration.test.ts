import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AttestError } from '@k8s-attest/core'
import { ApiException } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KubeWorld } from '../../test/kube-world.ts'
import { CertificateAuthority } from '../ca/certificate-authority.ts'
import { SERVER_CONFIG_DEFAULTS } from '../config/server-config.ts'
import { KubeClusterClient } from '../kubernetes/kube-cluster-client.ts'
import { createLogger } from '../logging/logger.ts'
import { type ConfigMapApi, K8sBundleNotifier } from './k8s-bundle-notifier.ts'

/*
 * The notifier against the Kubernetes test API, as the server's own service account with the
 * Role deploy/base grants it: get and patch of ConfigMap spire-bundle in namespace spire, and
 * nothing else.
 */

const CONFIG = { ...SERVER_CONFIG_DEFAULTS.bundleNotifier, kubeConfigFile: undefined }

let world: KubeWorld
let dataDir: string
let ca: CertificateAuthority
let serverKubeconfig: string
const clients: KubeClusterClient[] = []

beforeAll(async () => {
  world = await KubeWorld.start()
  dataDir = await mkdtemp(join(tmpdir(), 'k8s-attest-notifier-'))
  ca = await CertificateAuthority.open({
    dataDir,
    trustDomain: 'example.org',
    caTtlMs: 86_400_000,
    agentTtlMs: 3_600_000,
  })
  serverKubeconfig = await world.serverKubeconfig()
  world.grantServer(
    'k8s-attest-server-bundle',
    [
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: ['spire-bundle'],
        verbs: ['get', 'patch'],
      },
    ],
    'spire',
  )
})

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()))
  await world?.stop()
  await rm(dataDir, { recursive: true, force: true })
})

function serverClient(): KubeClusterClient {
  const client = KubeClusterClient.fromKubeconfig({ cluster: 'demo', kubeconfigFile: serverKubeconfig })
  clients.push(client)
  return client
}

function notifierFor(configMap: string): K8sBundleNotifier {
  return new K8sBundleNotifier({
    config: { ...CONFIG, configMap },
    api: serverClient(),
    currentBundle: async () => ca.bundle().pem,
    logger: createLogger({ level: 'error' }),
  })
}

function configMapData(name: string): Record<string, string> | undefined {
  return (world.api.getObject('configmaps', name, 'spire').object as { data?: Record<string, string> }).data
}

describe('K8sBundleNotifier against the API server', () => {
  it("writes the CA's bundle into the ConfigMap with one get and one patch, keeping its other keys", async () => {
    world.api.createObject(
      'configmaps',
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'spire-bundle' },
        data: { 'README.txt': 'hi' },
      },
      'spire',
    )
    const before = world.api.counters.requests({ resource: 'configmaps' })
    const notifier = notifierFor('spire-bundle')
    expect(await notifier.publish()).toBe('published')
    expect(configMapData('spire-bundle')).toEqual({ 'README.txt': 'hi', 'bundle.crt': ca.bundle().pem })
    expect(ca.bundle().pem).toContain('-----BEGIN CERTIFICATE-----')
    expect(world.api.counters.requests({ resource: 'configmaps' }) - before).toBe(2)

    // A server restarted with the same CA finds it there and writes nothing.
    expect(await notifierFor('spire-bundle').publish()).toBe('already-published')
  })

  it('publishes the successor CA when it is prepared, a third of a ca_ttl before it signs', async () => {
    const rotationDir = await mkdtemp(join(tmpdir(), 'k8s-attest-notifier-rotation-'))
    let clock = new Date('2026-12-07T00:00:00Z')
    const rotating = await CertificateAuthority.open({
      dataDir: rotationDir,
      trustDomain: 'example.org',
      caTtlMs: 86_400_000,
      agentTtlMs: 3_600_000,
      now: () => clock,
    })
    world.api.createObject(
      'configmaps',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'rotation-bundle' } },
      'spire',
    )
    const admin = KubeClusterClient.fromKubeconfig({ cluster: 'demo', kubeconfigFile: world.kubeconfigPath })
    clients.push(admin)
    const notifier = new K8sBundleNotifier({
      config: { ...CONFIG, configMap: 'rotation-bundle' },
      api: admin,
      currentBundle: async () => {
        await rotating.rotateIfDue()
        return rotating.bundle().pem
      },
      logger: createLogger({ level: 'error' }),
    })
    const certificates = () =>
      configMapData('rotation-bundle')?.['bundle.crt']?.match(/BEGIN CERTIFICATE/g)?.length
    try {
      expect(await notifier.publish()).toBe('published')
      expect(certificates()).toBe(1)
      const firstSigning = rotating.signingCertificatePem

      clock = new Date('2026-12-07T12:00:01Z')
      expect(await notifier.publish()).toBe('published')
      expect(certificates()).toBe(2)
      expect(rotating.signingCertificatePem).toBe(firstSigning)
      expect(configMapData('rotation-bundle')?.['bundle.crt']).toBe(rotating.bundle().pem)
    } finally {
      await rm(rotationDir, { recursive: true, force: true })
    }
  })

  it('is refused a patch at a version the ConfigMap has left (409)', async () => {
    const client = serverClient()
    const read = await client.getConfigMap('spire', 'spire-bundle')
    expect(read?.resourceVersion).toMatch(/^\d+$/)
    await client.patchConfigMap('spire', 'spire-bundle', {
      resourceVersion: read?.resourceVersion ?? '',
      data: { 'README.txt': 'changed' },
    })
    const stale = await client
      .patchConfigMap('spire', 'spire-bundle', {
        resourceVersion: read?.resourceVersion ?? '',
        data: { 'README.txt': 'lost' },
      })
      .catch((caught: unknown) => caught)
    expect(stale).toBeInstanceOf(AttestError)
    expect((stale as AttestError).cause).toBeInstanceOf(ApiException)
    expect(((stale as AttestError).cause as ApiException<unknown>).code).toBe(409)
    expect(configMapData('spire-bundle')?.['README.txt']).toBe('changed')
  })

  it('reads again after the 409 of a write made between its read and its patch, and keeps both', async () => {
    // As the admin: the server's Role names spire-bundle alone.
    const client = KubeClusterClient.fromKubeconfig({ cluster: 'demo', kubeconfigFile: world.kubeconfigPath })
    clients.push(client)
    let interposed = false
    // Another writer (a second server, an operator) changes the ConfigMap right after this read.
    const racing: ConfigMapApi = {
      getConfigMap: async (namespace, name, options) => {
        const read = await client.getConfigMap(namespace, name, options)
        if (!interposed && read !== undefined) {
          interposed = true
          await client.patchConfigMap(namespace, name, {
            resourceVersion: read.resourceVersion,
            data: { 'other.txt': 'written meanwhile' },
          })
        }
        return read
      },
      patchConfigMap: (namespace, name, patch, options) =>
        client.patchConfigMap(namespace, name, patch, options),
      close: () => client.close(),
    }
    world.api.createObject(
      'configmaps',
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'racing-bundle' } },
      'spire',
    )
    const conflictsBefore = world.api.counters.requests({ verb: 'patch', resource: 'configmaps' })
    const notifier = new K8sBundleNotifier({
      config: { ...CONFIG, configMap: 'racing-bundle' },
      api: racing,
      currentBundle: async () => ca.bundle().pem,
      logger: createLogger({ level: 'error' }),
    })
    expect(await notifier.publish()).toBe('published')
    expect(configMapData('racing-bundle')).toEqual({
      'other.txt': 'written meanwhile',
      'bundle.crt': ca.bundle().pem,
    })
    // The other write, the refused patch, and the one after the second read.
    expect(world.api.counters.requests({ verb: 'patch', resource: 'configmaps' }) - conflictsBefore).toBe(3)
  })

  it('says which ConfigMap is missing, and what the server may not do when RBAC refuses', async () => {
    // The Role names spire-bundle only: any other ConfigMap is forbidden, absent or not.
    const error = await notifierFor('other-bundle')
      .publish()
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(AttestError)
    expect((error as AttestError).code).toBe('ATT_ERR_KUBE_API_FAILED')
    expect((error as AttestError).message).toBe(
      'Kubernetes API call get configmaps in cluster "demo" failed with HTTP 403: configmaps "other-bundle" is forbidden: User "system:serviceaccount:spire:spire-server" cannot get resource "configmaps" in API group "" in the namespace "spire"',
    )

    const admin = KubeClusterClient.fromKubeconfig({ cluster: 'demo', kubeconfigFile: world.kubeconfigPath })
    clients.push(admin)
    const missing = new K8sBundleNotifier({
      config: { ...CONFIG, configMap: 'never-created' },
      api: admin,
      currentBundle: async () => ca.bundle().pem,
      logger: createLogger({ level: 'error' }),
    })
    await expect(missing.publish()).rejects.toThrow('ConfigMap "spire/never-created" does not exist')
  })
})
