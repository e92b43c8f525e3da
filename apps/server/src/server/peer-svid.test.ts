import { Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { peerSvidOf } from './peer-svid.ts'

describe('peerSvidOf', () => {
  it('finds no certificate on a plain socket', () => {
    expect(peerSvidOf(new Socket())).toBe('no_certificate')
  })
})
