import { constants, createPublicKey, type KeyObject, verify } from 'node:crypto'
import { CsrError } from './ca-errors.ts'
import { checkSubjectPublicKeyInfoDer, DER_TAG, readDerElement, subjectPublicKeyBits } from './der.ts'
import { x509 } from './x509.ts'

/**
 * A CSR is a few hundred bytes (RSA 4096: about 1.2 KB DER); anything far larger is not one,
 * and is refused before any ASN.1 parsing spends time on it.
 */
export const MAX_CSR_DER_BYTES = 16 * 1024
const MAX_CSR_PEM_CHARACTERS = 2 * MAX_CSR_DER_BYTES

/** Bounds for parsing untrusted DER (asn1js defaults allow 10,000 nodes and 16 MB). */
const UNTRUSTED_PARSE_OPTIONS: x509.ParseOptions = {
  berOptions: { maxDepth: 16, maxNodes: 512, maxContentLength: MAX_CSR_DER_BYTES },
}

const EXPECTED_KEYS = 'an EC P-256 or P-384 key, or an RSA key of 2048 to 8192 bits'
const ACCEPTED_CURVES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384' }
const MIN_RSA_BITS = 2048
/** Larger RSA keys bring no security an agent needs, and cost every verifier time. */
const MAX_RSA_BITS = 8192
/** An RSA public exponent must be odd, above this and below {@link MAX_RSA_EXPONENT} (FIPS 186-5 §5.4). */
const MIN_RSA_EXPONENT = 2n ** 16n
const MAX_RSA_EXPONENT = 2n ** 256n
/** The first octet of an EC point in uncompressed form (SEC 1 §2.3.3). */
const UNCOMPRESSED_POINT = 0x04
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

  let request: x509.Pkcs10CertificateRequest
  try {
    request = new x509.Pkcs10CertificateRequest(der, UNTRUSTED_PARSE_OPTIONS)
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

  // The signed part and the key, as the CSR holds them: the library's accessor for the key
  // re-encodes it through its ASN.1 schema (about 34 KB of heap, an eighth of an attestation's).
  let parts: { info: Uint8Array; subjectPublicKeyInfo: Uint8Array }
  try {
    parts = certificationRequestParts(der)
  } catch (error) {
    // The library reads BER; a length form DER does not allow ends here.
    throw new CsrError('encoding', 'CSR is not DER-encoded', 'a DER-encoded PKCS#10 CSR', { cause: error })
  }
  const { info, subjectPublicKeyInfo } = parts
  const { key, description } = acceptedKey(subjectPublicKeyInfo)

  let valid: boolean
  try {
    const algorithm = request.signatureAlgorithm as SignatureAlgorithm
    const hash = algorithm.hash?.name
    if (hash !== undefined && WEAK_HASHES.has(hash)) {
      throw new CsrError('signature', `CSR is signed with ${hash}, which is too weak`, EXPECTED_SIGNATURES)
    }
    valid = verifySignature(algorithm, key, info, new Uint8Array(request.signature))
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

/**
 * Two parts of a CSR that @peculiar/x509 has already parsed, as the bytes that arrived (RFC
 * 2986 §4): `info`, the first element of the outer `CertificationRequest` SEQUENCE, which the
 * signature covers; and its third element, `subjectPKInfo` (after `version` and `subject`).
 */
function certificationRequestParts(der: Uint8Array): { info: Uint8Array; subjectPublicKeyInfo: Uint8Array } {
  const outer = readDerElement(der)
  const info = readDerElement(outer.contents)
  const version = readDerElement(info.contents)
  const subject = readDerElement(info.contents, version.end)
  const subjectPublicKeyInfo = readDerElement(info.contents, subject.end)
  return {
    info: outer.contents.subarray(0, info.end),
    subjectPublicKeyInfo: info.contents.slice(subject.end, subjectPublicKeyInfo.end),
  }
}

/** A signature algorithm as @peculiar/x509 names it (WebCrypto's dictionaries). */
interface SignatureAlgorithm {
  readonly name: string
  readonly hash?: { readonly name: string }
  readonly saltLength?: number
}

/** WebCrypto hash names to OpenSSL's. */
const NODE_HASHES: Readonly<Record<string, string>> = {
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
}

/**
 * Checks the CSR's self-signature with node:crypto, which takes the DER-encoded ECDSA signature
 * as the CSR carries it. (The library's own `verify()` reaches the same answer through
 * WebCrypto, re-importing the key and re-encoding the signature: most of the CPU a CSR check
 * cost.) The parsing stays with @peculiar/x509.
 *
 * @throws {Error} for an algorithm it does not handle; the caller reports it as unsupported.
 */
function verifySignature(
  algorithm: SignatureAlgorithm,
  key: KeyObject,
  signed: Uint8Array,
  signature: Uint8Array,
): boolean {
  const hash = NODE_HASHES[algorithm.hash?.name ?? '']
  if (hash === undefined) throw new Error(`unsupported signature hash ${algorithm.hash?.name ?? 'none'}`)
  const type = key.asymmetricKeyType
  if (algorithm.name === 'ECDSA' && type === 'ec') return verify(hash, signed, key, signature)
  if (algorithm.name === 'RSASSA-PKCS1-v1_5' && type === 'rsa') return verify(hash, signed, key, signature)
  if (algorithm.name === 'RSA-PSS' && type === 'rsa') {
    return verify(
      hash,
      signed,
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: algorithm.saltLength ?? 32 },
      signature,
    )
  }
  throw new Error(`signature algorithm ${algorithm.name} does not fit a ${type ?? 'unknown'} key`)
}

/**
 * The CSR's key and an `"EC P-256"`-style description, or a CsrError when the CA does not sign
 * for it. Its bytes go into the SVID as they arrived, so they must be the DER a certificate
 * carries (strict parsers such as Go's refuse anything else), and the key one that proves
 * possession: a named curve, or an RSA exponent for which a signature needs the private key.
 */
function acceptedKey(subjectPublicKeyInfo: Uint8Array): { key: KeyObject; description: string } {
  let key: KeyObject
  try {
    key = createPublicKey({ key: Buffer.from(subjectPublicKeyInfo), format: 'der', type: 'spki' })
  } catch (error) {
    throw new CsrError('public-key', 'CSR public key cannot be decoded', EXPECTED_KEYS, { cause: error })
  }
  try {
    checkSubjectPublicKeyInfoDer(subjectPublicKeyInfo)
  } catch (error) {
    throw new CsrError(
      'encoding',
      `CSR public key is not in DER as a certificate carries it: ${error instanceof Error ? error.message : String(error)}`,
      'the public key as DER (RFC 5280 SubjectPublicKeyInfo)',
      { cause: error },
    )
  }
  const details = key.asymmetricKeyDetails
  if (key.asymmetricKeyType === 'ec') {
    if (algorithmParametersTag(subjectPublicKeyInfo) !== DER_TAG.objectIdentifier) {
      throw new CsrError(
        'public-key',
        'CSR public key is an EC key with explicit curve parameters, which RFC 5480 forbids',
        `${EXPECTED_KEYS}, its curve named by OID`,
      )
    }
    if (subjectPublicKeyBits(subjectPublicKeyInfo)[0] !== UNCOMPRESSED_POINT) {
      throw new CsrError(
        'public-key',
        'CSR public key is an EC point in compressed form, which Go and other X.509 parsers refuse',
        `${EXPECTED_KEYS}, its point uncompressed`,
      )
    }
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
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
      throw new CsrError('public-key', `CSR public key is RSA with ${bits} bits`, EXPECTED_KEYS)
    }
    const exponent = details?.publicExponent ?? 0n
    if (exponent % 2n === 0n || exponent <= MIN_RSA_EXPONENT || exponent >= MAX_RSA_EXPONENT) {
      throw new CsrError(
        'public-key',
        `CSR public key is RSA with public exponent ${exponent}`,
        'an odd RSA public exponent above 2^16 and below 2^256 (FIPS 186-5), such as 65537',
      )
    }
    return { key, description: `RSA ${bits}` }
  }
  throw new CsrError(
    'public-key',
    `CSR public key is of type ${key.asymmetricKeyType ?? 'unknown'}`,
    EXPECTED_KEYS,
  )
}

/** The tag of the `parameters` of a SubjectPublicKeyInfo's `AlgorithmIdentifier` (RFC 5280 §4.1.1.2). */
function algorithmParametersTag(subjectPublicKeyInfo: Uint8Array): number | undefined {
  const outer = readDerElement(subjectPublicKeyInfo)
  const algorithm = readDerElement(outer.contents)
  const oid = readDerElement(algorithm.contents)
  return oid.end < algorithm.contents.length ? readDerElement(algorithm.contents, oid.end).tag : undefined
}
