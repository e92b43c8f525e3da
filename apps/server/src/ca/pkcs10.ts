import { DER_TAG, readDerElement } from './der.ts'

/**
 * The parts of a PKCS#10 CertificationRequest (RFC 2986 §4) the CA needs, located in the DER
 * that arrived: nothing is decoded beyond the element boundaries and the signature algorithm.
 *
 * The server used to parse CSRs with @peculiar/x509, whose schema-driven ASN.1 parsing was the
 * largest CPU cost left on the attestation path (about a fifth of the server's busy time under
 * `pnpm bench`, docs/performance.md). The CA only needs four byte ranges, so this reader walks
 * the structure with {@link readDerElement} and checks every tag and length on the way;
 * `pkcs10.test.ts` compares its output with the library's for each key type the CA accepts.
 */
export interface CertificationRequestParts {
  /** `certificationRequestInfo` as the bytes that arrived: what the signature covers. */
  readonly certificationRequestInfo: Uint8Array
  /** The requester's SubjectPublicKeyInfo, as DER. */
  readonly subjectPublicKeyInfo: Uint8Array
  /** The signature AlgorithmIdentifier. */
  readonly signatureAlgorithm: AlgorithmIdentifier
  /** The signature BIT STRING's bytes (whole bytes only). */
  readonly signature: Uint8Array
}

/** An AlgorithmIdentifier (RFC 5280 §4.1.1.2): its OID in dotted form, and its raw parameters. */
export interface AlgorithmIdentifier {
  readonly oid: string
  /** The DER of the parameters element, if there is one (NULL included). */
  readonly parameters: Uint8Array | undefined
}

const CONTEXT_CONSTRUCTED_0 = 0xa0

/**
 * Splits a DER-encoded CertificationRequest into its parts, checking its shape: `SEQUENCE {
 * SEQUENCE { INTEGER 0, Name, SubjectPublicKeyInfo, [0] attributes }, AlgorithmIdentifier,
 * BIT STRING }`, with nothing before, between or after.
 *
 * @throws {RangeError} naming what is malformed.
 */
export function parseCertificationRequest(der: Uint8Array): CertificationRequestParts {
  const outer = expectElement(der, 0, DER_TAG.sequence, 'CertificationRequest')
  if (outer.end !== der.length) throw new RangeError('CertificationRequest is followed by extra bytes')
  const body = outer.contents
  const info = expectElement(body, 0, DER_TAG.sequence, 'certificationRequestInfo')
  const algorithm = expectElement(body, info.end, DER_TAG.sequence, 'signatureAlgorithm')
  const signature = expectElement(body, algorithm.end, DER_TAG.bitString, 'signature')
  if (signature.end !== body.length)
    throw new RangeError('CertificationRequest has elements after its signature')
  if (signature.contents[0] !== 0) throw new RangeError('signature BIT STRING does not hold whole bytes')

  const fields = info.contents
  const version = expectElement(fields, 0, DER_TAG.integer, 'version')
  if (version.contents.length !== 1 || version.contents[0] !== 0) {
    throw new RangeError('certificationRequestInfo version is not 0 (v1)')
  }
  const subject = expectElement(fields, version.end, DER_TAG.sequence, 'subject')
  const spki = expectElement(fields, subject.end, DER_TAG.sequence, 'subjectPKInfo')
  const attributes = expectElement(fields, spki.end, CONTEXT_CONSTRUCTED_0, 'attributes')
  if (attributes.end !== fields.length) throw new RangeError('certificationRequestInfo has extra elements')

  return {
    certificationRequestInfo: body.subarray(0, info.end),
    subjectPublicKeyInfo: fields.subarray(subject.end, spki.end),
    signatureAlgorithm: parseAlgorithmIdentifier(algorithm.contents),
    signature: signature.contents.subarray(1),
  }
}

/** The OID and raw parameters inside an AlgorithmIdentifier SEQUENCE's contents. */
export function parseAlgorithmIdentifier(contents: Uint8Array): AlgorithmIdentifier {
  const oid = expectElement(contents, 0, DER_TAG.objectIdentifier, 'algorithm OID')
  if (oid.end === contents.length) return { oid: dottedOid(oid.contents), parameters: undefined }
  const parameters = readDerElement(contents, oid.end)
  if (parameters.end !== contents.length) throw new RangeError('AlgorithmIdentifier has extra elements')
  return { oid: dottedOid(oid.contents), parameters: contents.subarray(oid.end, parameters.end) }
}

/** Reads the element at `offset` and checks its tag. */
export function expectElement(bytes: Uint8Array, offset: number, tag: number, what: string) {
  if (offset >= bytes.length) throw new RangeError(`${what} is missing`)
  const element = readDerElement(bytes, offset)
  if (element.tag !== tag) {
    throw new RangeError(`${what} has tag 0x${element.tag.toString(16)}, expected 0x${tag.toString(16)}`)
  }
  return element
}

/** An OBJECT IDENTIFIER's content octets in dotted form (X.690 §8.19). */
export function dottedOid(contents: Uint8Array): string {
  if (contents.length === 0 || (contents[contents.length - 1] as number) & 0x80) {
    throw new RangeError('OBJECT IDENTIFIER is empty or truncated')
  }
  const arcs: number[] = []
  let value = 0
  for (const byte of contents) {
    if (value === 0 && byte === 0x80) throw new RangeError('OBJECT IDENTIFIER arc is not minimally encoded')
    value = value * 128 + (byte & 0x7f)
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new RangeError('OBJECT IDENTIFIER arc is too large')
    if ((byte & 0x80) === 0) {
      arcs.push(value)
      value = 0
    }
  }
  const first = arcs[0] as number
  const [top, second] = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80]
  return [top, second, ...arcs.slice(1)].join('.')
}
