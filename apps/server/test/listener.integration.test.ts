import { connect, type TLSSocket } from 'node:tls'
import { PROBLEM_CONTENT_TYPE } from '@k8s-attest/core'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type MetricsListener, startMetricsListener } from '../src/metrics/metrics-listener.ts'
import { ADMIN_TOKEN, type RunningServer, startServer } from './server-harness.ts'

/*
 * What only a real socket shows: slow and greedy clients against the listener's limits, and
 * the answers Node's HTTP parser gives before fastify sees a request.
 */

let server: RunningServer
let port: number

beforeAll(async () => {
  server = await startServer({
    clusters: {},
    // Short limits so the test waits for less than a second; production defaults are seconds.
    listener: { readHeaderTimeoutMs: 300, requestTimeoutMs: 600, idleTimeoutMs: 5000, maxConnections: 3 },
  })
  port = Number(new URL(server.url).port)
})
afterAll(async () => {
  await server.close()
})

/** A TLS connection to the server, with everything it receives until it closes. */
interface RawConnection {
  readonly socket: TLSSocket
  /** Resolves with all received text when the server closes the connection. */
  readonly closed: Promise<string>
}

async function rawConnection(): Promise<RawConnection> {
  const socket = connect({ host: '127.0.0.1', port, ca: server.ca.bundle().pem, servername: 'localhost' })
  let received = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    received += chunk
  })
  const closed = new Promise<string>((resolve) => {
    socket.on('close', () => resolve(received))
    socket.on('error', () => undefined)
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve)
    socket.once('error', reject)
  })
  return { socket, closed }
}

/** Waits for the server to close `connection`, failing after `ms` (the test's own deadline). */
async function closedWithin(connection: RawConnection, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`the server kept the connection open for ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([connection.closed, deadline])
  } finally {
    clearTimeout(timer)
    connection.socket.destroy()
  }
}

/** The status and problem body of a raw HTTP/1.1 answer. */
function parseAnswer(text: string): {
  status: number
  contentType: string
  problem: Record<string, unknown>
} {
  const [head = '', body = ''] = text.split('\r\n\r\n')
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1])
  const contentType = /^content-type: (.*)$/im.exec(head)?.[1] ?? ''
  return { status, contentType, problem: JSON.parse(body) as Record<string, unknown> }
}

describe('slow clients', () => {
  it('closes a connection whose body never completes, answering 408 ATT_ERR_REQUEST_TIMEOUT', async () => {
    const connection = await rawConnection()
    connection.socket.write(
      'POST /v1/attest HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
        'Content-Length: 1000\r\n\r\n{"attestation":',
    )
    const answer = parseAnswer(await closedWithin(connection, 10_000))
    expect(answer.status).toBe(408)
    expect(answer.contentType).toContain(PROBLEM_CONTENT_TYPE)
    expect(answer.problem).toMatchObject({
      status: 408,
      code: 'ATT_ERR_REQUEST_TIMEOUT',
      title: expect.any(String),
    })
  })

  it('closes a connection whose headers never complete, answering 408 as a problem', async () => {
    const connection = await rawConnection()
    connection.socket.write('GET /live HTTP/1.1\r\nHost: localhost\r\n')
    const answer = parseAnswer(await closedWithin(connection, 10_000))
    expect(answer).toMatchObject({ status: 408, problem: { code: 'ATT_ERR_REQUEST_TIMEOUT' } })
    expect(answer.contentType).toContain(PROBLEM_CONTENT_TYPE)
  })
})

describe('what the HTTP parser refuses', () => {
  it('answers oversized headers with 431 ATT_ERR_HEADERS_TOO_LARGE as a problem', async () => {
    const connection = await rawConnection()
    connection.socket.write(`GET /live HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)
    const answer = parseAnswer(await closedWithin(connection, 10_000))
    expect(answer).toMatchObject({ status: 431, problem: { status: 431, code: 'ATT_ERR_HEADERS_TOO_LARGE' } })
    expect(answer.contentType).toContain(PROBLEM_CONTENT_TYPE)
  })

  it('answers bytes that are not HTTP with 400 as a problem', async () => {
    const connection = await rawConnection()
    connection.socket.write('NOT HTTP AT ALL\r\n\r\n')
    const answer = parseAnswer(await closedWithin(connection, 10_000))
    expect(answer).toMatchObject({
      status: 400,
      problem: { code: 'ATT_ERR_BAD_REQUEST', check: 'http_parse' },
    })
  })
})

describe('the connection cap', () => {
  it('closes connections beyond max_connections at once, and serves again when one closes', async () => {
    const held = [await rawConnection(), await rawConnection(), await rawConnection()]
    try {
      const extra = connect({ host: '127.0.0.1', port, ca: server.ca.bundle().pem, servername: 'localhost' })
      const refused = await new Promise<string>((resolve) => {
        extra.once('secureConnect', () => resolve('connected'))
        extra.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
        extra.once('close', () => resolve('closed'))
      })
      extra.destroy()
      expect(refused).not.toBe('connected')
    } finally {
      for (const connection of held) connection.socket.destroy()
    }
    await expect
      .poll(async () => (await server.request('GET', '/live')).status, { timeout: 10_000 })
      .toBe(200)
  })
})

describe('admin path parameters sent as they are', () => {
  // Written on the socket: URL-parsing clients (undici, inject) resolve ".." before sending.
  it.each(['..', '%2e%2e'])('refuses /v1/admin/agents/%s with 400 ATT_ERR_SPIFFE_ID_INVALID', async (id) => {
    const connection = await rawConnection()
    connection.socket.write(
      `GET /v1/admin/agents/${id} HTTP/1.1\r\nHost: localhost\r\n` +
        `Authorization: Bearer ${ADMIN_TOKEN}\r\nConnection: close\r\n\r\n`,
    )
    const answer = parseAnswer(await closedWithin(connection, 10_000))
    expect(answer).toMatchObject({
      status: 400,
      problem: { code: 'ATT_ERR_SPIFFE_ID_INVALID', check: 'scheme' },
    })
  })
})

describe('the metrics listener', () => {
  let metrics: MetricsListener | undefined

  afterAll(async () => {
    await metrics?.close()
  })

  it('serves /metrics on its own loopback listener, and a problem for anything else', async () => {
    metrics = await startMetricsListener({ host: '127.0.0.1', port: 0 }, server.app.metrics.registry)
    const base = `http://127.0.0.1:${metrics.address.port}`
    const scrape = await request(`${base}/metrics`)
    expect(scrape.statusCode).toBe(200)
    expect(await scrape.body.text()).toContain('k8s_attest_agents')
    const other = await request(`${base}/v1/attest`, { method: 'POST' })
    expect(other.statusCode).toBe(404)
    expect(other.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE)
    expect(await other.body.json()).toMatchObject({ code: 'ATT_ERR_ROUTE_NOT_FOUND' })
    expect((await server.request('GET', '/metrics')).status).toBe(404)
  })
})
