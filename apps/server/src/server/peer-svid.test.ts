import { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { describe, expect, it } from 'vitest'
import { peerSvidOf } from './peer-svid.ts'

describe('peerSvidOf', () => {
  it('finds no certificate on a plain socket', () => {
    expect(peerSvidOf(new Socket())).toBe('no_certificate')
  })

  it('holds the verified certificate to its validity period at every call, not just at the handshake', () => {
    const socket = verifiedSocket({
      valid_from: 'Dec  7 20:00:00 2026 GMT',
      valid_to: 'Dec  7 21:00:00 2026 GMT',
    })
    expect(peerSvidOf(socket, new Date('2026-12-07T20:30:00Z'))).toEqual({
      spiffeId: 'spiffe://example.org/admin',
      serialHex: 'a1',
    })
    expect(peerSvidOf(socket, new Date('2026-12-07T21:00:01Z'))).toBe('expired')
    expect(peerSvidOf(socket, new Date('2026-12-07T19:59:59Z'))).toBe('expired')
  })
})

/** A TLS socket whose peer certificate OpenSSL verified, with the given validity period. */
function verifiedSocket(validity: { valid_from: string; valid_to: string }): TLSSocket {
  const certificate = { subjectaltname: 'URI:spiffe://example.org/admin', serialNumber: '00A1', ...validity }
  return { authorized: true, getPeerCertificate: () => certificate } as unknown as TLSSocket
}
