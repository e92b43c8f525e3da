import { PROBLEM_CONTENT_TYPE } from '@k8s-attest/core'
import fastify from 'fastify'
import { request } from 'undici'
import { describe, expect, it } from 'vitest'
import { refuseWhileClosing } from './error-handler.ts'

describe('refuseWhileClosing', () => {
  it('answers a request that arrives while the app closes with a 503 problem and Connection: close', async () => {
    const app = fastify({ return503OnClosing: false })
    refuseWhileClosing(app)
    app.get('/live', async () => ({ status: 'live' }))
    let answer: { status: number; headers: Record<string, unknown>; body: unknown } | undefined
    // preClose runs before the listener stops accepting: a request sent now is one that races the shutdown.
    app.addHook('preClose', async () => {
      const response = await request(`http://127.0.0.1:${port}/live`)
      answer = { status: response.statusCode, headers: response.headers, body: await response.body.json() }
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const address = app.server.address()
    const port = typeof address === 'object' && address !== null ? address.port : 0
    expect((await request(`http://127.0.0.1:${port}/live`)).statusCode).toBe(200)
    await app.close()
    expect(answer).toMatchObject({
      status: 503,
      headers: { connection: 'close', 'retry-after': '1' },
      body: { status: 503, code: 'ATT_ERR_NOT_READY', check: 'server_closing' },
    })
    expect(String(answer?.headers['content-type'])).toContain(PROBLEM_CONTENT_TYPE)
  })
})
