import { X509Certificate } from 'node:crypto'
import type { x509 } from './x509.ts'

/** One X.509 authority of a SPIFFE bundle, as a JWK (SPIFFE Trust Domain and Bundle §4.2). */
export interface SpiffeBundleX509Key {
  readonly kty: string
  readonly crv?: string
  readonly x?: string
  readonly y?: string
  readonly n?: string
  readonly e?: string
  readonly use: 'x509-svid'
  /** Exactly one element: the CA certificate, base64 (not base64url) DER. */
  readonly x5c: readonly [string]
}

/**
 * A SPIFFE bundle in its JWKS form
 * (https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE_Trust_Domain_and_Bundle.md §4).
 */
export interface SpiffeBundleJwks {
  readonly keys: readonly SpiffeBundleX509Key[]
  /** Grows whenever a CA is added: the newest CA's notBefore, in Unix seconds. */
  readonly spiffe_sequence: number
  /** How often consumers should refresh the bundle, in seconds. */
  readonly spiffe_refresh_hint: number
}

/** The trust bundle in the forms the server hands out. */
export interface TrustBundle {
  /** Each CA certificate, PEM, oldest first. */
  readonly certificatesPem: readonly string[]
  /** All of them concatenated: the content of `<data_dir>/ca/bundle.pem`. */
  readonly pem: string
  readonly jwks: SpiffeBundleJwks
}

/**
 * Builds the bundle from the CA certificates still trusted, oldest first. The sequence number
 * is derived from the certificates, so it survives restarts without being stored: it is the
 * newest notBefore, which grows with every CA added. (Dropping an expired CA does not bump it;
 * an expired CA validates nothing, so consumers that keep it a little longer lose nothing.)
 */
export function buildTrustBundle(
  certificates: readonly x509.X509Certificate[],
  refreshHintSeconds: number,
): TrustBundle {
  const certificatesPem = certificates.map((certificate) => certificate.toString('pem'))
  const keys = certificates.map((certificate): SpiffeBundleX509Key => {
    const der = Buffer.from(certificate.rawData)
    const jwk = new X509Certificate(der).publicKey.export({ format: 'jwk' })
    return {
      kty: jwk.kty ?? 'EC',
      ...(jwk.crv === undefined ? {} : { crv: jwk.crv }),
      ...(jwk.x === undefined ? {} : { x: jwk.x }),
      ...(jwk.y === undefined ? {} : { y: jwk.y }),
      ...(jwk.n === undefined ? {} : { n: jwk.n }),
      ...(jwk.e === undefined ? {} : { e: jwk.e }),
      use: 'x509-svid',
      x5c: [der.toString('base64')],
    }
  })
  const newestStart = Math.max(0, ...certificates.map((certificate) => certificate.notBefore.getTime()))
  return {
    certificatesPem,
    pem: certificatesPem.map((pem) => `${pem}\n`).join(''),
    jwks: { keys, spiffe_sequence: Math.floor(newestStart / 1000), spiffe_refresh_hint: refreshHintSeconds },
  }
}
