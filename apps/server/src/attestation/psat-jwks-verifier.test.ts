import { AttestError } from '@k8s-attest/core'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { attestRefusal } from '../../test/attest-refusal.ts'
import { issuerKey, JWKS_ISSUER, jwksScenario } from '../../test/psat-jwks-fixture.ts'
import { PsatJwksVerifier } from './psat-jwks-verifier.ts'

const START = new Date('2026-11-24T12:00:00Z')
const startSeconds = Math.floor(START.getTime() / 1000)

/** A verifier over the scenario's fake client, with a clock the test moves. */
async function setup() {
  const scenario = await jwksScenario(startSeconds)
  const clock = { now: START }
  const verifier = new PsatJwksVerifier({
    cluster: 'demo',
    audiences: ['spire-server'],
    fetchKeys: (options) => scenario.client.getIssuerKeys(options),
    now: () => clock.now,
    minRefreshIntervalMs: 10_000,
    maxKeyAgeMs: 300_000,
  })
  const advance = (ms: number) => {
    clock.now = new Date(clock.now.getTime() + ms)
  }
  const keyReads = () => scenario.client.calls.filter((call) => call === 'getIssuerKeys').length
  return { ...scenario, verifier, advance, keyReads }
}

describe('PsatJwksVerifier', () => {
  it('verifies a token signed by the issuer key, reading the keys once for many tokens', async () => {
    const { verifier, token, keyReads } = await setup()
    for (let i = 0; i < 5; i++) {
      const claims = await verifier.verify(await token(), undefined)
      expect(claims.iss).toBe(JWKS_ISSUER)
    }
    expect(keyReads()).toBe(1)
  })

  it('refuses a bad signature (the payload changed after signing)', async () => {
    const { verifier, token, key } = await setup()
    const [header, , signature] = (await token()).split('.')
    const forged = Buffer.from(JSON.stringify({ aud: ['spire-server'], iss: JWKS_ISSUER })).toString(
      'base64url',
    )
    const error = await attestRefusal(verifier.verify(`${header}.${forged}.${signature}`, key.kid))
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(error.details).toMatchObject({ check: 'signature', cluster: 'demo' })
  })

  it('refuses a token signed by a foreign key under the issuer kid', async () => {
    const { verifier, token, key } = await setup()
    const foreign = await issuerKey()
    const error = await attestRefusal(verifier.verify(await token({ key: foreign.privateKey }), key.kid))
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(error.details).toMatchObject({ check: 'signature' })
  })

  it('reads the keys again once for an unknown kid, then refuses it naming the kid', async () => {
    const { verifier, token, advance, keyReads } = await setup()
    await verifier.verify(await token(), undefined)
    advance(10_000)
    const error = await attestRefusal(verifier.verify(await token({ kid: 'unknown-kid' }), 'unknown-kid'))
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(error.details).toMatchObject({ check: 'signing_key', cluster: 'demo', value: 'unknown-kid' })
    expect(error.message).toContain('"unknown-kid"')
    expect(keyReads()).toBe(2)
  })

  it('turns a flood of unknown kids into at most one key read per refresh interval', async () => {
    const { verifier, token, advance, keyReads } = await setup()
    await verifier.verify(await token(), undefined)
    advance(10_000)
    const refusals = await Promise.all(
      Array.from({ length: 50 }, async (_, index) =>
        attestRefusal(verifier.verify(await token({ kid: `bad-${index}` }), `bad-${index}`)),
      ),
    )
    expect(refusals.map((error) => error.details.check)).toEqual(refusals.map(() => 'signing_key'))
    expect(keyReads()).toBe(2)
    advance(5_000)
    await attestRefusal(verifier.verify(await token({ kid: 'bad-later' }), 'bad-later'))
    expect(keyReads()).toBe(2)
  })

  it('accepts a token of a rotated-in key after one read', async () => {
    const { verifier, token, client, key, advance, keyReads } = await setup()
    await verifier.verify(await token(), undefined)
    const next = await issuerKey()
    client.issuerKeys = { issuer: JWKS_ISSUER, jwks: { keys: [key.jwk, next.jwk] } }
    advance(10_000)
    await expect(
      verifier.verify(await token({ kid: next.kid, key: next.privateKey }), next.kid),
    ).resolves.toMatchObject({ iss: JWKS_ISSUER })
    expect(keyReads()).toBe(2)
  })

  it('lets concurrent tokens of a rotated-in key share one read, and accepts them all', async () => {
    const { verifier, token, client, key, advance, keyReads } = await setup()
    await verifier.verify(await token(), undefined)
    const next = await issuerKey()
    client.issuerKeys = { issuer: JWKS_ISSUER, jwks: { keys: [key.jwk, next.jwk] } }
    advance(10_000)
    const tokens = await Promise.all(
      Array.from({ length: 8 }, () => token({ kid: next.kid, key: next.privateKey })),
    )
    const verified = await Promise.all(tokens.map((each) => verifier.verify(each, next.kid)))
    expect(verified.map((claims) => claims.iss)).toEqual(tokens.map(() => JWKS_ISSUER))
    expect(keyReads()).toBe(2)
  })

  it('lets concurrent tokens share the read that follows a failed first one', async () => {
    const { verifier, token, client, advance, keyReads } = await setup()
    client.failures.set('getIssuerKeys', new AttestError('ATT_ERR_KUBE_API_UNAVAILABLE', 'down'))
    await attestRefusal(verifier.verify(await token(), undefined))
    client.failures.delete('getIssuerKeys')
    advance(10_000)
    const tokens = await Promise.all(Array.from({ length: 4 }, () => token()))
    const verified = await Promise.all(tokens.map((each) => verifier.verify(each, undefined)))
    expect(verified).toHaveLength(4)
    expect(keyReads()).toBe(2)
  })

  it('stops trusting a key the issuer no longer serves once the keys are older than their maximum age', async () => {
    const { verifier, token, client, advance, keyReads } = await setup()
    await verifier.verify(await token(), undefined)
    const next = await issuerKey()
    client.issuerKeys = { issuer: JWKS_ISSUER, jwks: { keys: [next.jwk] } }
    advance(299_000)
    await expect(verifier.verify(await token(), undefined)).resolves.toBeDefined()
    advance(1_000)
    const error = await attestRefusal(verifier.verify(await token(), undefined))
    expect(error.details).toMatchObject({ check: 'signing_key' })
    expect(keyReads()).toBe(2)
  })

  it('keeps verifying with the keys held when reading them again fails', async () => {
    const { verifier, token, client, advance } = await setup()
    await verifier.verify(await token(), undefined)
    client.failures.set('getIssuerKeys', new AttestError('ATT_ERR_KUBE_API_UNAVAILABLE', 'down'))
    advance(300_000)
    await expect(verifier.verify(await token(), undefined)).resolves.toBeDefined()
  })

  it('fails with the key read error when it holds no keys yet, trying again once per refresh interval', async () => {
    const { verifier, token, client, advance, keyReads } = await setup()
    const failure = new AttestError('ATT_ERR_KUBE_API_UNAVAILABLE', 'down')
    client.failures.set('getIssuerKeys', failure)
    for (let i = 0; i < 5; i++) await expect(verifier.verify(await token(), undefined)).rejects.toBe(failure)
    expect(keyReads()).toBe(1)
    client.failures.delete('getIssuerKeys')
    advance(10_000)
    await expect(verifier.verify(await token(), undefined)).resolves.toBeDefined()
    expect(keyReads()).toBe(2)
  })

  it('refuses a discovery document without an issuer', async () => {
    const { verifier, token, client } = await setup()
    client.issuerKeys = { issuer: undefined, jwks: client.issuerKeys.jwks }
    const error = await attestRefusal(verifier.verify(await token(), undefined))
    expect(error.code).toBe('ATT_ERR_KUBE_API_FAILED')
    expect(error.details).toMatchObject({ check: 'issuer_discovery' })
  })

  it('refuses a wrong issuer, naming the expected one', async () => {
    const { verifier, token } = await setup()
    const error = await attestRefusal(
      verifier.verify(await token({ claims: { iss: 'https://other' } }), undefined),
    )
    expect(error.code).toBe('ATT_ERR_TOKEN_INVALID')
    expect(error.details).toMatchObject({ check: 'issuer', value: 'https://other', expected: JWKS_ISSUER })
  })

  it('refuses a wrong audience, naming the expected ones', async () => {
    const { verifier, token } = await setup()
    const error = await attestRefusal(verifier.verify(await token({ claims: { aud: ['other'] } }), undefined))
    expect(error.code).toBe('ATT_ERR_AUDIENCE_MISMATCH')
    expect(error.details).toMatchObject({ check: 'audience', value: 'other', expected: 'spire-server' })
  })

  it('refuses a token without exp', async () => {
    const { verifier, token } = await setup()
    const error = await attestRefusal(verifier.verify(await token({ claims: { exp: undefined } }), undefined))
    expect(error.code).toBe('ATT_ERR_TOKEN_MALFORMED')
    expect(error.details).toMatchObject({ check: 'jws' })
  })

  it('refuses an expired token beyond the minute of leeway, and accepts one within it', async () => {
    const { verifier, token } = await setup()
    await expect(
      verifier.verify(await token({ claims: { exp: startSeconds - 59 } }), undefined),
    ).resolves.toBeDefined()
    const error = await attestRefusal(
      verifier.verify(await token({ claims: { exp: startSeconds - 61 } }), undefined),
    )
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(error.details).toMatchObject({ check: 'exp' })
  })

  it('refuses a token not valid yet (nbf beyond the leeway)', async () => {
    const { verifier, token } = await setup()
    const error = await attestRefusal(
      verifier.verify(await token({ claims: { nbf: startSeconds + 120 } }), undefined),
    )
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(error.details).toMatchObject({ check: 'nbf' })
  })

  it('refuses a token issued in the future (iat beyond the leeway), as kube-apiserver does, and accepts one within it', async () => {
    const { verifier, token } = await setup()
    await expect(
      verifier.verify(await token({ claims: { iat: startSeconds + 60, nbf: undefined } }), undefined),
    ).resolves.toBeDefined()
    const error = await attestRefusal(
      verifier.verify(await token({ claims: { iat: startSeconds + 3600, nbf: undefined } }), undefined),
    )
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(error.details).toMatchObject({
      check: 'iat',
      cluster: 'demo',
      value: String(startSeconds + 3600),
      expected: `at most ${startSeconds + 60}`,
    })
  })

  it('tries each key for a token without kid when several could have signed it, as kube-apiserver does', async () => {
    const { verifier, client, key } = await setup()
    const other = await issuerKey()
    client.issuerKeys = { issuer: JWKS_ISSUER, jwks: { keys: [other.jwk, key.jwk] } }
    const unnamed = (signer: typeof key) =>
      new SignJWT({ aud: ['spire-server'], iss: JWKS_ISSUER, exp: startSeconds + 60 })
        .setProtectedHeader({ alg: 'RS256' })
        .sign(signer.privateKey)
    await expect(verifier.verify(await unnamed(key), undefined)).resolves.toMatchObject({ iss: JWKS_ISSUER })
    await expect(verifier.verify(await unnamed(other), undefined)).resolves.toMatchObject({
      iss: JWKS_ISSUER,
    })
    const error = await attestRefusal(verifier.verify(await unnamed(await issuerKey()), undefined))
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(error.details).toMatchObject({ check: 'signature' })
  })

  it('refuses a symmetric (HS256) token even if its kid names an issuer key', async () => {
    const { verifier, key } = await setup()
    const token = await new SignJWT({ aud: ['spire-server'], iss: JWKS_ISSUER, exp: startSeconds + 60 })
      .setProtectedHeader({ alg: 'HS256', kid: key.kid })
      .sign(new TextEncoder().encode('a shared secret of thirty-two bytes!'))
    const error = await attestRefusal(verifier.verify(token, key.kid))
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(error.details).toMatchObject({ check: 'signature_algorithm' })
  })
})
