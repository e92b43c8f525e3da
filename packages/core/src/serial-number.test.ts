import { describe, expect, it } from 'vitest'
import { canonicalSerialNumber } from './serial-number.ts'

describe('canonicalSerialNumber', () => {
  it('lowercases and drops leading zeros', () => {
    expect(canonicalSerialNumber('00A1B2')).toBe('a1b2')
    expect(canonicalSerialNumber('7c42c0f0e0f17665a34efddaeffd0372')).toBe('7c42c0f0e0f17665a34efddaeffd0372')
  })

  it('keeps a lone zero', () => {
    expect(canonicalSerialNumber('000')).toBe('0')
  })

  it('refuses text that is not hex', () => {
    expect(() => canonicalSerialNumber('')).toThrow(TypeError)
    expect(() => canonicalSerialNumber('0x12')).toThrow('not a hex serial number: "0x12"')
  })
})
