import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DER_TAG, derSequence, derTlv, encodeDer, readDerElement } from './der.ts'

describe('encodeDer', () => {
  it.each([
    [0, [0x04, 0x00]],
    [0x7f, [0x04, 0x7f]],
    [0x80, [0x04, 0x81, 0x80]],
    [0xff, [0x04, 0x81, 0xff]],
    [0x100, [0x04, 0x82, 0x01, 0x00]],
    [0x1_0000, [0x04, 0x83, 0x01, 0x00, 0x00]],
  ])('writes a %d-byte content length in the shortest form', (length, header) => {
    const encoded = encodeDer(derTlv(DER_TAG.octetString, new Uint8Array(length).fill(0xaa)))
    expect([...encoded.subarray(0, header.length)]).toEqual(header)
    expect(encoded.length).toBe(header.length + length)
  })

  it('reads back what it wrote, at every level of nesting', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }), (parts) => {
        const encoded = encodeDer(derSequence(derSequence(...parts), ...parts))
        const outer = readDerElement(encoded)
        expect(outer.end).toBe(encoded.length)
        const inner = readDerElement(outer.contents)
        expect(Buffer.from(inner.contents)).toEqual(Buffer.concat(parts))
        expect(Buffer.from(outer.contents.subarray(inner.end))).toEqual(Buffer.concat(parts))
      }),
    )
  })
})
