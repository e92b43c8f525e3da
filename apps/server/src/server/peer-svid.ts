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
export type PeerSvidProblem = 'no_certificate' | 'not_verified' | 'no_spiffe_id'

/**
 * The X.509 SVID the client presented on this connection, if it chains to the trust bundle
 * (OpenSSL verified it during the handshake: signature, validity period, CA) and names exactly
 * one SPIFFE ID; otherwise why not.
 */
export function peerSvidOf(socket: Socket | TLSSocket): VerifiedPeerSvid | PeerSvidProblem {
  if (!isTlsSocket(socket)) return 'no_certificate'
  const certificate = socket.getPeerCertificate()
  if (certificate === null || Object.keys(certificate).length === 0) return 'no_certificate'
  if (!socket.authorized) return 'not_verified'
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
