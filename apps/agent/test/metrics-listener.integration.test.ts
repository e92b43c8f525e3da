import { request } from 'undici'
import { describe, expect, it } from 'vitest'
import { AgentMetrics } from '../src/metrics.ts'
import { startMetricsListener } from '../src/metrics-listener.ts'

describe('startMetricsListener', () => {
  it('serves GET /metrics on 127.0.0.1 and nothing else', async () => {
    const metrics = new AgentMetrics()
    metrics.recordAttestation('success')
    const listener = await startMetricsListener({ host: '127.0.0.1', port: 0 }, metrics.registry)
    try {
      expect(listener.address.address).toBe('127.0.0.1')
      const base = `http://127.0.0.1:${listener.address.port}`
      const ok = await request(`${base}/metrics`)
      expect(ok.statusCode).toBe(200)
      expect(ok.headers['content-type']).toContain('text/plain')
      expect(await ok.body.text()).toContain(
        'k8s_attest_agent_attestations_total{result="success",code="none"} 1',
      )

      const other = await request(`${base}/`)
      expect(other.statusCode).toBe(404)
      await other.body.dump()
      const post = await request(`${base}/metrics`, { method: 'POST', body: '' })
      expect(post.statusCode).toBe(404)
      await post.body.dump()
    } finally {
      await listener.close()
    }
  })

  it('fails to start on a port already taken, with the system error', async () => {
    const metrics = new AgentMetrics()
    const first = await startMetricsListener({ host: '127.0.0.1', port: 0 }, metrics.registry)
    try {
      await expect(
        startMetricsListener({ host: '127.0.0.1', port: first.address.port }, metrics.registry),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' })
    } finally {
      await first.close()
    }
  })
})
