import 'reflect-metadata'
import * as x509 from '@peculiar/x509'

/**
 * The cluster's own CA and the serving certificate it signs, made at start
 * (ECDSA P-256, as kubeadm-made clusters commonly use). The certificate
 * names 127.0.0.1, ::1, localhost and the in-cluster `kubernetes.default…`
 * names, so clients verify it exactly as they verify a real API server.
 *
 * Validity uses the wall clock, not the cluster's injectable clock: it is
 * the client's TLS stack that checks it, and that stack reads the wall clock.
 */

/** PEM material of the serving TLS setup. */
export interface ServingCertificate {
  /** The CA certificate clients trust (`certificate-authority-data`). */
  readonly caCertificatePem: string
  /** The serving certificate, then the CA, as a chain. */
  readonly certificateChainPem: string
  /** The serving certificate's private key (PKCS #8). */
  readonly privateKeyPem: string
}

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const
const DAY_MS = 24 * 60 * 60 * 1000

/** The subject alternative names of the serving certificate. */
export const SERVING_NAMES: readonly x509.JsonGeneralName[] = [
  { type: 'ip', value: '127.0.0.1' },
  { type: 'ip', value: '::1' },
  { type: 'dns', value: 'localhost' },
  { type: 'dns', value: 'kubernetes' },
  { type: 'dns', value: 'kubernetes.default' },
  { type: 'dns', value: 'kubernetes.default.svc' },
  { type: 'dns', value: 'kubernetes.default.svc.cluster.local' },
]

function pemOfPkcs8(der: ArrayBuffer): string {
  const base64 = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
  return `-----BEGIN PRIVATE KEY-----\n${base64.trimEnd()}\n-----END PRIVATE KEY-----\n`
}

/** Creates a fresh CA and a serving certificate signed by it. */
export async function createServingCertificate(now: Date = new Date()): Promise<ServingCertificate> {
  // The Web Crypto of Node, through the global the x509 library also types against.
  x509.cryptoProvider.set(globalThis.crypto)
  const { subtle } = globalThis.crypto
  const notBefore = new Date(now.getTime() - DAY_MS)
  const notAfter = new Date(now.getTime() + 365 * DAY_MS)

  const caKeys = await subtle.generateKey(EC_KEY, true, ['sign', 'verify'])
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=kube-test-api-ca',
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  })

  const servingKeys = await subtle.generateKey(EC_KEY, true, ['sign', 'verify'])
  const serving = await x509.X509CertificateGenerator.create({
    subject: 'CN=kube-apiserver',
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: servingKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...SERVING_NAMES]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  })

  const caPem = ca.toString('pem')
  return {
    caCertificatePem: `${caPem}\n`,
    certificateChainPem: `${serving.toString('pem')}\n${caPem}\n`,
    privateKeyPem: pemOfPkcs8(await subtle.exportKey('pkcs8', servingKeys.privateKey)),
  }
}
