import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { type DerValue, derBitString, derSequence, derTlv, encodeDer } from '../der.ts'
import { x509 } from '../x509.ts'

/** Key algorithms tests request CSRs for, by a short name. */
export const TEST_KEY_ALGORITHMS = {
  'EC P-256': { name: 'ECDSA', namedCurve: 'P-256' },
  'EC P-384': { name: 'ECDSA', namedCurve: 'P-384' },
  'EC P-521': { name: 'ECDSA', namedCurve: 'P-521' },
  'RSA 1024': {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 1024,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
  'RSA 2048': {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
  'RSA-PSS 2048': {
    name: 'RSA-PSS',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
  Ed25519: { name: 'Ed25519' },
} as const

export type TestKeyAlgorithm = keyof typeof TEST_KEY_ALGORITHMS

/** Options of {@link createTestCsr}. */
export interface TestCsrOptions {
  readonly algorithm?: TestKeyAlgorithm
  /** The hash of the CSR signature. Default SHA-256. */
  readonly hash?: 'SHA-1' | 'SHA-256' | 'SHA-384'
  /** Subject the CSR asks for. */
  readonly subject?: string
  /** SANs the CSR asks for (which the CA must ignore). */
  readonly requestedNames?: x509.JsonGeneralNames
}

/** A CSR as an agent would send it, with the key pair that made it. */
export interface TestCsr {
  readonly pem: string
  readonly der: Uint8Array
  readonly keys: CryptoKeyPair
}

/** Creates a PKCS#10 CSR the way an agent does, with Node's WebCrypto. */
export async function createTestCsr(options: TestCsrOptions = {}): Promise<TestCsr> {
  const algorithm = TEST_KEY_ALGORITHMS[options.algorithm ?? 'EC P-256']
  const keys = (await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair
  const hash = options.hash ?? 'SHA-256'
  const signingAlgorithm =
    algorithm.name === 'ECDSA'
      ? { name: 'ECDSA', hash }
      : algorithm.name === 'RSA-PSS'
        ? { ...algorithm, saltLength: 32 }
        : algorithm
  const request = await x509.Pkcs10CertificateRequestGenerator.create({
    name: options.subject ?? 'CN=agent',
    keys,
    signingAlgorithm,
    extensions:
      options.requestedNames === undefined
        ? []
        : [new x509.SubjectAlternativeNameExtension(options.requestedNames)],
  })
  return { pem: request.toString('pem'), der: new Uint8Array(request.rawData), keys }
}

/** The AlgorithmIdentifier of an RSA key: rsaEncryption (1.2.840.113549.1.1.1), NULL parameters. */
const RSA_ENCRYPTION = Buffer.from('300d06092a864886f70d0101010500', 'hex')

/** An RSA SubjectPublicKeyInfo of exactly the INTEGERs given, however malformed. */
export function rsaSubjectPublicKeyInfo(modulus: DerValue, exponent: DerValue): Uint8Array {
  return encodeDer(derSequence(RSA_ENCRYPTION, derBitString(encodeDer(derSequence(modulus, exponent)))))
}

/** The same CSR with one bit of its signature flipped. */
export function tamperWithSignature(der: Uint8Array): Uint8Array {
  const copy = new Uint8Array(der)
  const last = copy.length - 3
  copy[last] = (copy[last] ?? 0) ^ 0x01
  return copy
}

/** `AlgorithmIdentifier`s of the CSR signatures {@link csrWithKeyBytes} makes. */
const SIGNATURE_ALGORITHMS = {
  /** ecdsa-with-SHA256 (RFC 5758), no parameters. */
  'ecdsa-sha256': Uint8Array.of(0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02),
  /** sha256WithRSAEncryption (RFC 4055), NULL parameters. */
  'rsa-sha256': Uint8Array.of(
    0x30,
    0x0d,
    0x06,
    0x09,
    0x2a,
    0x86,
    0x48,
    0x86,
    0xf7,
    0x0d,
    0x01,
    0x01,
    0x0b,
    0x05,
    0x00,
  ),
} as const

/**
 * A CSR (empty subject, no attributes) carrying `subjectPublicKeyInfo` byte for byte, however it
 * is encoded, signed by `signInfo` over its `CertificationRequestInfo`: for keys no library
 * would write, and for signatures made without a private key.
 */
export function csrWithKeyBytes(
  subjectPublicKeyInfo: Uint8Array,
  algorithm: keyof typeof SIGNATURE_ALGORITHMS,
  signInfo: (info: Uint8Array) => Uint8Array,
): Uint8Array {
  const info = encodeDer(
    derSequence(Uint8Array.of(0x02, 0x01, 0x00), derSequence(), subjectPublicKeyInfo, derTlv(0xa0)),
  )
  return encodeDer(derSequence(info, SIGNATURE_ALGORITHMS[algorithm], derBitString(signInfo(info))))
}

/** A fresh P-256 private key, and its public half as SubjectPublicKeyInfo DER. */
export function p256KeyPair(): { privateKey: KeyObject; spki: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { privateKey, spki: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })) }
}

/** Signs with `key` and SHA-256, as {@link csrWithKeyBytes} wants it. */
export function sha256Signer(key: KeyObject): (info: Uint8Array) => Uint8Array {
  return (info) => new Uint8Array(sign('sha256', info, key))
}
