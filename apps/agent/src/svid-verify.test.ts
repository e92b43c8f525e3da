import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { TestCa } from '../test/test-ca.ts'
import type { AgentError } from './errors.ts'
import { CLOCK_SKEW_TOLERANCE_MS, type VerifySvidInput, verifySvid } from './svid-verify.ts'
import { type TrustBundle, trustBundleFromCertificates } from './trust-bundle.ts'

const ID = 'spiffe://example.org/spire/agent/k8s_psat/demo/node-1'
// Whole seconds, as X.509 times are; near the real time because intermediates are made around it.
const NOW = Math.floor(Date.now() / 1000) * 1000
const HOUR = 3_600_000

let ca: TestCa
let bundle: TrustBundle
let keys: { privateKey: KeyObject; publicKey: KeyObject }
let leafPem: string

beforeAll(async () => {
  ca = await TestCa.create('CN=root', {
    notBefore: new Date(NOW - 10 * HOUR),
    notAfter: new Date(NOW + 10 * HOUR),
  })
  bundle = trustBundleFromCertificates([ca.certPem], 'test')
  keys = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  leafPem = await issue({})
})

function issue(options: {
  uris?: string[]
  notBefore?: Date
  notAfter?: Date
  isCa?: boolean
  subjectAltNameValue?: Uint8Array<ArrayBuffer>
  by?: TestCa
  key?: KeyObject
}) {
  return (options.by ?? ca).issueLeaf({
    publicKey: options.key ?? keys.publicKey,
    uris: options.uris ?? [ID],
    notBefore: options.notBefore ?? new Date(NOW - HOUR),
    notAfter: options.notAfter ?? new Date(NOW + HOUR),
    ...(options.isCa === undefined ? {} : { isCa: options.isCa }),
    ...(options.subjectAltNameValue === undefined
      ? {}
      : { subjectAltNameValue: options.subjectAltNameValue }),
  })
}

/** A SAN extension value that claims 5 bytes of URI and holds 1: OpenSSL accepts it, ASN.1 parsers do not. */
const TRUNCATED_SAN = new Uint8Array([0x30, 0x03, 0x86, 0x05, 0x41])

function input(overrides: Partial<VerifySvidInput> = {}): VerifySvidInput {
  return {
    chainPem: [leafPem],
    privateKey: keys.privateKey,
    bundle,
    trustDomain: 'example.org',
    now: NOW,
    ...overrides,
  }
}

function refusal(overrides: Partial<VerifySvidInput>): AgentError {
  try {
    verifySvid(input(overrides))
  } catch (error) {
    expect((error as AgentError).code).toBe('ATT_ERR_SVID_VERIFICATION_FAILED')
    return error as AgentError
  }
  throw new Error('expected the SVID to be refused')
}

describe('verifySvid', () => {
  it('accepts a valid SVID and describes it', () => {
    const svid = verifySvid(input({ expectedSpiffeId: ID }))
    expect(svid).toMatchObject({
      spiffeId: ID,
      notBefore: new Date(NOW - HOUR),
      notAfter: new Date(NOW + HOUR),
    })
    expect(svid.serialNumber).toMatch(/^[0-9a-f]+$/)
    expect(svid.privateKey).toBe(keys.privateKey)
  })

  it('accepts a chain through an intermediate', async () => {
    const intermediate = await ca.createIntermediate()
    const leaf = await issue({ by: intermediate })
    const svid = verifySvid(input({ chainPem: [leaf, intermediate.certPem], now: NOW }))
    expect(svid.chainPem).toHaveLength(2)
  })

  it('refuses an empty chain and a certificate that does not parse', () => {
    expect(refusal({ chainPem: [] }).details.check).toBe('svid_parse')
    expect(
      refusal({ chainPem: ['-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----'] }).details.check,
    ).toBe('svid_parse')
  })

  it('refuses a CA certificate as leaf', async () => {
    expect(refusal({ chainPem: [await issue({ isCa: true })] }).details.check).toBe('svid_leaf_not_ca')
  })

  it.each([
    [[], 'has 0 URI SANs; an X509-SVID has exactly one'],
    [[ID, `${ID}-2`], 'has 2 URI SANs; an X509-SVID has exactly one'],
    [['spiffe://other.org/spire/agent/x'], 'names trust domain "other.org", not ours'],
    [['spiffe://example.org'], 'names the trust domain itself, not an agent'],
    [['https://example.org/agent'], 'has a URI SAN that is not a valid SPIFFE ID'],
  ])('refuses URI SANs %j', async (uris, problem) => {
    const error = refusal({ chainPem: [await issue({ uris })] })
    expect(error.details.check).toBe('svid_spiffe_id')
    expect(error.message).toContain(problem)
  })

  it('refuses, as an AgentError, a leaf whose subject alternative names do not parse', async () => {
    const error = refusal({ chainPem: [await issue({ subjectAltNameValue: TRUNCATED_SAN })] })
    expect(error.details.check).toBe('svid_spiffe_id')
    expect(error.message).toContain('has a subject alternative name extension that cannot be parsed')
  })

  it('refuses an SVID whose ID differs from the one the server announced', () => {
    const error = refusal({ expectedSpiffeId: 'spiffe://example.org/spire/agent/k8s_psat/demo/node-2' })
    expect(error.details).toMatchObject({ check: 'svid_spiffe_id_matches_response', value: ID })
  })

  it('refuses an SVID for a key the agent did not generate', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const error = refusal({ privateKey: other.privateKey })
    expect(error.details.check).toBe('svid_public_key')
    expect(error.message).toBe('the SVID certifies a public key other than the one this agent generated')
  })

  it('refuses an expired SVID, and one not yet valid beyond the clock skew tolerance', async () => {
    const expired = refusal({ now: NOW + 2 * HOUR })
    expect(expired.details.check).toBe('svid_validity')
    expect(expired.message).toContain('expired at')

    const future = await issue({ notBefore: new Date(NOW + CLOCK_SKEW_TOLERANCE_MS + 1000) })
    expect(refusal({ chainPem: [future] }).message).toContain('is not valid before')
    const slightlyAhead = await issue({ notBefore: new Date(NOW + CLOCK_SKEW_TOLERANCE_MS - 1000) })
    expect(verifySvid(input({ chainPem: [slightlyAhead] })).spiffeId).toBe(ID)
  })

  it('accepts one not yet valid with acceptNotYetValid (k8s_sat), but never an expired one', async () => {
    const future = await issue({ notBefore: new Date(NOW + 10 * 60_000) })
    expect(verifySvid(input({ chainPem: [future], acceptNotYetValid: true })).notBefore).toEqual(
      new Date(NOW + 10 * 60_000),
    )
    expect(refusal({ now: NOW + 2 * HOUR, acceptNotYetValid: true }).message).toContain('expired at')
  })

  it('refuses an SVID that does not chain to the bundle', async () => {
    const stranger = await TestCa.create('CN=stranger')
    const error = refusal({ chainPem: [await issue({ by: stranger })], now: NOW })
    expect(error.details).toMatchObject({ check: 'svid_chain', value: 'CN=stranger', expected: 'CN=root' })
  })

  it('refuses an intermediate that is not in the chain the leaf names', async () => {
    const intermediate = await ca.createIntermediate()
    const leaf = await issue({ by: intermediate })
    expect(refusal({ chainPem: [leaf], now: NOW }).details.check).toBe('svid_chain')
  })
})
