import * as k8s from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type KubeTestApi, type StoredObject, startKubeTestApi } from '../src/test-api.ts'

/**
 * @kubernetes/client-node 2.0.1, configured from nothing but a kubeconfig the
 * test API wrote, against it: the calls k8s-attest's server makes
 * (TokenReview, reading pods and nodes, its startup permission check) and
 * informers, which list and then watch.
 */

describe('@kubernetes/client-node through the kubeconfig alone', () => {
  let api: KubeTestApi
  let kubeConfig: k8s.KubeConfig
  let node: StoredObject
  let pod: StoredObject

  beforeAll(async () => {
    api = await startKubeTestApi()
    api.createNamespace('spire')
    api.createServiceAccount('spire', 'spire-agent')
    node = api.createNode('node-a', { addresses: [{ type: 'InternalIP', address: '10.0.0.7' }] })
    pod = api.createPod({
      namespace: 'spire',
      name: 'spire-agent-a',
      serviceAccountName: 'spire-agent',
      nodeName: 'node-a',
      labels: { app: 'spire-agent' },
      status: { hostIP: '10.0.0.7' },
    })
    const server = api.addIdentity({
      name: 'k8s-attest-server',
      rules: [
        { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'] },
        { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods', 'nodes'] },
      ],
    })
    kubeConfig = new k8s.KubeConfig()
    kubeConfig.loadFromFile(await api.writeKubeconfig({ identity: server }))
  })

  afterAll(async () => {
    await api.stop()
  })

  it('reviews a pod-bound token with AuthenticationV1Api.createTokenReview', async () => {
    const { token } = api.requestToken({
      namespace: 'spire',
      serviceAccount: 'spire-agent',
      audiences: ['spire-server'],
      expirationSeconds: 600,
      boundObject: { kind: 'Pod', name: 'spire-agent-a' },
    })
    const review = await kubeConfig
      .makeApiClient(k8s.AuthenticationV1Api)
      .createTokenReview({ body: { spec: { token, audiences: ['spire-server'] } } })
    expect(review.status?.authenticated).toBe(true)
    expect(review.status?.audiences).toEqual(['spire-server'])
    expect(review.status?.user?.username).toBe('system:serviceaccount:spire:spire-agent')
    expect(review.status?.user?.extra?.['authentication.kubernetes.io/pod-uid']).toEqual([pod.uid])
    expect(review.status?.user?.extra?.['authentication.kubernetes.io/node-uid']).toEqual([node.uid])
  })

  it('reads the pod and the node with CoreV1Api.readNamespacedPod and readNode', async () => {
    const core = kubeConfig.makeApiClient(k8s.CoreV1Api)
    const readPod = await core.readNamespacedPod({ namespace: 'spire', name: 'spire-agent-a' })
    expect(readPod.metadata?.uid).toBe(pod.uid)
    expect(readPod.spec?.nodeName).toBe('node-a')
    expect(readPod.spec?.serviceAccountName).toBe('spire-agent')
    expect(readPod.status?.hostIP).toBe('10.0.0.7')
    const readNode = await core.readNode({ name: 'node-a' })
    expect(readNode.metadata?.uid).toBe(node.uid)
    expect(readNode.status?.addresses).toEqual([{ type: 'InternalIP', address: '10.0.0.7' }])
  })

  it('answers AuthorizationV1Api.createSelfSubjectAccessReview from the caller rules', async () => {
    const authorization = kubeConfig.makeApiClient(k8s.AuthorizationV1Api)
    const ask = (verb: string, resource: string, group = '') =>
      authorization.createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes: { verb, resource, group } } },
      })
    expect((await ask('create', 'tokenreviews', 'authentication.k8s.io')).status?.allowed).toBe(true)
    expect((await ask('get', 'pods')).status?.allowed).toBe(true)
    expect((await ask('get', 'nodes')).status?.allowed).toBe(true)
    const denied = await ask('get', 'secrets')
    expect(denied.status?.allowed).toBe(false)
    expect(denied.status?.reason).toBeUndefined()
  })

  it.each([
    { resource: 'pods', path: '/api/v1/namespaces/spire/pods' },
    { resource: 'nodes', path: '/api/v1/nodes' },
  ])('runs an informer over $resource that sees ADDED and DELETED', async ({ resource, path }) => {
    const core = kubeConfig.makeApiClient(k8s.CoreV1Api)
    const list =
      resource === 'pods' ? () => core.listNamespacedPod({ namespace: 'spire' }) : () => core.listNode()
    const informer = k8s.makeInformer<k8s.V1Pod | k8s.V1Node>(kubeConfig, path, list)
    const seen = (event: 'add' | 'delete', name: string) =>
      new Promise<k8s.V1Pod | k8s.V1Node>((resolve) => {
        informer.on(event, (object) => {
          if (object.metadata?.name === name) resolve(object)
        })
      })
    const errors: unknown[] = []
    informer.on('error', (error) => errors.push(error))
    await informer.start()
    try {
      const name = `${resource}-informed`
      const added = seen('add', name)
      const deleted = seen('delete', name)
      const created =
        resource === 'pods'
          ? api.createPod({ namespace: 'spire', name, serviceAccountName: 'spire-agent', nodeName: 'node-a' })
          : api.createNode(name)
      expect((await added).metadata?.uid).toBe(created.uid)
      api.deleteObject(resource, name, {
        namespace: resource === 'pods' ? 'spire' : '',
        gracePeriodSeconds: 0,
      })
      expect((await deleted).metadata?.uid).toBe(created.uid)
      expect(errors).toEqual([])
    } finally {
      await informer.stop()
    }
  })
})
