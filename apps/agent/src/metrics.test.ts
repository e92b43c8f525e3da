import { describe, expect, it } from 'vitest'
import { AgentMetrics } from './metrics.ts'

describe('AgentMetrics', () => {
  it('counts attempts by result and code, in its own registry', async () => {
    const metrics = new AgentMetrics(() => 0)
    metrics.recordAttestation('success')
    metrics.recordAttestation('failure', 'ATT_ERR_SA_NOT_ALLOWED')
    metrics.recordAttestation('failure', 'ATT_ERR_SA_NOT_ALLOWED')
    metrics.recordRenewal('failure', 'ATT_ERR_SVID_NOT_CURRENT')

    const text = await metrics.registry.metrics()
    expect(text).toContain('k8s_attest_agent_attestations_total{result="success",code="none"} 1')
    expect(text).toContain(
      'k8s_attest_agent_attestations_total{result="failure",code="ATT_ERR_SA_NOT_ALLOWED"} 2',
    )
    expect(text).toContain(
      'k8s_attest_agent_renewals_total{result="failure",code="ATT_ERR_SVID_NOT_CURRENT"} 1',
    )
    expect(new AgentMetrics().registry).not.toBe(metrics.registry)
  })

  it('reports the seconds until the held SVID expires at scrape time, and nothing without one', async () => {
    let now = 1_000_000
    const metrics = new AgentMetrics(() => now)
    expect(await metrics.registry.metrics()).not.toMatch(/^k8s_attest_agent_svid_expiry_seconds[{ ]/m)

    metrics.setSvid({ spiffeId: 'spiffe://example.org/a', notAfter: new Date(now + 3_600_000) })
    expect(await metrics.registry.metrics()).toContain(
      'k8s_attest_agent_svid_expiry_seconds{spiffe_id="spiffe://example.org/a"} 3600',
    )
    now += 600_000
    metrics.setSvid({ spiffeId: 'spiffe://example.org/b', notAfter: new Date(now + 3_000_000) })
    const text = await metrics.registry.metrics()
    expect(text).toContain('k8s_attest_agent_svid_expiry_seconds{spiffe_id="spiffe://example.org/b"} 3000')
    expect(text).not.toContain('spiffe://example.org/a')

    metrics.setSvid(undefined)
    expect(await metrics.registry.metrics()).not.toMatch(/^k8s_attest_agent_svid_expiry_seconds[{ ]/m)
  })
})
