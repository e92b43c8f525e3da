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

/** The same CSR with one bit of its signature flipped. */
export function tamperWithSignature(der: Uint8Array): Uint8Array {
  const copy = new Uint8Array(der)
  const last = copy.length - 3
  copy[last] = (copy[last] ?? 0) ^ 0x01
  return copy
}
