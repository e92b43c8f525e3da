import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { pemEncode } from './pem.ts'
import { x509 } from './x509.ts'

describe('pemEncode', () => {
  it('writes the text PemConverter.encode writes, for any bytes and lengths around line ends', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (der) => {
        expect(pemEncode(der, 'CERTIFICATE')).toBe(x509.PemConverter.encode(der, 'CERTIFICATE'))
      }),
    )
    for (const length of [0, 1, 47, 48, 49, 96]) {
      const der = new Uint8Array(length).fill(length)
      expect(pemEncode(der, 'CERTIFICATE')).toBe(x509.PemConverter.encode(der, 'CERTIFICATE'))
    }
  })

  it('encodes only the view it is given, not the rest of a shared buffer', () => {
    const shared = new Uint8Array([1, 2, 3, 4, 5, 6])
    expect(pemEncode(shared.subarray(2, 4), 'X')).toBe('-----BEGIN X-----\nAwQ=\n-----END X-----')
  })
})
