import 'reflect-metadata'
import { generateKeyPair, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import { Pkcs10CertificateRequestGenerator } from '@peculiar/x509'

const generateKeyPairAsync = promisify(generateKeyPair)

/** The key pair type `Pkcs10CertificateRequestGenerator.create` takes (WebCrypto's `CryptoKeyPair`). */
type X509KeyPair = Parameters<typeof Pkcs10CertificateRequestGenerator.create>[0]['keys']

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const

/** A fresh key pair and the certificate signing request proving possession of it. */
export interface KeyAndCsr {
  /** The private key. It never leaves the process except into data_dir (mode 0600). */
  readonly privateKey: KeyObject
  /** The public key, to check that the SVID the server returns certifies this very key. */
  readonly publicKey: KeyObject
  /** PKCS#10 request, PEM, as `AttestRequest.csr` / `RenewRequest.csr` carry it. */
  readonly csrPem: string
}

/**
 * Generates an EC P-256 key pair and a CSR for it, for one attempt. A new key for every
 * attestation or renewal means a key that leaked (from an old data_dir, say) stops being useful
 * at the next rotation.
 *
 * The CSR has an empty subject and no SAN: the server decides the agent's SPIFFE ID from what
 * it verified (node or pod UID, a fresh UUID for k8s_sat), and SPIRE's agent sends the same.
 */
export async function generateKeyAndCsr(): Promise<KeyAndCsr> {
  const { privateKey, publicKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' })
  // @peculiar/x509 signs through WebCrypto; the private CryptoKey is not extractable, so the
  // CSR code cannot export the key even by mistake. The cast bridges two spellings of the same
  // WebCrypto type: node:crypto's (whose KeyUsage list is newer) and the global one x509 names,
  // taken from x509's own signature because that global exists only where the DOM lib is loaded.
  const keys = {
    privateKey: privateKey.toCryptoKey(EC_P256, false, ['sign']),
    publicKey: publicKey.toCryptoKey(EC_P256, true, ['verify']),
  } as X509KeyPair
  const csr = await Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: ECDSA_SHA256 })
  return { privateKey, publicKey, csrPem: csr.toString('pem') }
}
