import { createPublicKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { generateSigningKey, keyIdOf, publicJwk, signingKeyFrom } from './signing-key.ts'

const recording = JSON.parse(
  readFileSync(new URL('../test/fixtures/kube-reference/v1.32.13-exchanges.json', import.meta.url), 'utf8'),
) as { entries: { response: { keys: { kid: string; n: string; e: string }[] } }[] }

describe('keyIdOf', () => {
  it('gives the recorded kube-apiserver key its recorded kid', () => {
    const recorded = recording.entries[3]?.response.keys[0]
    const publicKey = createPublicKey({
      key: { kty: 'RSA', n: recorded?.n ?? '', e: recorded?.e ?? '' },
      format: 'jwk',
    })
    expect(keyIdOf(publicKey)).toBe(recorded?.kid)
  })
})

describe('publicJwk', () => {
  it('lists RSA keys as go-jose does: use, kty, kid, alg, n, e', () => {
    const jwk = publicJwk(generateSigningKey('RS256'))
    expect(Object.keys(jwk)).toEqual(['use', 'kty', 'kid', 'alg', 'n', 'e'])
    expect(jwk).toMatchObject({ use: 'sig', kty: 'RSA', alg: 'RS256', e: 'AQAB' })
    expect(String(jwk.n)).toHaveLength(342)
  })

  it('lists P-256 keys as go-jose does: use, kty, kid, crv, alg, x, y', () => {
    const jwk = publicJwk(generateSigningKey('ES256'))
    expect(Object.keys(jwk)).toEqual(['use', 'kty', 'kid', 'crv', 'alg', 'x', 'y'])
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' })
  })
})

describe('signingKeyFrom', () => {
  it('takes a PEM private key and derives the algorithm from it', () => {
    const generated = generateSigningKey('ES256')
    const pem = generated.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const key = signingKeyFrom(pem)
    expect(key.algorithm).toBe('ES256')
    expect(key.keyId).toBe(generated.keyId)
  })

  it('refuses public keys and unsupported key types', () => {
    expect(() => signingKeyFrom(generateSigningKey().publicKey)).toThrow('"signingKey" must be a private key')
  })
})
