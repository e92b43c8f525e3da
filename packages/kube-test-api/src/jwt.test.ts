import { describe, expect, it } from 'vitest'
import { decodeBase64UrlStrict, decodeJwtUnverified, signJwt, verifyJwtSignature } from './jwt.ts'
import { generateSigningKey } from './signing-key.ts'

const rsa = generateSigningKey('RS256')

describe('signJwt', () => {
  it('writes the header {alg, kid} and the claims with sorted keys, as go-jose does', () => {
    const token = signJwt(
      { sub: 's', aud: ['a'], 'kubernetes.io': { pod: { uid: 'u', name: 'p' }, namespace: 'n' } },
      rsa,
    )
    const [header, payload] = token.split('.')
    expect(Buffer.from(header ?? '', 'base64url').toString()).toBe(`{"alg":"RS256","kid":"${rsa.keyId}"}`)
    expect(Buffer.from(payload ?? '', 'base64url').toString()).toBe(
      '{"aud":["a"],"kubernetes.io":{"namespace":"n","pod":{"name":"p","uid":"u"}},"sub":"s"}',
    )
  })

  it('signs so that the same key verifies and another does not', () => {
    const token = signJwt({ sub: 's' }, rsa)
    const decoded = decodeJwtUnverified(token)
    expect(decoded).toBeDefined()
    if (decoded === undefined) return
    expect(verifyJwtSignature(decoded, rsa)).toBe(true)
    expect(verifyJwtSignature(decoded, generateSigningKey('RS256'))).toBe(false)
    expect(verifyJwtSignature(decoded, generateSigningKey('ES256'))).toBe(false)
  })

  it('signs ES256 with 64-byte raw signatures', () => {
    const ec = generateSigningKey('ES256')
    const decoded = decodeJwtUnverified(signJwt({ sub: 's' }, ec))
    expect(decoded?.signature).toHaveLength(64)
    expect(decoded !== undefined && verifyJwtSignature(decoded, ec)).toBe(true)
  })
})

describe('decodeJwtUnverified', () => {
  it('refuses anything but three strict base64url parts with JSON header and claims', () => {
    expect(decodeJwtUnverified('not-a-jwt')).toBeUndefined()
    expect(decodeJwtUnverified('aaa.bbb.ccc')).toBeUndefined()
    expect(decodeBase64UrlStrict('YQ==')).toBeUndefined()
    expect(decodeBase64UrlStrict('a+b/')).toBeUndefined()
    expect(decodeBase64UrlStrict('YQ')?.toString()).toBe('a')
  })
})
