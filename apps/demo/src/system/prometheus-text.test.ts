import { describe, expect, it } from 'vitest'
import { parsePrometheusText, sumSamples } from './prometheus-text.ts'

const EXPOSITION = `# HELP k8s_attest_attestations_total Node attestations by attestor, result and error code ("" on success)
# TYPE k8s_attest_attestations_total counter
k8s_attest_attestations_total{attestor="k8s_psat",result="success",code=""} 3
k8s_attest_attestations_total{attestor="k8s_psat",result="refused",code="ATT_ERR_AGENT_BANNED"} 1
k8s_attest_attestations_total{attestor="k8s_sat",result="success",code=""} 2

process_start_time_seconds 1795000000
odd_label{path="a \\"quoted\\" \\\\ value"} 0.5 1795000000000
`

describe('parsePrometheusText', () => {
  it('reads names, labels (with escapes) and values, and skips comments and blank lines', () => {
    const samples = parsePrometheusText(EXPOSITION)
    expect(samples).toHaveLength(5)
    expect(samples[1]).toEqual({
      name: 'k8s_attest_attestations_total',
      labels: { attestor: 'k8s_psat', result: 'refused', code: 'ATT_ERR_AGENT_BANNED' },
      value: 1,
    })
    expect(samples[3]).toEqual({ name: 'process_start_time_seconds', labels: {}, value: 1795000000 })
    expect(samples[4]).toEqual({ name: 'odd_label', labels: { path: 'a "quoted" \\ value' }, value: 0.5 })
  })

  it('refuses a line that is not a sample, quoting it', () => {
    expect(() => parsePrometheusText('k8s_attest_agents{state="active"}\n')).toThrow(
      'not a Prometheus sample line: "k8s_attest_agents{state=\\"active\\"}"',
    )
  })
})

describe('sumSamples', () => {
  const samples = parsePrometheusText(EXPOSITION)

  it('adds the samples of one name whose labels include the filter', () => {
    expect(sumSamples(samples, 'k8s_attest_attestations_total')).toBe(6)
    expect(sumSamples(samples, 'k8s_attest_attestations_total', { result: 'success' })).toBe(5)
    expect(sumSamples(samples, 'k8s_attest_attestations_total', { code: 'ATT_ERR_AGENT_BANNED' })).toBe(1)
  })

  it('is 0 for a counter that was never exposed', () => {
    expect(sumSamples(samples, 'k8s_attest_renewals_total')).toBe(0)
  })
})
