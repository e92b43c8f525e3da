/**
 * The few DER (X.690) encodings the agent SVID fast path needs, and a reader of element
 * boundaries (used for CSRs by `pkcs10.ts`, and for the outer layers of structures the server
 * itself produced). This is not a general ASN.1 library: certificates from outside are parsed
 * by @peculiar/x509, and `agent-svid.test.ts` checks every byte written here against that
 * library's output.
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

/** One tag-length-value: `contents` concatenated after the tag and its DER length. */
export function derTlv(tag: number, ...contents: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0
  for (const part of contents) length += part.length
  const header = derHeader(tag, length)
  const out = new Uint8Array(header.length + length)
  out.set(header, 0)
  let offset = header.length
  for (const part of contents) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** `SEQUENCE { …contents }`. */
export function derSequence(...contents: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  return derTlv(DER_TAG.sequence, ...contents)
}

/** `OCTET STRING`. */
export function derOctetString(value: Uint8Array): Uint8Array<ArrayBuffer> {
  return derTlv(DER_TAG.octetString, value)
}

/** `BIT STRING` of whole bytes (no unused bits), as signatures are. */
export function derBitString(value: Uint8Array): Uint8Array<ArrayBuffer> {
  return derTlv(DER_TAG.bitString, Uint8Array.of(0), value)
}

/**
 * A positive `INTEGER` from big-endian magnitude bytes: leading zero bytes dropped, one zero
 * byte put back when the top bit is set (RFC 5280 §4.1.2.2 serials are positive).
 */
export function derPositiveInteger(magnitude: Uint8Array): Uint8Array<ArrayBuffer> {
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
export function derTime(date: Date): Uint8Array<ArrayBuffer> {
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

function derHeader(tag: number, length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(tag, length)
  const bytes: number[] = []
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256)
  return Uint8Array.of(tag, 0x80 | bytes.length, ...bytes)
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
 * Reads the element at `offset` (definite lengths only, as DER requires).
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
