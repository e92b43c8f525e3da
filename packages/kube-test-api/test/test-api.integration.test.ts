import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import * as k8s from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seedDemoCluster } from '../src/demo-seed.ts'
import type { JsonObject } from '../src/json.ts'
import { isKubeStatusError } from '../src/status.ts'
import { type KubeTestApi, startKubeTestApi } from '../src/test-api.ts'
import { send } from './support/https-client.ts'

/** The programmatic API, and HTTP behaviour the recordings do not cover. */

let api: KubeTestApi

beforeAll(async () => {
  api = await startKubeTestApi({ signingAlgorithm: 'ES256', issuer: 'https://issuer.example' })
})

afterAll(async () => {
  await api.stop()
})

function call(
  method: string,
  path: string,
  options: { token?: string | null; body?: string; contentType?: string } = {},
) {
  const headers: Record<string, string> = {}
  if (options.token !== null) headers.Authorization = `Bearer ${options.token ?? api.admin.token}`
  if (options.contentType !== undefined) headers['Content-Type'] = options.contentType
  return send(api.url, api.caCertificatePem, {
    method,
    path,
    headers,
    ...(options.body === undefined ? {} : { body: options.body }),
  })
}

describe('the programmatic API', () => {
  it('seeds the demo cluster whose server account may review agent tokens', async () => {
    const seed = seedDemoCluster(api)
    expect(seed.agentPods.map((pod) => (pod.object.status as JsonObject).hostIP)).toEqual([
      '10.89.0.11',
      '10.89.0.12',
      '10.89.0.13',
    ])
    const server = api.requestToken({ namespace: 'spire', serviceAccount: 'spire-server' })
    const agent = api.requestToken({
      namespace: 'spire',
      serviceAccount: 'spire-agent',
      audiences: ['k8s-attest'],
      boundObject: { kind: 'Pod', name: 'spire-agent-1' },
    })
    const config = new k8s.KubeConfig()
    config.loadFromString(api.kubeconfig({ identity: { name: 'spire-server', token: server.token } }))
    const review = await config
      .makeApiClient(k8s.AuthenticationV1Api)
      .createTokenReview({ body: { spec: { token: agent.token, audiences: ['k8s-attest'] } } })
    expect(review.status?.authenticated).toBe(true)
    const pod = await config
      .makeApiClient(k8s.CoreV1Api)
      .readNamespacedPod({ namespace: 'spire', name: 'spire-agent-1' })
    expect(pod.status?.hostIP).toBe('10.89.0.11')
  })

  it('fills a legacy token secret as the token controller would', () => {
    api.createNamespace('legacy')
    const account = api.createServiceAccount('legacy', 'old-style')
    const token = api.createLegacyTokenSecret('legacy', 'old-style-token', 'old-style')
    const secret = api.getObject('secrets', 'old-style-token', 'legacy').object
    expect(Buffer.from(String((secret.data as JsonObject).token), 'base64').toString()).toBe(token)
    expect((secret.metadata as JsonObject).annotations).toEqual({
      'kubernetes.io/service-account.name': 'old-style',
      'kubernetes.io/service-account.uid': account.uid,
    })
    expect(() => api.issueLegacyToken('legacy', 'missing')).toThrow('secrets "missing" not found')
  })

  it('serves ES256 keys and the configured issuer in discovery', async () => {
    const discovery = await call('GET', '/.well-known/openid-configuration')
    expect(JSON.parse(discovery.raw)).toMatchObject({
      issuer: 'https://issuer.example',
      jwks_uri: `${api.url}/openid/v1/jwks`,
      id_token_signing_alg_values_supported: ['ES256'],
    })
    const jwks = await call('GET', '/openid/v1/jwks')
    expect(jwks.headers['content-type']).toBe('application/jwk-set+json')
    expect(JSON.parse(jwks.raw)).toEqual({ keys: [api.jwk] })
  })

  it('throws KubeStatusErrors for refused operations and TypeErrors for misuse', () => {
    let refused: unknown
    try {
      api.getObject('pods', 'nothing', 'spire')
    } catch (error) {
      refused = error
    }
    expect(isKubeStatusError(refused)).toBe(true)
    expect(refused).toMatchObject({ code: 'ATT_ERR_KUBE_TEST_NOT_FOUND', httpStatus: 404 })
    expect(() => api.getObject('services', 'x')).toThrow('"services" is not a resource the test API stores')
    expect(() => api.signToken([] as unknown as JsonObject)).toThrow('"claims" must be a JSON object')
  })

  it('removes the kubeconfigs it wrote into temporary directories when it stops', async () => {
    const other = await startKubeTestApi()
    const path = await other.writeKubeconfig()
    expect(existsSync(path)).toBe(true)
    await other.stop()
    expect(existsSync(dirname(path))).toBe(false)
  })

  it('refuses bad options with TypeErrors', async () => {
    await expect(startKubeTestApi({ port: 70000 })).rejects.toThrow(
      '"port" must be an integer from 0 to 65535',
    )
    await expect(startKubeTestApi({ apiAudiences: [] })).rejects.toThrow(
      '"apiAudiences" must name at least one audience',
    )
    await expect(startKubeTestApi({ maxTokenExpirationSeconds: 60 })).rejects.toThrow(/at least 600/)
  })
})

describe('HTTP behaviour beyond the recordings', () => {
  it('answers health checks and /version to anyone', async () => {
    expect(await call('GET', '/healthz', { token: null })).toMatchObject({ status: 200, raw: 'ok' })
    expect((await call('GET', '/readyz?verbose', { token: null })).raw).toContain('readyz check passed')
    expect(JSON.parse((await call('GET', '/version', { token: null })).raw)).toMatchObject({
      gitVersion: 'v1.32.13',
    })
  })

  it('authorizes before routing, then answers unknown paths as kube-apiserver does', async () => {
    expect((await call('GET', '/nothing', { token: null })).status).toBe(403)
    expect(await call('GET', '/nothing')).toMatchObject({ status: 404, raw: '404 page not found\n' })
    const unknownResource = await call('GET', '/api/v1/services')
    expect(unknownResource.status).toBe(404)
    expect(JSON.parse(unknownResource.raw)).toMatchObject({
      message: 'the server could not find the requested resource',
      details: {},
    })
  })

  it('reads Authorization as the bearer token authenticator does, and marks its 403s nosniff', async () => {
    const withHeader = (authorization: string) =>
      send(api.url, api.caCertificatePem, {
        method: 'GET',
        path: '/api/v1/nodes',
        headers: { Authorization: authorization },
      })
    // The second of at most three space-separated parts is the token: words after it are ignored.
    expect((await withHeader(`Bearer ${api.admin.token} extra words`)).status).toBe(200)
    expect((await withHeader(`  bearer ${api.admin.token}  `)).status).toBe(200)
    // An empty token is an invalid one; another scheme is no token at all (anonymous).
    expect((await withHeader(`Bearer  ${api.admin.token}`)).status).toBe(401)
    const anonymous = await withHeader(`Basic ${api.admin.token}`)
    expect(anonymous.status).toBe(403)
    expect(anonymous.headers['x-content-type-options']).toBe('nosniff')
  })

  it('refuses unsupported verbs (405) and media types (415)', async () => {
    expect((await call('GET', '/apis/authentication.k8s.io/v1/tokenreviews')).status).toBe(405)
    const patch = await call('PATCH', '/api/v1/nodes/demo-node-1', {
      body: '{}',
      contentType: 'application/json',
    })
    expect(patch.status).toBe(415)
    const created = await call('POST', '/api/v1/namespaces', {
      body: 'name: x',
      contentType: 'application/yaml',
    })
    expect(created.status).toBe(415)
  })

  it('creates, updates and deletes through the REST API with kube-apiserver status codes', async () => {
    const created = await call('POST', '/api/v1/namespaces/spire/secrets', {
      body: JSON.stringify({ metadata: { name: 'plain' }, stringData: { key: 'value' } }),
      contentType: 'application/json',
    })
    expect(created.status).toBe(201)
    const secret = JSON.parse(created.raw) as JsonObject
    expect(secret).toMatchObject({ data: { key: 'dmFsdWU=' }, type: 'Opaque' })
    const updated = await call('PUT', '/api/v1/namespaces/spire/secrets/plain', {
      body: JSON.stringify({ ...secret, data: { key: 'b3RoZXI=' } }),
      contentType: 'application/json',
    })
    expect(updated.status).toBe(200)
    const stale = await call('PUT', '/api/v1/namespaces/spire/secrets/plain', {
      body: JSON.stringify(secret),
      contentType: 'application/json',
    })
    expect(stale.status).toBe(409)
    const deleted = await call('DELETE', '/api/v1/namespaces/spire/secrets/plain')
    expect(JSON.parse(deleted.raw)).toMatchObject({
      status: 'Success',
      details: { name: 'plain', kind: 'secrets' },
    })
    expect((await call('GET', '/api/v1/namespaces/spire/secrets/plain')).status).toBe(404)
  })

  it('lists with label and field selectors', async () => {
    const list = await call(
      'GET',
      '/api/v1/pods?labelSelector=app%3Dspire-agent&fieldSelector=spec.nodeName%3Ddemo-node-2',
    )
    const body = JSON.parse(list.raw) as JsonObject
    expect(body.kind).toBe('PodList')
    expect((body.items as JsonObject[]).map((item) => (item.metadata as JsonObject).name)).toEqual([
      'spire-agent-2',
    ])
  })
})
