import { randomBytes } from 'node:crypto'
import { formatSpiffeId } from '@k8s-attest/core'
import { type WebCryptoKey, x509 } from './x509.ts'

/** The subject of every CA certificate. Several CAs share it; their key identifiers tell them apart. */
export const CA_SUBJECT = 'O=k8s-attest, CN=k8s-attest CA'
/** The CA key: EC P-256, SPIRE's default `ca_key_type`. */
export const CA_KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const
/** How the CA signs (the hash; the curve comes from the key). */
export const CA_SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const
/**
 * Every certificate starts this long before it is issued, so that a peer whose clock runs a
 * little behind does not see it as not yet valid (SPIRE backdates by the same 10 seconds).
 */
export const BACKDATE_MS = 10_000

/**
 * A fresh 128-bit random serial number, as hex. RFC 5280 §4.1.2.2 wants it unique and
 * positive; 128 random bits make collisions negligible, and @peculiar/x509 prepends the
 * 0x00 octet that keeps the DER INTEGER positive when the top bit is set.
 */
export function randomSerialNumber(): string {
  return randomBytes(16).toString('hex')
}

/** Parameters of {@link createCaCertificate}. */
export interface CaCertificateParams {
  /** The CA key pair; the certificate is self-signed with it. */
  readonly publicKey: x509.PublicKeyType
  readonly privateKey: WebCryptoKey
  readonly trustDomain: string
  readonly now: Date
  readonly ttlMs: number
}

/**
 * A self-signed CA certificate after the X.509-SVID specification for signing certificates
 * (https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md §4.1): the URI SAN is the
 * trust domain's SPIFFE ID `spiffe://<td>`, basicConstraints `CA:TRUE` (critical) with path
 * length 0 since it signs leaves only, keyUsage keyCertSign and cRLSign (critical). Valid from
 * `now - 10 s` to `now + ttlMs`.
 */
export async function createCaCertificate(params: CaCertificateParams): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: CA_SUBJECT,
    issuer: CA_SUBJECT,
    notBefore: new Date(params.now.getTime() - BACKDATE_MS),
    notAfter: new Date(params.now.getTime() + params.ttlMs),
    publicKey: params.publicKey,
    signingKey: params.privateKey,
    signingAlgorithm: CA_SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.SubjectAlternativeNameExtension([
        { type: 'url', value: formatSpiffeId(params.trustDomain, []) },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(params.publicKey),
    ],
  })
}

/**
 * What makes `certificate` unusable as this server's CA for `trustDomain`, or `undefined`.
 * Run on certificates read back from disk, where another trust domain's CA would otherwise be
 * picked up silently after `trust_domain` changed.
 */
export function caCertificateProblem(
  certificate: x509.X509Certificate,
  trustDomain: string,
): string | undefined {
  const basicConstraints = certificate.getExtension(x509.BasicConstraintsExtension)
  if (basicConstraints?.ca !== true) return 'is not a CA certificate (basicConstraints CA:TRUE is missing)'
  const uris =
    certificate
      .getExtension(x509.SubjectAlternativeNameExtension)
      ?.names.items.filter((name) => name.type === 'url')
      .map((name) => name.value) ?? []
  const expected = formatSpiffeId(trustDomain, [])
  if (uris.length !== 1 || uris[0] !== expected) {
    return (
      `is a CA for ${uris.map((uri) => JSON.stringify(uri)).join(', ') || 'no SPIFFE trust domain'}, ` +
      `but the configured trust domain is ${JSON.stringify(trustDomain)}; move the ca directory away to start a ` +
      'new trust domain (every agent will need the new bundle)'
    )
  }
  return undefined
}
