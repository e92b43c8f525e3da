import { createPublicKey, type KeyObject, verify } from 'node:crypto'
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/json.ts'
import { decodeBase64UrlStrict, signJwt } from '../../src/jwt.ts'
import { generateSigningKey, type SigningKey } from '../../src/signing-key.ts'

/**
 * Replaying recorded exchanges against a new cluster: the values that are
 * random by nature (UIDs, resourceVersions, `jti`, tokens, key material,
 * generated names) differ, so the replay learns a one-to-one map from each
 * recorded value to the value the test API produced for it, and
 *
 * - translates requests through the map (a TokenReview of a recorded token
 *   reviews the corresponding token of this cluster; a tampered or
 *   re-signed recorded token is rebuilt the same way from this cluster's);
 * - compares answers field by field: a random field must have the right
 *   shape and be consistent with every earlier use of the same recorded
 *   value; everything else must be equal, texts included (with the mapped
 *   values substituted into them).
 */

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g
const UUID_ONLY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const BASE64URL = /^[A-Za-z0-9_-]+$/
const GENERATED_VOLUME = /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/
const KEY_MATERIAL_FIELDS = new Set(['kid', 'n', 'x', 'y'])

function isJwt(value: string): boolean {
  const parts = value.split('.')
  return parts.length === 3 && parts.every((part) => BASE64URL.test(part)) && value.startsWith('eyJ')
}

function decodeJsonPart(part: string): JsonObject | undefined {
  const bytes = decodeBase64UrlStrict(part)
  if (bytes === undefined) return undefined
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'))
    return isJsonObject(value) ? value : undefined
  } catch (error) {
    if (error instanceof SyntaxError) return undefined
    throw error
  }
}

/** A JWT's payload, if it has one that parses. */
function jwtPayload(token: string): JsonObject | undefined {
  return decodeJsonPart(token.split('.')[1] ?? '')
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function countBitDifferences(a: Buffer, b: Buffer): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY
  let differences = 0
  for (let index = 0; index < a.length; index++) {
    let xor = (a[index] as number) ^ (b[index] as number)
    while (xor !== 0) {
      differences += xor & 1
      xor >>= 1
    }
  }
  return differences
}

/** What the replay needs from the cluster under test to rebuild tokens. */
export interface TokenSigner {
  /** Signs claims with the cluster's key (header `{alg, kid}` of the cluster). */
  signToken(claims: JsonObject): string
  /** The cluster key's `kid`. */
  readonly keyId: string
}

/** The recorded-to-actual map of one replay, with request translation and answer comparison. */
export class ReplayMap {
  readonly #forward = new Map<string, string>()
  readonly #backward = new Map<string, string>()
  readonly #resourceVersions: [number, number][] = []
  readonly #recordedKey: KeyObject
  readonly #signer: TokenSigner
  #foreignKey: SigningKey | undefined

  /**
   * @param recordedJwk - the recorded cluster's public key (from its JWKS), to
   *   tell tokens it signed from forged ones.
   */
  constructor(recordedJwk: JsonObject, signer: TokenSigner) {
    this.#recordedKey = createPublicKey({
      key: { kty: 'RSA', n: String(recordedJwk.n), e: String(recordedJwk.e) },
      format: 'jwk',
    })
    this.#signer = signer
  }

  /** The actual value for a recorded one, if known. */
  get(recorded: string): string | undefined {
    return this.#forward.get(recorded)
  }

  /** Records that `recorded` corresponds to `actual`; a second, different correspondence is an error. */
  set(recorded: string, actual: string): void {
    const known = this.#forward.get(recorded)
    if (known !== undefined && known !== actual) {
      throw new Error(`recorded value ${recorded} was ${known} before, now ${actual}`)
    }
    const knownRecorded = this.#backward.get(actual)
    if (knownRecorded !== undefined && knownRecorded !== recorded) {
      throw new Error(`actual value ${actual} stands for both ${knownRecorded} and ${recorded}`)
    }
    this.#forward.set(recorded, actual)
    this.#backward.set(actual, recorded)
  }

  /** Maps a resourceVersion; the map must keep the recorded order. */
  setResourceVersion(recorded: string, actual: string): string | undefined {
    const recordedNumber = Number(recorded)
    const actualNumber = Number(actual)
    for (const [otherRecorded, otherActual] of this.#resourceVersions) {
      if (Math.sign(recordedNumber - otherRecorded) !== Math.sign(actualNumber - otherActual)) {
        return `resourceVersion ${actual} (for recorded ${recorded}) breaks the order against ${otherActual} (recorded ${otherRecorded})`
      }
    }
    this.set(recorded, actual)
    this.#resourceVersions.push([recordedNumber, actualNumber])
    return undefined
  }

  /** `text` with every mapped UUID and URL replaced by its actual value. */
  substitute(text: string): string {
    let result = text.replace(UUID, (uuid) => this.#forward.get(uuid) ?? uuid)
    for (const [recorded, actual] of this.#forward) {
      if (recorded.startsWith('https://')) result = result.replaceAll(recorded, actual)
    }
    return result
  }

  /** A recorded request body (or path segment) rewritten for the cluster under test. */
  translate(value: JsonValue): JsonValue {
    if (typeof value === 'string') return this.#translateString(value)
    if (Array.isArray(value)) return value.map((item) => this.translate(item))
    if (isJsonObject(value)) {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.translate(item)]))
    }
    return value
  }

  #translateString(value: string): string {
    const known = this.#forward.get(value)
    if (known !== undefined) return known
    if (isJwt(value)) return this.translateToken(value)
    // A Secret's `data.token`: base64 of a token.
    if (/^[A-Za-z0-9+/]+=*$/.test(value) && value.length > 40) {
      const decoded = Buffer.from(value, 'base64').toString('utf8')
      if (isJwt(decoded)) {
        const translated = Buffer.from(this.translateToken(decoded)).toString('base64')
        this.set(value, translated)
        return translated
      }
    }
    return value
  }

  /**
   * The cluster-under-test version of a recorded token: the token this
   * cluster issued for it; or, for tokens the recorder built, the same
   * construction from this cluster's material:
   *
   * - signed by the recorded cluster's key (expired, wrong issuer, legacy):
   *   the same claims (UIDs mapped) signed with this cluster's key;
   * - a known token with a few signature bits flipped: ours with the same bits flipped;
   * - a known token's header and claims with another signature: signed by an unrelated key;
   * - a known token's signature on changed claims: ours with the changed claims.
   *
   * Anything that is not three decodable parts is garbage and stays as it is.
   */
  translateToken(recorded: string): string {
    const known = this.#forward.get(recorded)
    if (known !== undefined) return known
    const [headerPart = '', payloadPart = '', signaturePart = ''] = recorded.split('.')
    const claims = jwtPayload(recorded)
    if (decodeJsonPart(headerPart) === undefined || claims === undefined) return recorded
    const translatedClaims = this.translate(claims) as JsonObject
    const recordedSignature = decodeBase64UrlStrict(signaturePart) ?? Buffer.alloc(0)
    let actual: string
    if (verify('sha256', Buffer.from(`${headerPart}.${payloadPart}`), this.#recordedKey, recordedSignature)) {
      actual = this.#signer.signToken(translatedClaims)
    } else {
      const knownTokens = [...this.#forward.keys()].filter(isJwt)
      const sameClaims = knownTokens.find((token) => token.startsWith(`${headerPart}.${payloadPart}.`))
      const sameSignature = knownTokens.find((token) => token.endsWith(`.${signaturePart}`))
      if (sameClaims !== undefined) {
        const ours = this.#forward.get(sameClaims) as string
        const knownSignature = decodeBase64UrlStrict(sameClaims.split('.')[2] ?? '') ?? Buffer.alloc(0)
        const differences = countBitDifferences(recordedSignature, knownSignature)
        if (differences <= 8) {
          const [oursHeader, oursPayload, oursSignature = ''] = ours.split('.')
          const flipped = Buffer.from(decodeBase64UrlStrict(oursSignature) ?? Buffer.alloc(0))
          for (let index = 0; index < flipped.length; index++) {
            flipped[index] =
              (flipped[index] as number) ^
              ((recordedSignature[index] as number) ^ (knownSignature[index] as number))
          }
          actual = `${oursHeader}.${oursPayload}.${flipped.toString('base64url')}`
        } else {
          this.#foreignKey ??= generateSigningKey('RS256')
          actual = signJwt(translatedClaims, { ...this.#foreignKey, keyId: this.#signer.keyId })
        }
      } else if (sameSignature !== undefined) {
        const [oursHeader, , oursSignature] = (this.#forward.get(sameSignature) as string).split('.')
        const payload = Buffer.from(JSON.stringify(translatedClaims)).toString('base64url')
        actual = `${oursHeader}.${payload}.${oursSignature}`
      } else {
        throw new Error(`no way to rebuild the recorded token ${recorded.slice(0, 40)}… for this cluster`)
      }
    }
    this.set(recorded, actual)
    return actual
  }

  /**
   * Compares a recorded answer with the actual one; returns one line per
   * difference (none when they agree). Object keys must come in the same order.
   */
  compare(expected: JsonValue, actual: JsonValue | undefined, path = '$'): string[] {
    const problems: string[] = []
    this.#compareValue(expected, actual, path, problems)
    return problems
  }

  #compareValue(expected: JsonValue, actual: JsonValue | undefined, path: string, problems: string[]): void {
    if (actual === undefined) {
      problems.push(`${path}: missing (expected ${JSON.stringify(expected)?.slice(0, 120)})`)
      return
    }
    if (typeof expected === 'string') {
      if (typeof actual !== 'string')
        problems.push(`${path}: expected a string, got ${JSON.stringify(actual)}`)
      else this.#compareString(expected, actual, path, problems)
      return
    }
    if (Array.isArray(expected)) {
      if (!Array.isArray(actual) || actual.length !== expected.length) {
        problems.push(
          `${path}: expected ${expected.length} items, got ${JSON.stringify(actual)?.slice(0, 200)}`,
        )
        return
      }
      for (const [index, item] of expected.entries()) {
        this.#compareValue(item, actual[index], `${path}[${index}]`, problems)
      }
      return
    }
    if (isJsonObject(expected)) {
      if (!isJsonObject(actual)) {
        problems.push(`${path}: expected an object, got ${JSON.stringify(actual)?.slice(0, 200)}`)
        return
      }
      const comparable =
        typeof expected.kind === 'string' && expected.kind.endsWith('List')
          ? this.#withComparableListRevision(expected, actual, path, problems)
          : expected
      const expectedKeys = Object.keys(comparable)
      const actualKeys = Object.keys(actual)
      if (expectedKeys.join('\u0000') !== actualKeys.join('\u0000')) {
        problems.push(`${path}: keys ${JSON.stringify(actualKeys)}, expected ${JSON.stringify(expectedKeys)}`)
      }
      for (const key of expectedKeys)
        this.#compareValue(comparable[key] as JsonValue, actual[key], `${path}.${key}`, problems)
      return
    }
    if (expected !== actual)
      problems.push(`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`)
  }

  #compareString(expected: string, actual: string, path: string, problems: string[]): void {
    const key = path.slice(path.lastIndexOf('.') + 1)
    const mapped = this.#forward.get(expected)
    if (mapped !== undefined) {
      if (mapped !== actual)
        problems.push(`${path}: expected ${mapped} (for recorded ${expected}), got ${actual}`)
      return
    }
    if (isJwt(expected)) {
      this.#compareJwt(expected, actual, path, problems)
      return
    }
    if (key === 'resourceVersion') {
      if (!/^[1-9][0-9]*$/.test(actual)) problems.push(`${path}: ${actual} is not a resourceVersion`)
      else {
        const problem = this.setResourceVersion(expected, actual)
        if (problem !== undefined) problems.push(`${path}: ${problem}`)
      }
      return
    }
    if (UUID_ONLY.test(expected)) {
      if (!UUID_ONLY.test(actual)) problems.push(`${path}: ${actual} is not a UUID`)
      else this.#learn(expected, actual, path, problems)
      return
    }
    if (KEY_MATERIAL_FIELDS.has(key) && BASE64URL.test(expected)) {
      if (!BASE64URL.test(actual) || actual.length !== expected.length) {
        problems.push(`${path}: ${actual} is not base64url key material of ${expected.length} characters`)
      } else this.#learn(expected, actual, path, problems)
      return
    }
    if (GENERATED_VOLUME.test(expected)) {
      if (!GENERATED_VOLUME.test(actual))
        problems.push(`${path}: ${actual} is not a generated kube-api-access name`)
      else this.#learn(expected, actual, path, problems)
      return
    }
    // Texts embedding UUIDs (error messages, `JTI=<uuid>`): substitute the
    // known ones, and learn the others from where they sit in the text.
    const substituted = this.substitute(expected)
    const unknown = substituted.match(UUID)?.filter((uuid) => !this.#backward.has(uuid)) ?? []
    if (unknown.length === 0) {
      if (substituted !== actual)
        problems.push(`${path}: expected ${JSON.stringify(substituted)}, got ${JSON.stringify(actual)}`)
      return
    }
    const pattern = new RegExp(`^${escapeRegExp(substituted).replace(UUID, () => `(${UUID.source})`)}$`)
    const match = pattern.exec(actual)
    if (match === null) {
      problems.push(
        `${path}: expected ${JSON.stringify(substituted)} (UUIDs aside), got ${JSON.stringify(actual)}`,
      )
      return
    }
    const recordedUuids = substituted.match(UUID) ?? []
    recordedUuids.forEach((uuid, index) => {
      if (!this.#backward.has(uuid)) this.#learn(uuid, match[index + 1] as string, path, problems)
    })
  }

  /**
   * A list's `metadata.resourceVersion` is the store's current revision. On
   * the recorded cluster that also counts writes of its own components
   * (lease renewals) that the test API does not make, so a list may show a
   * newer recorded revision where the test API's is still that of its last
   * write. Accepted: the same actual revision for a later recorded one, when
   * nothing was written in between here. Everything else is checked as usual.
   */
  #withComparableListRevision(
    expected: JsonObject,
    actual: JsonObject,
    path: string,
    problems: string[],
  ): JsonObject {
    const recorded = isJsonObject(expected.metadata) ? expected.metadata.resourceVersion : undefined
    const current = isJsonObject(actual.metadata) ? actual.metadata.resourceVersion : undefined
    if (typeof recorded !== 'string' || typeof current !== 'string' || this.#forward.has(recorded))
      return expected
    const earlier = this.#backward.get(current)
    if (earlier === undefined) return expected
    const latestActual = Math.max(...this.#resourceVersions.map(([, version]) => version))
    if (Number(earlier) < Number(recorded) && Number(current) === latestActual) {
      // Compare the list as if it showed the recorded revision already mapped.
      return { ...expected, metadata: { ...(expected.metadata as JsonObject), resourceVersion: earlier } }
    }
    problems.push(`${path}.metadata.resourceVersion: ${current} already stands for recorded ${earlier}`)
    return expected
  }

  #learn(recorded: string, actual: string, path: string, problems: string[]): void {
    try {
      this.set(recorded, actual)
    } catch (error) {
      problems.push(`${path}: ${(error as Error).message}`)
    }
  }

  #compareJwt(expected: string, actual: string, path: string, problems: string[]): void {
    if (!isJwt(actual)) {
      problems.push(`${path}: ${actual.slice(0, 40)} is not a JWT`)
      return
    }
    const [expectedHeader = '', , expectedSignature = ''] = expected.split('.')
    const [actualHeader = '', , actualSignature = ''] = actual.split('.')
    this.#compareValue(
      decodeJsonPart(expectedHeader) ?? {},
      decodeJsonPart(actualHeader),
      `${path}<header>`,
      problems,
    )
    this.#compareValue(jwtPayload(expected) ?? {}, jwtPayload(actual), `${path}<claims>`, problems)
    if (actualSignature.length !== expectedSignature.length) {
      problems.push(
        `${path}<signature>: ${actualSignature.length} characters, expected ${expectedSignature.length}`,
      )
    }
    this.#learn(expected, actual, path, problems)
  }
}
