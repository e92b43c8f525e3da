import { describe, expect, it } from 'vitest'
import { REATTEST_ON_RENEWAL_CODES, renewalMethod, rotationTime } from './rotation.ts'

const start = Date.parse('2026-11-24T00:00:00Z')

describe('rotationTime', () => {
  it('is half-way through the lifetime', () => {
    expect(rotationTime({ notBefore: new Date(start), notAfter: new Date(start + 3_600_000) })).toBe(
      start + 1_800_000,
    )
    expect(rotationTime({ notBefore: new Date(start), notAfter: new Date(start + 60_000) })).toBe(
      start + 30_000,
    )
  })
})

describe('renewalMethod', () => {
  const held = { notAfter: new Date(start + 60_000) }

  it('attests for k8s_psat, always', () => {
    expect(renewalMethod('k8s_psat', held, start)).toBe('attest')
    expect(renewalMethod('k8s_psat', undefined, start)).toBe('attest')
  })

  it('renews for k8s_sat while the SVID is valid, and attests without one', () => {
    expect(renewalMethod('k8s_sat', held, start)).toBe('renew')
    expect(renewalMethod('k8s_sat', held, start + 60_000)).toBe('attest')
    expect(renewalMethod('k8s_sat', undefined, start)).toBe('attest')
  })
})

describe('REATTEST_ON_RENEWAL_CODES', () => {
  it('covers eviction and the explicit request, never a ban', () => {
    expect([...REATTEST_ON_RENEWAL_CODES].sort()).toEqual([
      'ATT_ERR_AGENT_NOT_FOUND',
      'ATT_ERR_REATTESTATION_REQUIRED',
      'ATT_ERR_SVID_NOT_CURRENT',
      'ATT_ERR_UNAUTHENTICATED',
    ])
  })
})
