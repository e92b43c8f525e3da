import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { attestRefusal } from '../../test/attest-refusal.ts'
import { legacyClaims, projectedClaims, signedToken } from '../../test/tokens.ts'
import { SatKeyVerifier } from './sat-key-verifier.ts'

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const ec256 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' })
const LEGACY_ISSUER = 'kubernetes/serviceaccount'
const NOW = new Date('2026-11-24T12:00:00Z')
const nowSeconds = Math.floor(NOW.getTime() / 1000)

function verifier(issuer = LEGACY_ISSUER) {
  return new SatKeyVerifier({
    cluster: 'demo',
    keys: [ec256.publicKey, rsa.publicKey, ec384.publicKey],
    issuer,
    now: () => NOW,
  })
}

describe('SatKeyVerifier', () => {
  it.each([
    ['RS256', rsa.privateKey],
    ['RS512', rsa.privateKey],
    ['PS384', rsa.privateKey],
    ['ES256', ec256.privateKey],
    ['ES384', ec384.privateKey],
  ] as const)('verifies a legacy token signed with %s by any key of the file', async (alg, key) => {
    const token = await signedToken(legacyClaims(), key, alg)
    await expect(verifier().verify(token, alg)).resolves.toBeUndefined()
  })

  it('verifies a projected token when its issuer is the configured one', async () => {
    const issuer = 'https://kubernetes.default.svc.cluster.local'
    const token = await signedToken(projectedClaims({ issuer, nowSeconds }), rsa.privateKey, 'RS256')
    await expect(verifier(issuer).verify(token, 'RS256')).resolves.toBeUndefined()
  })

  it('refuses a signature no key verifies', async () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const token = await signedToken(legacyClaims(), stranger.privateKey, 'RS256')
    const error = await attestRefusal(verifier().verify(token, 'RS256'))
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(error.details).toMatchObject({ check: 'signature', cluster: 'demo' })
  })

  it('refuses an algorithm none of the keys can verify', async () => {
    const token = await signedToken(legacyClaims(), rsa.privateKey, 'RS256')
    const onlyEc = new SatKeyVerifier({ cluster: 'demo', keys: [ec256.publicKey], issuer: LEGACY_ISSUER })
    const error = await attestRefusal(onlyEc.verify(token, 'RS256'))
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(error.details).toMatchObject({ check: 'signature_algorithm', value: 'RS256', expected: 'ES256' })
  })

  it('refuses a validly signed token of another issuer', async () => {
    const token = await signedToken(projectedClaims({ nowSeconds }), rsa.privateKey, 'RS256')
    const error = await attestRefusal(verifier().verify(token, 'RS256'))
    expect(error.code).toBe('ATT_ERR_TOKEN_INVALID')
    expect(error.details).toMatchObject({
      check: 'issuer',
      value: 'https://kubernetes.default.svc.cluster.local',
      expected: LEGACY_ISSUER,
    })
  })

  it('accepts a token expired less than 5 minutes ago, and refuses one expired longer', async () => {
    const almost = { ...legacyClaims(), exp: nowSeconds - 299 }
    await expect(
      verifier().verify(await signedToken(almost, rsa.privateKey, 'RS256'), 'RS256'),
    ).resolves.toBeUndefined()
    const expired = { ...legacyClaims(), exp: nowSeconds - 301 }
    const error = await attestRefusal(
      verifier().verify(await signedToken(expired, rsa.privateKey, 'RS256'), 'RS256'),
    )
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(error.details.check).toBe('exp')
  })

  it('refuses a token not valid for more than 5 minutes yet', async () => {
    const early = { ...legacyClaims(), nbf: nowSeconds + 301 }
    const error = await attestRefusal(
      verifier().verify(await signedToken(early, rsa.privateKey, 'RS256'), 'RS256'),
    )
    expect(error.details.check).toBe('nbf')
  })

  it('refuses a token issued more than 5 minutes in the future, as kube-apiserver does', async () => {
    const ahead = { ...legacyClaims(), iat: nowSeconds + 301 }
    const error = await attestRefusal(
      verifier().verify(await signedToken(ahead, rsa.privateKey, 'RS256'), 'RS256'),
    )
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(error.details).toMatchObject({ check: 'iat', value: String(nowSeconds + 301) })
    const within = { ...legacyClaims(), iat: nowSeconds + 299 }
    await expect(
      verifier().verify(await signedToken(within, rsa.privateKey, 'RS256'), 'RS256'),
    ).resolves.toBeUndefined()
  })

  it('has no time to check on a legacy token without exp', async () => {
    const token = await signedToken(legacyClaims(), ec256.privateKey, 'ES256')
    const farFuture = new SatKeyVerifier({
      cluster: 'demo',
      keys: [ec256.publicKey],
      issuer: LEGACY_ISSUER,
      now: () => new Date('2100-01-01T00:00:00Z'),
    })
    await expect(farFuture.verify(token, 'ES256')).resolves.toBeUndefined()
  })

  it('refuses to be built without keys', () => {
    expect(() => new SatKeyVerifier({ cluster: 'demo', keys: [], issuer: LEGACY_ISSUER })).toThrow(TypeError)
  })
})
