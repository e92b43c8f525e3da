import { describe, expect, it } from 'vitest'
import { canonicalSerial } from './stored-svid.ts'

describe('canonicalSerial', () => {
  it("writes a serial's bytes as the integer the server shows: lowercase, no leading zeros", () => {
    expect(canonicalSerial('064D173D0D8C81180B3C70A89560317D')).toBe('64d173d0d8c81180b3c70a89560317d')
    expect(canonicalSerial('bbee77b7ae74072a2cc4034e6db0b6cc')).toBe('bbee77b7ae74072a2cc4034e6db0b6cc')
    expect(canonicalSerial('00')).toBe('0')
  })

  it('refuses what is not hex', () => {
    expect(() => canonicalSerial('06:4d')).toThrow('not a hex serial number: "06:4d"')
  })
})
