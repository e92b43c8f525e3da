import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { canonicalSerialNumber, isSpiffeId } from '@k8s-attest/core'

/** A client certificate that chains to the server's trust bundle, reduced to what routes use. */
export interface VerifiedPeerSvid {
  /** The certificate's single `spiffe://` URI SAN. */
  readonly spiffeId: string
  /** Serial number, lowercase hex without leading zeros (the datastore's form). */
  readonly serialHex: string
}

/** Why a connection has no usable SVID, for the refusal message. */
export type PeerSvidProblem = 'no_certificate' | 'not_verified' | 'expired' | 'no_spiffe_id'

/**
 * The X.509 SVID the client presented on this connection, if it chains to the trust bundle
 * (OpenSSL verified it during the handshake: signature, validity period, CA), is valid at `now`
 * and names exactly one SPIFFE ID; otherwise why not.
 *
 * The validity period is checked again for every request: OpenSSL checked it once, at the
 * handshake, and a kept-alive connection outlives a short-lived SVID (an admin's `x509 mint
 * -ttl 10m`) for as long as its holder keeps it busy.
 */
export function peerSvidOf(
  socket: Socket | TLSSocket,
  now: Date = new Date(),
): VerifiedPeerSvid | PeerSvidProblem {
  if (!isTlsSocket(socket)) return 'no_certificate'
  const certificate = socket.getPeerCertificate()
  if (certificate === null || Object.keys(certificate).length === 0) return 'no_certificate'
  if (!socket.authorized) return 'not_verified'
  const time = now.getTime()
  if (!(Date.parse(certificate.valid_from) <= time && time <= Date.parse(certificate.valid_to)))
    return 'expired'
  const uris = (certificate.subjectaltname ?? '')
    .split(', ')
    .filter((name) => name.startsWith('URI:'))
    .map((name) => name.slice('URI:'.length))
  const [spiffeId, ...others] = uris
  if (spiffeId === undefined || others.length > 0 || !isSpiffeId(spiffeId)) return 'no_spiffe_id'
  return { spiffeId, serialHex: canonicalSerialNumber(certificate.serialNumber) }
}

function isTlsSocket(socket: Socket | TLSSocket): socket is TLSSocket {
  return typeof (socket as Partial<TLSSocket>).getPeerCertificate === 'function'
}
