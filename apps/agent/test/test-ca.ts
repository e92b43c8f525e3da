import 'reflect-metadata'
import { createPublicKey, KeyObject, randomBytes } from 'node:crypto'
import * as x509 from '@peculiar/x509'

/** Certificate purposes, for {@link LeafOptions.extendedKeyUsages} (x509 needs the reflect polyfill above first). */
export const { ExtendedKeyUsage } = x509

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const
const DAY_MS = 86_400_000
const SUBJECT_ALT_NAME_OID = '2.5.29.17'

/** What a leaf certificate says, for {@link TestCa.issueLeaf}. */
export interface LeafOptions {
  /** The key the certificate certifies: a WebCrypto key, a node:crypto KeyObject, or a CSR's. */
  readonly publicKey: CryptoKey | KeyObject | x509.PublicKey
  /** URI SANs (SPIFFE IDs). Default none. */
  readonly uris?: readonly string[]
  readonly dnsNames?: readonly string[]
  readonly ips?: readonly string[]
  /** Default: one day ago. */
  readonly notBefore?: Date
  /** Default: one day from now. */
  readonly notAfter?: Date
  /** Mark the leaf as a CA (to test that such an "SVID" is refused). Default `false`. */
  readonly isCa?: boolean
  /** An extKeyUsage extension with these purposes. Default none (any purpose). */
  readonly extendedKeyUsages?: readonly x509.ExtendedKeyUsage[]
  /**
   * The raw value of the subject alternative name extension, in place of one built from
   * `uris`, `dnsNames` and `ips`: to make a certificate whose SAN does not parse.
   */
  readonly subjectAltNameValue?: Uint8Array<ArrayBuffer>
}

/** A PEM certificate with its PKCS#8 private key. */
export interface CertificateWithKey {
  readonly certPem: string
  readonly keyPem: string
}

/**
 * A throwaway certificate authority for tests, made with @peculiar/x509: it signs the fake
 * server's serving certificate and the SVIDs it issues, and can make intermediates.
 */
export class TestCa {
  readonly certificate: x509.X509Certificate
  readonly certPem: string
  readonly #keys: CryptoKeyPair

  private constructor(certificate: x509.X509Certificate, keys: CryptoKeyPair) {
    this.certificate = certificate
    this.certPem = certificate.toString('pem')
    this.#keys = keys
  }

  /** A self-signed root valid from a day ago to a day from now (unless told otherwise). */
  static async create(
    name = 'CN=k8s-attest test CA',
    validity: { readonly notBefore?: Date; readonly notAfter?: Date } = {},
  ): Promise<TestCa> {
    const keys = await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      name,
      keys,
      signingAlgorithm: ECDSA_SHA256,
      serialNumber: serial(),
      notBefore: validity.notBefore ?? new Date(Date.now() - DAY_MS),
      notAfter: validity.notAfter ?? new Date(Date.now() + DAY_MS),
      extensions: caExtensions(),
    })
    return new TestCa(certificate, keys)
  }

  /** An intermediate CA signed by this one. */
  async createIntermediate(name = 'CN=k8s-attest test intermediate'): Promise<TestCa> {
    const keys = await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])
    const certificate = await x509.X509CertificateGenerator.create({
      subject: name,
      issuer: this.certificate.subject,
      publicKey: keys.publicKey,
      signingKey: this.#keys.privateKey,
      signingAlgorithm: ECDSA_SHA256,
      serialNumber: serial(),
      notBefore: new Date(Date.now() - DAY_MS),
      notAfter: new Date(Date.now() + DAY_MS),
      extensions: caExtensions(),
    })
    return new TestCa(certificate, keys)
  }

  /** A leaf certificate (PEM) signed by this CA. */
  async issueLeaf(options: LeafOptions): Promise<string> {
    const names: x509.JsonGeneralName[] = [
      ...(options.uris ?? []).map((value) => ({ type: 'url' as const, value })),
      ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(options.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
    ]
    const certificate = await x509.X509CertificateGenerator.create({
      subject: '',
      issuer: this.certificate.subject,
      publicKey: await toPeculiarPublicKey(options.publicKey),
      signingKey: this.#keys.privateKey,
      signingAlgorithm: ECDSA_SHA256,
      serialNumber: serial(),
      notBefore: options.notBefore ?? new Date(Date.now() - DAY_MS),
      notAfter: options.notAfter ?? new Date(Date.now() + DAY_MS),
      extensions: [
        new x509.BasicConstraintsExtension(options.isCa === true, undefined, true),
        new x509.KeyUsagesExtension(
          options.isCa === true
            ? x509.KeyUsageFlags.keyCertSign
            : x509.KeyUsageFlags.digitalSignature |
                x509.KeyUsageFlags.keyEncipherment |
                x509.KeyUsageFlags.keyAgreement,
          true,
        ),
        ...(options.extendedKeyUsages === undefined
          ? []
          : [new x509.ExtendedKeyUsageExtension([...options.extendedKeyUsages])]),
        ...(options.subjectAltNameValue !== undefined
          ? [new x509.Extension(SUBJECT_ALT_NAME_OID, true, options.subjectAltNameValue)]
          : names.length > 0
            ? [
                new x509.SubjectAlternativeNameExtension(
                  names,
                  names.some((n) => n.type === 'url'),
                ),
              ]
            : []),
      ],
    })
    return certificate.toString('pem')
  }

  /** A leaf with a fresh key, for TLS servers: the certificate and its key as PEM. */
  async issueWithKey(options: Omit<LeafOptions, 'publicKey'>): Promise<CertificateWithKey> {
    const keys = await crypto.subtle.generateKey(EC_P256, true, ['sign', 'verify'])
    const certPem = await this.issueLeaf({ ...options, publicKey: keys.publicKey })
    const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey)
    return { certPem, keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') }
  }
}

/** The public key of a PEM CSR, after checking the CSR's signature (proof of possession). */
export async function csrPublicKey(csrPem: string): Promise<x509.PublicKey> {
  const csr = new x509.Pkcs10CertificateRequest(csrPem)
  if (!(await csr.verify())) throw new Error('CSR signature does not verify')
  return csr.publicKey
}

async function toPeculiarPublicKey(
  key: CryptoKey | KeyObject | x509.PublicKey,
): Promise<CryptoKey | x509.PublicKey> {
  if (key instanceof x509.PublicKey) return key
  if (key instanceof KeyObject) {
    const publicKey = key.type === 'public' ? key : createPublicKey(key)
    const spki = publicKey.export({ type: 'spki', format: 'der' })
    return new x509.PublicKey(new Uint8Array(spki))
  }
  return key
}

function caExtensions(): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ]
}

function serial(): string {
  // Positive (high bit clear) and 16 bytes, as RFC 5280 recommends.
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0] ?? 0) & 0x7f
  return bytes.toString('hex')
}
