import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ApiException } from '@kubernetes/client-node'
import { afterEach, describe, expect, it } from 'vitest'
import { PooledKubeConfig } from './pooled-kube-config.ts'

interface Seen {
  readonly method: string | undefined
  readonly url: string | undefined
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

let server: Server | undefined

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
  server = undefined
})

/** A plain-HTTP stand-in answering every request with `status` and `answer`, recording what it got. */
async function apiServer(status: number, answer: string): Promise<{ origin: string; seen: Seen[] }> {
  const seen: Seen[] = []
  server = createServer((request, response) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => {
      body += chunk
    })
    request.on('end', () => {
      seen.push({ method: request.method, url: request.url, headers: request.headers, body })
      response.writeHead(status, { 'content-type': 'application/json', 'x-answer': 'yes' }).end(answer)
    })
  })
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { origin: `http://127.0.0.1:${port}`, seen }
}

/** client-node refuses a plain-HTTP server unless TLS verification is off, as for this stand-in. */
function kubeConfigFor(serverUrl: string): PooledKubeConfig {
  const config = new PooledKubeConfig()
  config.loadFromOptions({
    clusters: [{ name: 'c', server: serverUrl, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  })
  return config
}

describe('PooledKubeConfig.requestJson', () => {
  it('sends JSON with the credentials under the server URL path, and parses the answer', async () => {
    const { origin, seen } = await apiServer(201, '{"status":{"authenticated":true}}')
    const config = kubeConfigFor(`${origin}/proxy/clusters/c1/`)

    await expect(
      config.requestJson({
        method: 'POST',
        path: '/apis/authentication.k8s.io/v1/tokenreviews',
        body: { a: 1 },
      }),
    ).resolves.toEqual({ status: { authenticated: true } })
    expect(seen).toEqual([
      {
        method: 'POST',
        url: '/proxy/clusters/c1/apis/authentication.k8s.io/v1/tokenreviews',
        headers: expect.objectContaining({
          authorization: 'Bearer secret-token',
          accept: 'application/json',
          'content-type': 'application/json',
        }),
        body: '{"a":1}',
      },
    ])
    await config.closeConnections()
  })

  it('sends a GET with its query and Accept, and no body', async () => {
    const { origin, seen } = await apiServer(200, '{"items":[]}')
    const config = kubeConfigFor(origin)

    await expect(
      config.requestJson({
        method: 'GET',
        path: '/api/v1/namespaces/spire/pods',
        query: { fieldSelector: 'spec.serviceAccountName=spire agent' },
        accept: 'application/jwk-set+json',
      }),
    ).resolves.toEqual({ items: [] })
    expect(seen).toEqual([
      {
        method: 'GET',
        url: '/api/v1/namespaces/spire/pods?fieldSelector=spec.serviceAccountName%3Dspire%20agent',
        headers: expect.objectContaining({
          authorization: 'Bearer secret-token',
          accept: 'application/jwk-set+json',
        }),
        body: '',
      },
    ])
    expect(seen[0]?.headers['content-type']).toBeUndefined()
    await config.closeConnections()
  })

  it('names a 2xx answer that is not JSON, quoting its start', async () => {
    const { origin } = await apiServer(200, '<html>login</html>')
    const config = kubeConfigFor(origin)

    await expect(config.requestJson({ method: 'GET', path: '/api/v1/nodes' })).rejects.toThrow(
      new SyntaxError('GET /api/v1/nodes answered 200 with a body that is not JSON: "<html>login</html>"'),
    )
    await config.closeConnections()
  })

  it('throws an ApiException with the status, the body as text and the headers outside 2xx', async () => {
    const { origin } = await apiServer(403, '{"kind":"Status","reason":"Forbidden"}')
    const config = kubeConfigFor(origin)

    const refusal = await config
      .requestJson({ method: 'POST', path: '/apis/x', body: {} })
      .catch((error: unknown) => error)
    expect(refusal).toBeInstanceOf(ApiException)
    expect(refusal).toMatchObject({
      code: 403,
      body: '{"kind":"Status","reason":"Forbidden"}',
      headers: expect.objectContaining({ 'x-answer': 'yes' }),
    })
    await config.closeConnections()
  })

  it('says what in-cluster configuration lacks outside a pod, instead of "Invalid URL"', async () => {
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT }
    delete process.env.KUBERNETES_SERVICE_HOST
    delete process.env.KUBERNETES_SERVICE_PORT
    try {
      const config = new PooledKubeConfig()
      config.loadFromCluster()
      await expect(config.requestJson({ method: 'GET', path: '/api/v1/nodes' })).rejects.toThrow(
        new TypeError(
          'in-cluster configuration needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, which Kubernetes sets in every pod; outside a cluster, name a kubeconfig file',
        ),
      )
    } finally {
      if (saved.host !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved.host
      if (saved.port !== undefined) process.env.KUBERNETES_SERVICE_PORT = saved.port
    }
  })

  it('names a cluster server that is not a URL', async () => {
    const config = kubeConfigFor('https://api.example:port')
    await expect(config.requestJson({ method: 'GET', path: '/api/v1/nodes' })).rejects.toThrow(
      new TypeError('the cluster server "https://api.example:port" is not a URL'),
    )
  })

  it('says so when the kubeconfig names no server', async () => {
    const config = new PooledKubeConfig()
    await expect(config.requestJson({ method: 'POST', path: '/apis/x', body: {} })).rejects.toThrow(
      new TypeError('the kubeconfig names no cluster server'),
    )
  })
})
