import { AttestError, decodeServiceAccountTokenUnverified } from '@k8s-attest/core'
import fc from 'fast-check'
import { CsrError } from '../../src/ca/ca-errors.ts'
import { verifyCsr } from '../../src/ca/verify-csr.ts'
import type { FuzzSeeds } from './fuzz-requests.ts'

/** Outcomes of a decoder fuzz: inputs accepted and refused (with the right error). */
export interface DecoderFigures {
  readonly cases: number
  readonly accepted: number
  readonly refused: number
  readonly seconds: number
}

/** Random byte edits of `text`: flips, cuts, splices of another seed, insertions. */
function byteEdits(seeds: readonly string[]): fc.Arbitrary<Buffer> {
  return fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.constantFrom('flip', 'cut', 'splice', 'insert'), fc.nat(), fc.nat(255)), {
        minLength: 1,
        maxLength: 6,
      }),
    )
    .map(([first, second, edits]) => {
      let bytes = Buffer.from(first)
      for (const [kind, at, value] of edits) {
        const i = bytes.length === 0 ? 0 : at % bytes.length
        if (kind === 'flip') bytes[i] = (bytes[i] ?? 0) ^ (1 << (value % 8))
        else if (kind === 'cut') bytes = bytes.subarray(0, i)
        else if (kind === 'splice')
          bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from(second).subarray(i)])
        else bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([value]), bytes.subarray(i)])
      }
      return Buffer.from(bytes)
    })
}

/**
 * The token decoder on mutated real tokens and random strings: it decodes, or refuses with
 * `ATT_ERR_TOKEN_MALFORMED` naming a check; anything else thrown is a finding.
 */
export function fuzzTokenDecoder(seeds: FuzzSeeds, cases: number, seed: number): DecoderFigures {
  const started = performance.now()
  let accepted = 0
  let refused = 0
  const input = fc.oneof(
    {
      weight: 6,
      arbitrary: byteEdits([seeds.validPsatToken, ...seeds.recordedTokens]).map((b) => b.toString('latin1')),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 500 }) },
  )
  fc.assert(
    fc.property(input, (token) => {
      try {
        decodeServiceAccountTokenUnverified(token)
        accepted++
      } catch (error) {
        if (
          !(error instanceof AttestError && error.code === 'ATT_ERR_TOKEN_MALFORMED' && error.details.check)
        )
          throw error
        refused++
      }
    }),
    { numRuns: cases, seed },
  )
  return { cases: accepted + refused, accepted, refused, seconds: (performance.now() - started) / 1000 }
}

/**
 * The CSR check on mutated real CSRs, as PEM text and as DER bytes: it verifies, or refuses
 * with a `CsrError` naming its check; anything else thrown is a finding.
 */
export async function fuzzCsrCheck(seeds: FuzzSeeds, cases: number, seed: number): Promise<DecoderFigures> {
  const started = performance.now()
  let accepted = 0
  let refused = 0
  const der = (pem: string) =>
    Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64').toString('latin1')
  const allCsrs = [...seeds.csrs, seeds.csrAskingForNames]
  const input = fc.oneof(
    byteEdits(allCsrs).map((bytes) => bytes.toString('latin1')),
    byteEdits(allCsrs.map(der)).map((bytes) => new Uint8Array(bytes)),
  )
  await fc.assert(
    fc.asyncProperty(input, async (csr) => {
      try {
        await verifyCsr(csr)
        accepted++
      } catch (error) {
        if (!(error instanceof CsrError)) throw error
        refused++
      }
    }),
    { numRuns: cases, seed },
  )
  return { cases: accepted + refused, accepted, refused, seconds: (performance.now() - started) / 1000 }
}
