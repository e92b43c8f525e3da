import { constants, createPublicKey, type KeyObject, verify } from 'node:crypto'
import { CsrError } from './ca-errors.ts'
import { DER_TAG, readDerElement } from './der.ts'
import {
  type AlgorithmIdentifier,
  type CertificationRequestParts,
  expectElement,
  parseAlgorithmIdentifier,
  parseCertificationRequest,
} from './pkcs10.ts'

/**
 * A CSR is a few hundred bytes (RSA 4096: about 1.2 KB DER); anything far larger is not one,
 * and is refused before any ASN.1 parsing spends time on it.
 */
export const MAX_CSR_DER_BYTES = 16 * 1024
const MAX_CSR_PEM_CHARACTERS = 2 * MAX_CSR_DER_BYTES

const EXPECTED_KEYS = 'an EC P-256 or P-384 key, or an RSA key of 2048 to 8192 bits'
const ACCEPTED_CURVES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384' }
const MIN_RSA_BITS = 2048
/** Larger RSA keys bring no security an agent needs, and cost every verifier time. */
const MAX_RSA_BITS = 8192
const WEAK_HASHES = new Set(['SHA-1', 'MD5'])
const EXPECTED_SIGNATURES = 'an ECDSA or RSA signature with SHA-256 or stronger'

/** The public key of a CSR that passed {@link verifyCsr}, and what kind it is. */
export interface VerifiedCsrKey {
  /** The key as DER SubjectPublicKeyInfo, as it goes into the certificate. */
  readonly subjectPublicKeyInfo: Uint8Array
  /** For logs: `"EC P-256"`, `"RSA 2048"`. */
  readonly description: string
}

/**
 * Parses a PKCS#10 certificate signing request (PEM text, or DER bytes), checks that its key
 * is one the CA signs for, and verifies its self-signature, which proves the requester holds
 * the private key. Only the public key is returned: the subject, the SANs and any extension
 * the CSR asks for are deliberately ignored, since the caller decides the identity.
 *
 * Checks run in this order, each with its own {@link CsrError.check}: `size`, `encoding`,
 * `public-key`, `signature`.
 *
 * @throws {CsrError} `ATT_ERR_CSR_INVALID`, naming the check that failed.
 */
export async function verifyCsr(csr: string | Uint8Array): Promise<VerifiedCsrKey> {
  if (typeof csr !== 'string') checkDerSize(csr.byteLength)
  // A copy with an ArrayBuffer of its own: Buffers share pools, and the parser reads the whole
  // underlying buffer of what it is given.
  const der = typeof csr === 'string' ? derFromPem(csr) : new Uint8Array(csr)
  checkDerSize(der.byteLength)

  let parts: CertificationRequestParts
  try {
    parts = parseCertificationRequest(der)
  } catch (error) {
    throw new CsrError(
      'encoding',
      'CSR is not a DER-encoded PKCS#10 certification request',
      'a PKCS#10 CSR',
      {
        cause: error,
      },
    )
  }
  const { subjectPublicKeyInfo } = parts
  const { key, description } = acceptedKey(subjectPublicKeyInfo)

  let valid: boolean
  try {
    const algorithm = signatureAlgorithm(parts.signatureAlgorithm)
    if (WEAK_HASHES.has(algorithm.hash)) {
      throw new CsrError(
        'signature',
        `CSR is signed with ${algorithm.hash}, which is too weak`,
        EXPECTED_SIGNATURES,
      )
    }
    valid = verifySignature(algorithm, key, parts.certificationRequestInfo, parts.signature)
  } catch (error) {
    if (error instanceof CsrError) throw error
    throw new CsrError('signature', 'CSR signature algorithm is not supported', EXPECTED_SIGNATURES, {
      cause: error,
    })
  }
  if (!valid) {
    throw new CsrError(
      'signature',
      "CSR signature does not verify with the CSR's own public key: the requester has not proven it holds the private key",
      "a signature made with the CSR's private key",
    )
  }
  return { subjectPublicKeyInfo, description }
}

function checkDerSize(byteLength: number): void {
  if (byteLength > MAX_CSR_DER_BYTES) {
    throw new CsrError(
      'size',
      `CSR is ${byteLength} bytes, more than the ${MAX_CSR_DER_BYTES} bytes allowed`,
      `at most ${MAX_CSR_DER_BYTES} bytes`,
    )
  }
}

/** The DER inside the single `CERTIFICATE REQUEST` PEM block of `text`. */
function derFromPem(text: string): Uint8Array<ArrayBuffer> {
  if (text.length > MAX_CSR_PEM_CHARACTERS) {
    throw new CsrError(
      'size',
      `CSR PEM is ${text.length} characters, more than the ${MAX_CSR_PEM_CHARACTERS} allowed`,
      `at most ${MAX_CSR_PEM_CHARACTERS} characters`,
    )
  }
  // "NEW CERTIFICATE REQUEST" is what older OpenSSL versions write; both hold the same DER.
  const blocks = [
    ...text.matchAll(
      /-----BEGIN (NEW )?CERTIFICATE REQUEST-----([\s\S]*?)-----END \1CERTIFICATE REQUEST-----/g,
    ),
  ]
  const base64 = blocks[0]?.[2]?.replace(/\s+/g, '')
  if (blocks.length !== 1 || base64 === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
    throw new CsrError(
      'encoding',
      `CSR PEM must hold exactly one "CERTIFICATE REQUEST" block of base64; found ${blocks.length} such blocks`,
      'one PEM block "-----BEGIN CERTIFICATE REQUEST-----"',
    )
  }
  return new Uint8Array(Buffer.from(base64, 'base64'))
}

/** A CSR signature algorithm: its kind, the hash (WebCrypto's name) and, for RSA-PSS, the salt length. */
interface SignatureAlgorithm {
  readonly name: 'ECDSA' | 'RSASSA-PKCS1-v1_5' | 'RSA-PSS'
  readonly hash: string
  readonly saltLength?: number
}

/** Signature algorithm OIDs (RFC 5758 §3.2, RFC 8017 Appendix C) that carry their hash in the OID. */
const SIGNATURE_OIDS: Readonly<Record<string, SignatureAlgorithm>> = {
  '1.2.840.10045.4.1': { name: 'ECDSA', hash: 'SHA-1' },
  '1.2.840.10045.4.3.2': { name: 'ECDSA', hash: 'SHA-256' },
  '1.2.840.10045.4.3.3': { name: 'ECDSA', hash: 'SHA-384' },
  '1.2.840.10045.4.3.4': { name: 'ECDSA', hash: 'SHA-512' },
  '1.2.840.113549.1.1.4': { name: 'RSASSA-PKCS1-v1_5', hash: 'MD5' },
  '1.2.840.113549.1.1.5': { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-1' },
  '1.2.840.113549.1.1.11': { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  '1.2.840.113549.1.1.12': { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' },
  '1.2.840.113549.1.1.13': { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' },
}
const RSASSA_PSS_OID = '1.2.840.113549.1.1.10'
const MGF1_OID = '1.2.840.113549.1.1.8'
const HASH_OIDS: Readonly<Record<string, string>> = {
  '1.2.840.113549.2.5': 'MD5',
  '1.3.14.3.2.26': 'SHA-1',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
}

/**
 * The CSR's signature algorithm, from its AlgorithmIdentifier.
 *
 * @throws {Error} for an algorithm it does not know; the caller reports it as unsupported.
 */
function signatureAlgorithm(identifier: AlgorithmIdentifier): SignatureAlgorithm {
  const known = SIGNATURE_OIDS[identifier.oid]
  if (known !== undefined) return known
  if (identifier.oid === RSASSA_PSS_OID) return pssAlgorithm(identifier.parameters)
  throw new Error(`unknown signature algorithm ${identifier.oid}`)
}

/**
 * RSASSA-PSS-params (RFC 8017 Appendix A.2.3): `SEQUENCE { [0] hashAlgorithm DEFAULT sha1,
 * [1] maskGenAlgorithm DEFAULT mgf1SHA1, [2] saltLength DEFAULT 20, [3] trailerField DEFAULT 1 }`.
 * node:crypto's PSS uses MGF1 with the message hash, so any other mask generation is refused.
 */
function pssAlgorithm(parameters: Uint8Array | undefined): SignatureAlgorithm {
  if (parameters === undefined) throw new Error('RSASSA-PSS without parameters')
  const fields = expectElement(parameters, 0, DER_TAG.sequence, 'RSASSA-PSS-params').contents
  let hash = 'SHA-1'
  let maskHash = 'SHA-1'
  let saltLength = 20
  for (let offset = 0; offset < fields.length; ) {
    const field = readDerElement(fields, offset)
    offset = field.end
    if (field.tag === 0xa0) hash = hashName(innerAlgorithm(field.contents))
    else if (field.tag === 0xa1) {
      const mask = innerAlgorithm(field.contents)
      if (mask.oid !== MGF1_OID || mask.parameters === undefined)
        throw new Error(`PSS mask ${mask.oid} is not MGF1`)
      maskHash = hashName(
        parseAlgorithmIdentifier(expectElement(mask.parameters, 0, DER_TAG.sequence, 'MGF1 hash').contents),
      )
    } else if (field.tag === 0xa2) {
      const salt = expectElement(field.contents, 0, DER_TAG.integer, 'saltLength').contents
      if (salt.length > 2) throw new Error('PSS saltLength is too large')
      saltLength = salt.reduce((value, byte) => value * 256 + byte, 0)
    } else if (field.tag !== 0xa3)
      throw new Error(`RSASSA-PSS-params has an unknown field 0x${field.tag.toString(16)}`)
  }
  if (maskHash !== hash) throw new Error(`PSS hashes the message with ${hash} but masks with ${maskHash}`)
  return { name: 'RSA-PSS', hash, saltLength }
}

/** The AlgorithmIdentifier inside an explicitly tagged field. */
function innerAlgorithm(tagged: Uint8Array): AlgorithmIdentifier {
  return parseAlgorithmIdentifier(expectElement(tagged, 0, DER_TAG.sequence, 'AlgorithmIdentifier').contents)
}

function hashName(identifier: AlgorithmIdentifier): string {
  const name = HASH_OIDS[identifier.oid]
  if (name === undefined) throw new Error(`unknown hash algorithm ${identifier.oid}`)
  return name
}

/** WebCrypto hash names to OpenSSL's. */
const NODE_HASHES: Readonly<Record<string, string>> = {
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
}

/**
 * Checks the CSR's self-signature with node:crypto, which takes the DER-encoded ECDSA signature
 * as the CSR carries it. (@peculiar/x509's `verify()` reaches the same answer through
 * WebCrypto, re-importing the key and re-encoding the signature.)
 *
 * @throws {Error} for an algorithm it does not handle; the caller reports it as unsupported.
 */
function verifySignature(
  algorithm: SignatureAlgorithm,
  key: KeyObject,
  signed: Uint8Array,
  signature: Uint8Array,
): boolean {
  const hash = NODE_HASHES[algorithm.hash]
  if (hash === undefined) throw new Error(`unsupported signature hash ${algorithm.hash}`)
  const type = key.asymmetricKeyType
  if (algorithm.name === 'ECDSA' && type === 'ec') return verify(hash, signed, key, signature)
  if (algorithm.name === 'RSASSA-PKCS1-v1_5' && type === 'rsa') return verify(hash, signed, key, signature)
  if (algorithm.name === 'RSA-PSS' && type === 'rsa') {
    return verify(
      hash,
      signed,
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: algorithm.saltLength ?? 20 },
      signature,
    )
  }
  throw new Error(`signature algorithm ${algorithm.name} does not fit a ${type ?? 'unknown'} key`)
}

/** The CSR's key and an `"EC P-256"`-style description, or a CsrError when the CA does not sign for it. */
function acceptedKey(subjectPublicKeyInfo: Uint8Array): { key: KeyObject; description: string } {
  let key: KeyObject
  try {
    key = createPublicKey({ key: Buffer.from(subjectPublicKeyInfo), format: 'der', type: 'spki' })
  } catch (error) {
    throw new CsrError('public-key', 'CSR public key cannot be decoded', EXPECTED_KEYS, { cause: error })
  }
  const details = key.asymmetricKeyDetails
  if (key.asymmetricKeyType === 'ec') {
    const curve = ACCEPTED_CURVES[details?.namedCurve ?? '']
    if (curve !== undefined) return { key, description: `EC ${curve}` }
    throw new CsrError(
      'public-key',
      `CSR public key is on curve ${details?.namedCurve ?? 'unknown'}`,
      EXPECTED_KEYS,
    )
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details?.modulusLength ?? 0
    if (bits >= MIN_RSA_BITS && bits <= MAX_RSA_BITS) return { key, description: `RSA ${bits}` }
    throw new CsrError('public-key', `CSR public key is RSA with ${bits} bits`, EXPECTED_KEYS)
  }
  throw new CsrError(
    'public-key',
    `CSR public key is of type ${key.asymmetricKeyType ?? 'unknown'}`,
    EXPECTED_KEYS,
  )
}
