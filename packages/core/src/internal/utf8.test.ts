import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { utf8ByteLength } from './utf8.ts'

describe('utf8ByteLength', () => {
  it.each([
    ['', 0],
    ['spiffe://example.org', 20],
    ['\u00e9', 2],
    ['\u20ac', 3],
    ['\u{1f600}', 4],
    ['\ud800', 3],
    ['\udc00x', 4],
  ])('%j is %i bytes', (value, bytes) => {
    expect(utf8ByteLength(value)).toBe(bytes)
  })

  it('agrees with TextEncoder on any string, lone surrogates included', () => {
    const encoder = new TextEncoder()
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (value) => {
        expect(utf8ByteLength(value)).toBe(encoder.encode(value).length)
      }),
      { numRuns: 2_000 },
    )
  })
})
