/**
 * The few DER (X.690) encodings the agent SVID fast path needs, and a reader for the outer
 * layers of structures the server itself produced or a library already parsed. This is not a
 * general ASN.1 library: certificates and CSRs from outside are parsed by @peculiar/x509, and
 * `agent-svid.test.ts` checks every byte written here against that library's output.
 *
 * Writing happens in two steps. The `der…` functions build a tree of {@link DerValue}s whose
 * lengths are summed as it is built, and {@link encodeDer} then writes the whole tree into one
 * buffer of the right size. A certificate written element by element would copy each element
 * into its parent again, at every level of nesting: that was a tenth of the memory an
 * attestation allocated.
 */

/** Universal tags used by the fast path. */
export const DER_TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  objectIdentifier: 0x06,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
} as const

/**
 * A value to write: bytes written as they are (whole encoded elements, or the content octets
 * of the element around them), or a tag-length-value not yet written.
 */
export type DerValue = Uint8Array | DerTlv

/** A tag-length-value whose contents are written after its tag and DER length. */
export interface DerTlv {
  readonly tag: number
  readonly contents: readonly DerValue[]
  /** The length of the content octets. */
  readonly contentLength: number
  /** The length of the whole element: tag, length octets and contents. */
  readonly encodedLength: number
}

/** One tag-length-value: `contents` concatenated after the tag and its DER length. */
export function derTlv(tag: number, ...contents: readonly DerValue[]): DerTlv {
  let contentLength = 0
  for (const part of contents) contentLength += encodedLengthOf(part)
  return { tag, contents, contentLength, encodedLength: 1 + lengthOctetCount(contentLength) + contentLength }
}

/** `SEQUENCE { …contents }`. */
export function derSequence(...contents: readonly DerValue[]): DerTlv {
  return derTlv(DER_TAG.sequence, ...contents)
}

/** `OCTET STRING` holding `value` (content octets, or an element to wrap). */
export function derOctetString(value: DerValue): DerTlv {
  return derTlv(DER_TAG.octetString, value)
}

/** The unused-bits octet of a BIT STRING of whole bytes. */
const NO_UNUSED_BITS = Uint8Array.of(0)

/** `BIT STRING` of whole bytes (no unused bits), as signatures are. */
export function derBitString(value: Uint8Array): DerTlv {
  return derTlv(DER_TAG.bitString, NO_UNUSED_BITS, value)
}

/**
 * A positive `INTEGER` from big-endian magnitude bytes: leading zero bytes dropped, one zero
 * byte put back when the top bit is set (RFC 5280 §4.1.2.2 serials are positive).
 */
export function derPositiveInteger(magnitude: Uint8Array): DerTlv {
  return derTlv(DER_TAG.integer, positiveIntegerOctets(magnitude))
}

/** The content octets of a positive DER INTEGER with this magnitude (see {@link derPositiveInteger}). */
export function positiveIntegerOctets(magnitude: Uint8Array): Uint8Array {
  let first = 0
  while (first < magnitude.length - 1 && magnitude[first] === 0) first++
  const trimmed = magnitude.length === 0 ? Uint8Array.of(0) : magnitude.subarray(first)
  if ((trimmed[0] ?? 0) < 0x80) return trimmed
  const padded = new Uint8Array(trimmed.length + 1)
  padded.set(trimmed, 1)
  return padded
}

/**
 * RFC 5280 §4.1.2.5 `Time`: UTCTime through 2049, GeneralizedTime from 2050, both to the whole
 * second in UTC (milliseconds are dropped, as every certificate library does).
 */
export function derTime(date: Date): DerTlv {
  const year = date.getUTCFullYear()
  const two = (value: number) => String(value).padStart(2, '0')
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`
  if (year < 1950 || year > 9999) throw new RangeError(`${date.toISOString()} cannot be a certificate time`)
  return year <= 2049
    ? derTlv(DER_TAG.utcTime, ascii(`${two(year % 100)}${rest}`))
    : derTlv(DER_TAG.generalizedTime, ascii(`${year}${rest}`))
}

/** Bytes of an ASCII string (callers pass only ASCII: SPIFFE IDs and times). */
export function ascii(text: string): Uint8Array {
  return Buffer.from(text, 'latin1')
}

/** `value` written out: one buffer of exactly its length, filled in one pass. */
export function encodeDer(value: DerValue): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(encodedLengthOf(value))
  const end = writeDer(value, out, 0)
  if (end !== out.length) throw new Error(`DER writer wrote ${end} bytes of ${out.length}`)
  return out
}

function encodedLengthOf(value: DerValue): number {
  return value instanceof Uint8Array ? value.length : value.encodedLength
}

/** How many octets encode `length`: one in the short form, one more per byte in the long form. */
function lengthOctetCount(length: number): number {
  if (length < 0x80) return 1
  let count = 1
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) count++
  return count
}

function writeDer(value: DerValue, out: Uint8Array, offset: number): number {
  if (value instanceof Uint8Array) {
    out.set(value, offset)
    return offset + value.length
  }
  out[offset] = value.tag
  let next = writeLength(value.contentLength, out, offset + 1)
  for (const part of value.contents) next = writeDer(part, out, next)
  return next
}

/** X.690 §8.1.3: the short form below 128, else 0x80 | the count, then big-endian bytes. */
function writeLength(length: number, out: Uint8Array, offset: number): number {
  if (length < 0x80) {
    out[offset] = length
    return offset + 1
  }
  const count = lengthOctetCount(length) - 1
  out[offset] = 0x80 | count
  let rest = length
  for (let index = count; index >= 1; index--) {
    out[offset + index] = rest % 256
    rest = Math.floor(rest / 256)
  }
  return offset + 1 + count
}

/** One element found by {@link readDerElement}. */
export interface DerElement {
  readonly tag: number
  /** The content octets. */
  readonly contents: Uint8Array
  /** Offset just past this element in the buffer it was read from. */
  readonly end: number
}

/**
 * Reads the element at `offset`: definite lengths in their shortest form only, as DER requires
 * (BER's indefinite and padded long forms are refused).
 *
 * @throws {RangeError} when the bytes are not a well-formed DER element.
 */
export function readDerElement(bytes: Uint8Array, offset = 0): DerElement {
  const tag = bytes[offset]
  const first = bytes[offset + 1]
  if (tag === undefined || first === undefined) throw new RangeError('DER element is truncated')
  let length = first
  let start = offset + 2
  if (first >= 0x80) {
    const count = first & 0x7f
    if (count === 0 || count > 4) throw new RangeError('DER element has an unsupported length form')
    length = 0
    for (let index = 0; index < count; index++) {
      const byte = bytes[start + index]
      if (byte === undefined) throw new RangeError('DER element is truncated')
      length = length * 256 + byte
    }
    start += count
    if (length < 0x80 || bytes[offset + 2] === 0) {
      throw new RangeError('DER element has a length longer than its shortest form')
    }
  }
  const end = start + length
  if (end > bytes.length) throw new RangeError('DER element is longer than its buffer')
  return { tag, contents: bytes.subarray(start, end), end }
}

/**
 * The `subjectPublicKey` bits of a SubjectPublicKeyInfo (RFC 5280 §4.1: `SEQUENCE {
 * algorithm, subjectPublicKey BIT STRING }`), without the unused-bits octet: what RFC 5280
 * §4.2.1.2 method (1) hashes for a key identifier.
 *
 * @throws {RangeError} when `spki` does not have that shape.
 */
export function subjectPublicKeyBits(spki: Uint8Array): Uint8Array {
  const outer = readDerElement(spki)
  if (outer.tag !== DER_TAG.sequence) throw new RangeError('SubjectPublicKeyInfo is not a SEQUENCE')
  const algorithm = readDerElement(outer.contents)
  const key = readDerElement(outer.contents, algorithm.end)
  if (key.tag !== DER_TAG.bitString || key.contents[0] !== 0) {
    throw new RangeError('SubjectPublicKeyInfo holds no whole-byte BIT STRING key')
  }
  return key.contents.subarray(1)
}

/** `rsaEncryption` (1.2.840.113549.1.1.1), the OID's content octets. */
const RSA_ENCRYPTION = Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01)

/**
 * Checks that `spki` is a SubjectPublicKeyInfo in DER, as a certificate carries it byte for
 * byte: `SEQUENCE { SEQUENCE { OID, parameters? }, BIT STRING }` with nothing after any part,
 * shortest-form lengths (see {@link readDerElement}), a BIT STRING of whole bytes, and for RSA
 * an `RSAPublicKey` of two minimal INTEGERs inside it. OpenSSL reads BER leniently: a key it
 * accepts is not yet one that Go or Python's cryptography will parse out of a certificate.
 *
 * @throws {RangeError} naming the first part that is not DER.
 */
export function checkSubjectPublicKeyInfoDer(spki: Uint8Array): void {
  const outer = readDerElement(spki)
  if (outer.tag !== DER_TAG.sequence || outer.end !== spki.length) {
    throw new RangeError('SubjectPublicKeyInfo is not one SEQUENCE')
  }
  const algorithm = readDerElement(outer.contents)
  const key = readDerElement(outer.contents, algorithm.end)
  if (algorithm.tag !== DER_TAG.sequence || key.end !== outer.contents.length) {
    throw new RangeError('SubjectPublicKeyInfo is not SEQUENCE { AlgorithmIdentifier, BIT STRING }')
  }
  const oid = readDerElement(algorithm.contents)
  const parametersEnd =
    oid.end < algorithm.contents.length ? readDerElement(algorithm.contents, oid.end).end : oid.end
  if (oid.tag !== DER_TAG.objectIdentifier || parametersEnd !== algorithm.contents.length) {
    throw new RangeError('AlgorithmIdentifier is not SEQUENCE { OID, parameters }')
  }
  if (key.tag !== DER_TAG.bitString || key.contents[0] !== 0) {
    throw new RangeError('the key is not a BIT STRING of whole bytes')
  }
  if (!equalBytes(oid.contents, RSA_ENCRYPTION)) return
  const rsaKey = key.contents.subarray(1)
  const sequence = readDerElement(rsaKey)
  const modulus = readDerElement(sequence.contents)
  const exponent = readDerElement(sequence.contents, modulus.end)
  if (
    sequence.tag !== DER_TAG.sequence ||
    sequence.end !== rsaKey.length ||
    exponent.end !== sequence.contents.length
  ) {
    throw new RangeError('the RSA key is not SEQUENCE { modulus, publicExponent }')
  }
  for (const integer of [modulus, exponent]) {
    const [first, second] = integer.contents
    if (integer.tag !== DER_TAG.integer || first === undefined)
      throw new RangeError('the RSA key holds a part that is not an INTEGER')
    if (
      (first === 0x00 && second !== undefined && second < 0x80) ||
      (first === 0xff && second !== undefined && second >= 0x80)
    ) {
      throw new RangeError('the RSA key holds an INTEGER with superfluous leading octets')
    }
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index])
}
