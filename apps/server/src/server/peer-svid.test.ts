import { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { normalizeSerial, peerSvidOf } from './peer-svid.ts'

describe('normalizeSerial', () => {
  it("turns Node's serial form into the datastore's", () => {
    expect(normalizeSerial('00AB12')).toBe('ab12')
    expect(normalizeSerial('0')).toBe('0')
  })
})

describe('peerSvidOf', () => {
  it('finds no certificate on a plain socket', () => {
    expect(peerSvidOf(new Socket())).toBe('no_certificate')
  })
})
