import { Agent, request } from 'node:https'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ManualClock } from '../src/clock.ts'
import type { JsonObject } from '../src/json.ts'
import { type KubeTestApi, startKubeTestApi } from '../src/test-api.ts'
import { type HttpResponse, openStream, send } from './support/https-client.ts'
import { START } from './support/test-cluster.ts'

/**
 * Every fault a test can inject, seen from a client over HTTPS, and the
 * counters that let tests count API calls and connections.
 */

let api: KubeTestApi
let clock: ManualClock
let randomValues: number[]

beforeEach(async () => {
  clock = new ManualClock(START)
  randomValues = []
  api = await startKubeTestApi({ clock, random: () => randomValues.shift() ?? 0 })
  api.createNamespace('spire')
  api.createServiceAccount('spire', 'spire-agent')
})

afterEach(async () => {
  await api.stop()
})

function get(path: string): Promise<HttpResponse> {
  return send(api.url, api.caCertificatePem, {
    method: 'GET',
    path,
    headers: { Authorization: `Bearer ${api.admin.token}` },
  })
}

function reviewToken(): Promise<HttpResponse> {
  return send(api.url, api.caCertificatePem, {
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/tokenreviews',
    headers: { Authorization: `Bearer ${api.admin.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ spec: { token: 'not-a-jwt' } }),
  })
}

function connectionError(response: Promise<HttpResponse>): Promise<string> {
  return response.then(
    (answer) => `answered ${answer.status}`,
    (error: NodeJS.ErrnoException) => error.code ?? error.message,
  )
}

describe('injected faults', () => {
  it('delay a request by the latency, on the cluster clock', async () => {
    api.faults.inject({ verb: 'get', resource: 'serviceaccounts', latencyMs: 5000 })
    let settled = false
    const response = get('/api/v1/namespaces/spire/serviceaccounts/spire-agent').finally(() => {
      settled = true
    })
    await vi.waitFor(() => expect(clock.pendingTimers).toBe(1))
    clock.advance(4999)
    expect(settled).toBe(false)
    clock.advance(1)
    expect((await response).status).toBe(200)
  })

  it('hang a request: accepted and never answered, whatever the clock, until the connection goes', async () => {
    const fault = api.faults.inject({ resource: 'tokenreviews', hang: true })
    let settled = false
    const hanging = connectionError(reviewToken()).finally(() => {
      settled = true
    })
    await vi.waitFor(() => expect(fault.hits).toBe(1))
    clock.advance(3_600_000)
    // Other requests are served meanwhile; the hung one is still waiting.
    expect((await get('/version')).status).toBe(200)
    expect(settled).toBe(false)
    api.faults.destroyConnections()
    expect(await hanging).toBe('ECONNRESET')
  })

  it('answer 500 with an InternalError Status', async () => {
    api.faults.inject({ error: { status: 500 } })
    const response = await get('/version')
    expect(response.status).toBe(500)
    expect(JSON.parse(response.raw)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Internal error occurred: injected fault',
      reason: 'InternalError',
      details: { causes: [{ message: 'injected fault' }] },
      code: 500,
    })
  })

  it('answer 503, with Retry-After when asked', async () => {
    api.faults.inject({ error: { status: 503, retryAfterSeconds: 7, message: 'etcd is down' } })
    const response = await get('/version')
    expect(response.status).toBe(503)
    expect(response.headers['retry-after']).toBe('7')
    expect(JSON.parse(response.raw)).toMatchObject({
      reason: 'ServiceUnavailable',
      message: 'etcd is down',
      code: 503,
    })
  })

  it('answer 429 with Retry-After in plain text, as priority and fairness does (http.Error, no Status)', async () => {
    api.faults.inject({ error: { status: 429, retryAfterSeconds: 2 } })
    const response = await get('/version')
    expect(response.status).toBe(429)
    expect(response.headers['retry-after']).toBe('2')
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(response.headers['x-content-type-options']).toBe('nosniff')
    expect(response.raw).toBe('Too many requests, please try again later.\n')
  })

  it('come after authentication, as priority and fairness does: a bad credential is a 401, not a hit', async () => {
    const fault = api.faults.inject({ error: { status: 429 } })
    const refused = await send(api.url, api.caCertificatePem, {
      method: 'GET',
      path: '/version',
      headers: { Authorization: 'Bearer not-a-token-this-cluster-issued' },
    })
    expect(refused.status).toBe(401)
    expect(fault.hits).toBe(0)
    expect((await get('/version')).status).toBe(429)
    expect(fault.hits).toBe(1)
  })

  it('hit only the verb and resource they name, as many times as allowed', async () => {
    const fault = api.faults.inject({
      verb: 'create',
      resource: 'tokenreviews',
      error: { status: 503 },
      times: 1,
    })
    expect((await get('/api/v1/namespaces/spire/serviceaccounts/spire-agent')).status).toBe(200)
    expect((await reviewToken()).status).toBe(503)
    expect((await reviewToken()).status).toBe(201)
    expect(fault.hits).toBe(1)
  })

  it('hit at their rate, drawing from the injected randomness', async () => {
    api.faults.inject({ error: { status: 500 }, rate: 0.5 })
    randomValues = [0.2, 0.7]
    expect((await get('/version')).status).toBe(500)
    expect((await get('/version')).status).toBe(200)
  })

  it('stop when removed or cleared', async () => {
    const fault = api.faults.inject({ error: { status: 500 } })
    expect((await get('/version')).status).toBe(500)
    fault.remove()
    expect((await get('/version')).status).toBe(200)
    api.faults.inject({ error: { status: 500 } })
    await api.faults.clear()
    expect((await get('/version')).status).toBe(200)
  })

  it('hold a request unanswered until the hang is removed, then answer it', async () => {
    const hang = api.faults.inject({ verb: 'get', resource: 'serviceaccounts', hang: true })
    let settled = false
    const response = get('/api/v1/namespaces/spire/serviceaccounts/spire-agent').finally(() => {
      settled = true
    })
    await vi.waitUntil(() => hang.hits === 1)
    expect((await get('/version')).status).toBe(200)
    expect(settled).toBe(false)
    hang.remove()
    expect((await response).status).toBe(200)
  })

  it('cut an answer off mid-body: the client sees the connection reset', async () => {
    api.faults.inject({ verb: 'get', resource: 'serviceaccounts', resetMidResponse: true, times: 1 })
    expect(await connectionError(get('/api/v1/namespaces/spire/serviceaccounts/spire-agent'))).toBe(
      'ECONNRESET',
    )
    expect((await get('/api/v1/namespaces/spire/serviceaccounts/spire-agent')).status).toBe(200)
  })

  it('reset new connections until connections are accepted again', async () => {
    api.faults.resetConnections()
    expect(await connectionError(get('/version'))).toBe('ECONNRESET')
    api.faults.acceptConnections()
    expect((await get('/version')).status).toBe(200)
  })

  it('refuse connections while the server does not listen', async () => {
    await api.faults.stopListening()
    expect(await connectionError(get('/version'))).toBe('ECONNREFUSED')
    await api.faults.resumeListening()
    expect((await get('/version')).status).toBe(200)
  })

  it('cut open connections, watches included', async () => {
    const stream = await openStream(api.url, api.caCertificatePem, {
      method: 'GET',
      path: '/api/v1/namespaces/spire/pods?watch=1',
      headers: { Authorization: `Bearer ${api.admin.token}` },
    })
    expect(api.faults.destroyConnections()).toBe(1)
    await expect(stream.done).rejects.toThrow()
  })

  it('end open watches cleanly, as at their timeout, and count them', async () => {
    const stream = await openStream(api.url, api.caCertificatePem, {
      method: 'GET',
      path: '/api/v1/namespaces/spire/pods?watch=1',
      headers: { Authorization: `Bearer ${api.admin.token}` },
    })
    expect(api.faults.endWatches()).toBe(1)
    expect(stream.status).toBe(200)
    await expect(stream.done).resolves.toBe('')
    expect(api.faults.endWatches()).toBe(0)
  })
})

describe('counters', () => {
  it('count requests by verb and resource, and reset', async () => {
    await get('/api/v1/namespaces/spire/serviceaccounts/spire-agent')
    await get('/api/v1/namespaces/spire/serviceaccounts')
    await reviewToken()
    await reviewToken()
    await get('/version')
    expect(api.counters.requests({ verb: 'create', resource: 'tokenreviews' })).toBe(2)
    expect(api.counters.requests({ resource: 'serviceaccounts' })).toBe(2)
    expect(api.counters.snapshot()).toEqual([
      { verb: 'get', resource: '/version', count: 1 },
      { verb: 'get', resource: 'serviceaccounts', count: 1 },
      { verb: 'list', resource: 'serviceaccounts', count: 1 },
      { verb: 'create', resource: 'tokenreviews', count: 2 },
    ])
    api.counters.reset()
    expect(api.counters.requests()).toBe(0)
    expect(api.counters.tlsConnections).toBe(0)
  })

  it('count TLS connections, so connection reuse shows', async () => {
    api.counters.reset()
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: api.caCertificatePem })
    const getWith = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const outgoing = request(
          new URL(path, api.url),
          { agent, headers: { Authorization: `Bearer ${api.admin.token}` } },
          (res) => {
            res.resume()
            res.on('end', () => resolve(res.statusCode ?? 0))
          },
        )
        outgoing.on('error', reject)
        outgoing.end()
      })
    try {
      for (let index = 0; index < 5; index++) expect(await getWith('/version')).toBe(200)
    } finally {
      agent.destroy()
    }
    expect(api.counters.tlsConnections).toBe(1)
    for (let index = 0; index < 3; index++) await get('/version')
    expect(api.counters.tlsConnections).toBe(4)
    expect(api.counters.requests({ verb: 'get', resource: '/version' })).toBe(8)
  })

  it('count a call refused by authentication too', async () => {
    const response = await send(api.url, api.caCertificatePem, {
      method: 'GET',
      path: '/api/v1/nodes',
      headers: { Authorization: 'Bearer wrong' },
    })
    expect(response.status).toBe(401)
    expect(JSON.parse(response.raw) as JsonObject).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    })
    expect(api.counters.requests({ verb: 'list', resource: 'nodes' })).toBe(1)
  })
})
