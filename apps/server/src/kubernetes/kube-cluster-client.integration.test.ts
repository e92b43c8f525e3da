import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AttestError } from '@k8s-attest/core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { KubeWorld } from '../../test/kube-world.ts'
import { withCallDeadline } from './call-deadline.ts'
import { TOKEN_REVIEW_PERMISSION } from './cluster-client.ts'
import { type KubeApiCall, KubeClusterClient } from './kube-cluster-client.ts'
import { MAX_API_SERVER_CONNECTIONS } from './pooled-kube-config.ts'

let world: KubeWorld
let client: KubeClusterClient
const calls: KubeApiCall[] = []

beforeAll(async () => {
  world = await KubeWorld.start()
  client = KubeClusterClient.fromKubeconfig({
    cluster: 'demo',
    kubeconfigFile: world.kubeconfigPath,
    onCall: (call) => calls.push(call),
  })
})

afterAll(async () => {
  await client?.close()
  await world?.stop()
})

describe('KubeClusterClient', () => {
  it('reviews a token and returns the status untouched', async () => {
    const pod = world.newAgentPod()
    const status = await client.reviewToken(pod.token, ['spire-server'])
    expect(status).toMatchObject({
      authenticated: true,
      audiences: ['spire-server'],
      user: { username: 'system:serviceaccount:spire:spire-agent' },
    })
    expect(status.user?.extra?.['authentication.kubernetes.io/pod-uid']).toEqual([pod.podUid])
    expect(calls.at(-1)).toMatchObject({ verb: 'create', resource: 'tokenreviews', code: '201' })
  })

  it("returns a refused review's status, not an error", async () => {
    expect(await client.reviewToken('garbage', [])).toMatchObject({ error: 'invalid bearer token' })
  })

  it('returns the refusal of a token for another audience exactly as kube-apiserver v1.32 does', async () => {
    const pod = world.newAgentPod({ audiences: ['spire-server'] })
    // Recorded from kube-apiserver v1.32.13 ("TokenReview: wrong audience [other-audience]" in
    // shared/kube-reference): no authenticated key, no audiences, the reason only in prose.
    expect(await client.reviewToken(pod.token, ['other-audience'])).toEqual({
      user: {},
      error:
        '[invalid bearer token, token audiences ["spire-server"] is invalid for the target audiences ["other-audience"]]',
    })
  })

  it('reads pods and nodes, and undefined for absent ones', async () => {
    const pod = world.newAgentPod({ podLabels: { app: 'a' } })
    expect(await client.getPod('spire', pod.podName)).toMatchObject({
      uid: pod.podUid,
      nodeName: pod.nodeName,
      hostIp: '10.0.0.7',
      labels: { app: 'a' },
    })
    expect(await client.getNode(pod.nodeName)).toMatchObject({ uid: pod.nodeUid })
    expect(await client.getPod('spire', 'absent')).toBeUndefined()
    expect(await client.getNode('absent')).toBeUndefined()
    expect(calls.at(-1)).toMatchObject({ verb: 'get', resource: 'nodes', code: '404' })
  })

  it("reads a terminating pod's deletion time as a Date, by GET and from a listed cache", async () => {
    const pod = world.newAgentPod()
    world.api.deleteObject('pods', pod.podName, { namespace: 'spire', gracePeriodSeconds: 30 })
    const fetched = await client.getPod('spire', pod.podName)
    expect(fetched?.deletionTimestamp).toBeInstanceOf(Date)
    expect(Number.isNaN(fetched?.deletionTimestamp?.getTime())).toBe(false)

    const watchesBefore = world.api.counters.requests({ verb: 'watch' })
    const caches = client.startCaches({ serviceAccounts: ['spire:spire-agent'] })
    try {
      await caches.synced()
      expect(caches.pod('spire', pod.podName)).toEqual(fetched)
      expect(caches.node(pod.nodeName)).toMatchObject({ uid: pod.nodeUid })
      // Closed once the watches are open, so none opens after the next test's count starts.
      await vi.waitFor(() => expect(world.api.counters.requests({ verb: 'watch' })).toBe(watchesBefore + 2))
    } finally {
      await caches.close()
    }
  })

  it('asks SelfSubjectAccessReview about its own permissions', async () => {
    expect(await client.checkPermission(TOKEN_REVIEW_PERMISSION)).toMatchObject({
      allowed: true,
      resource: 'tokenreviews',
    })
  })

  it('bounds its connections by the pool: 64 reviews, 16 at a time, open at most MAX_API_SERVER_CONNECTIONS', async () => {
    const fresh = KubeClusterClient.fromKubeconfig({ cluster: 'demo', kubeconfigFile: world.kubeconfigPath })
    const pod = world.newAgentPod()
    world.api.counters.reset()
    try {
      for (let round = 0; round < 4; round++) {
        await Promise.all(Array.from({ length: 16 }, () => fresh.reviewToken(pod.token, ['spire-server'])))
      }
      expect(world.api.counters.requests({ verb: 'create', resource: 'tokenreviews' })).toBe(64)
      // client-node as shipped opens one connection per call: 64 here.
      expect(world.api.counters.tlsConnections).toBeGreaterThanOrEqual(1)
      expect(world.api.counters.tlsConnections).toBeLessThanOrEqual(MAX_API_SERVER_CONNECTIONS)
    } finally {
      await fresh.close()
    }
  })

  it('opens one or two connections for 30 sequential calls of every kind', async () => {
    const fresh = KubeClusterClient.fromKubeconfig({ cluster: 'demo', kubeconfigFile: world.kubeconfigPath })
    const pod = world.newAgentPod()
    world.api.counters.reset()
    try {
      for (let i = 0; i < 10; i++) {
        await fresh.reviewToken(pod.token, ['spire-server'])
        await fresh.getPod('spire', pod.podName)
        await fresh.getNode(pod.nodeName)
      }
      expect(world.api.counters.requests()).toBe(30)
      // undici dispatches the second call before it has marked the first call's socket free,
      // and opens a second one (seen with plain undici requests too); from then on both stay.
      expect(world.api.counters.tlsConnections).toBeGreaterThanOrEqual(1)
      expect(world.api.counters.tlsConnections).toBeLessThanOrEqual(2)
    } finally {
      await fresh.close()
    }
  })

  it('reads a CA file once, not on every call', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kube-ca-file-'))
    const caFile = join(dir, 'ca.crt')
    await writeFile(caFile, world.api.caCertificatePem)
    const kubeconfig = (await readFile(world.kubeconfigPath, 'utf8')).replace(
      /certificate-authority-data: .*/,
      'certificate-authority: "ca.crt"',
    )
    await writeFile(join(dir, 'kubeconfig'), kubeconfig)
    const fromFile = KubeClusterClient.fromKubeconfig({
      cluster: 'demo',
      kubeconfigFile: join(dir, 'kubeconfig'),
    })
    const pod = world.newAgentPod()
    try {
      expect(await fromFile.getPod('spire', pod.podName)).toMatchObject({ uid: pod.podUid })
      await rm(caFile)
      // client-node as shipped would fail here: it reads the CA file for every call.
      expect(await fromFile.getNode(pod.nodeName)).toMatchObject({ uid: pod.nodeUid })
    } finally {
      await fromFile.close()
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('turns 503 with Retry-After into ATT_ERR_KUBE_API_UNAVAILABLE carrying it', async () => {
    const fault = world.api.faults.inject({
      resource: 'tokenreviews',
      error: { status: 503, retryAfterSeconds: 9 },
      times: 1,
    })
    const error = await client.reviewToken('x', []).catch((thrown: unknown) => thrown)
    fault.remove()
    expect(error).toBeInstanceOf(AttestError)
    expect(error).toMatchObject({
      code: 'ATT_ERR_KUBE_API_UNAVAILABLE',
      details: { cluster: 'demo', value: '503', retryAfterSeconds: 9 },
    })
  })

  it('gives up on an API server that accepts the call and never answers, and drops the request', async () => {
    const pod = world.newAgentPod()
    const guarded = withCallDeadline(client, { cluster: 'demo', timeoutMs: 1_000 })
    // An answered call first: the hung one then travels on an open connection.
    expect(await guarded.reviewToken(pod.token, ['spire-server'])).toMatchObject({ authenticated: true })
    const fault = world.api.faults.inject({ resource: 'tokenreviews', hang: true, times: 1 })
    const error = await guarded.reviewToken(pod.token, ['spire-server']).catch((thrown: unknown) => thrown)
    expect(fault.hits).toBe(1)
    expect(error).toMatchObject({
      code: 'ATT_ERR_KUBE_API_UNAVAILABLE',
      details: { check: 'kube_api_timeout', cluster: 'demo', value: '1s' },
    })
    // The request was aborted (client-node saw no answer), and the pool still serves the next call.
    await vi.waitFor(() =>
      expect(calls.at(-1)).toMatchObject({ verb: 'create', resource: 'tokenreviews', code: 'error' }),
    )
    expect(await guarded.reviewToken(pod.token, ['spire-server'])).toMatchObject({ authenticated: true })
  })

  it('turns a refusal of its own credentials into ATT_ERR_KUBE_API_FAILED', async () => {
    const stranger = world.api.addIdentity({ name: 'nobody', rules: [] })
    const path = await world.api.writeKubeconfig({ identity: stranger })
    const weak = KubeClusterClient.fromKubeconfig({ cluster: 'demo', kubeconfigFile: path })
    try {
      const error = await weak.getPod('spire', 'x').catch((thrown: unknown) => thrown)
      expect(error).toMatchObject({ code: 'ATT_ERR_KUBE_API_FAILED', details: { value: '403' } })
    } finally {
      await weak.close()
    }
  })

  it('turns a refused connection into ATT_ERR_KUBE_API_UNAVAILABLE', async () => {
    const other = await KubeWorld.start()
    const unreachable = KubeClusterClient.fromKubeconfig({
      cluster: 'gone',
      kubeconfigFile: other.kubeconfigPath,
    })
    await other.stop()
    try {
      const error = await unreachable.reviewToken('x', []).catch((thrown: unknown) => thrown)
      expect(error).toMatchObject({
        code: 'ATT_ERR_KUBE_API_UNAVAILABLE',
        details: { cluster: 'gone', check: 'kube_api' },
      })
      // Not just a generic "fetch failed": the message says what happened.
      expect((error as Error).message).toMatch(
        /^Kubernetes API call create tokenreviews in cluster "gone" failed: .*ECONNREFUSED/,
      )
    } finally {
      await unreachable.close()
    }
  })
})
