import { Socket } from 'node:net'
import { Secret } from '@k8s-attest/core'
import { describe, expect, it } from 'vitest'
import { AdminAuthenticator } from './admin-auth.ts'

const TOKEN = 'a'.repeat(64)
const plainSocket = new Socket()

describe('AdminAuthenticator', () => {
  const authenticator = new AdminAuthenticator({
    bearerTokenFile: '/t',
    bearerToken: new Secret(TOKEN),
    adminIds: [],
  })

  it('accepts the configured bearer token, case-insensitive scheme', () => {
    expect(authenticator.authenticate(`Bearer ${TOKEN}`, plainSocket)).toEqual({ via: 'bearer_token' })
    expect(authenticator.authenticate(`bearer ${TOKEN}`, plainSocket)).toEqual({ via: 'bearer_token' })
  })

  it.each([
    ['a wrong token of the same length', `Bearer ${'b'.repeat(64)}`, 'bearer_token'],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, 10)}`, 'bearer_token'],
    ['another scheme', `Basic ${TOKEN}`, 'bearer_token'],
    ['an empty bearer', 'Bearer ', 'bearer_token'],
  ])('refuses %s', (_name, header, check) => {
    expect(() => authenticator.authenticate(header, plainSocket)).toThrow(
      expect.objectContaining({
        code: 'ATT_ERR_UNAUTHENTICATED',
        details: expect.objectContaining({ check }),
      }),
    )
  })

  it('refuses a caller with neither a token nor a TLS client certificate', () => {
    expect(() => authenticator.authenticate(undefined, plainSocket)).toThrow(
      expect.objectContaining({ code: 'ATT_ERR_UNAUTHENTICATED', details: { check: 'admin_credentials' } }),
    )
  })

  it('refuses any bearer token when only admin IDs are configured', () => {
    const mtlsOnly = new AdminAuthenticator({
      bearerTokenFile: undefined,
      bearerToken: undefined,
      adminIds: ['spiffe://example.org/admin'],
    })
    expect(() => mtlsOnly.authenticate(`Bearer ${TOKEN}`, plainSocket)).toThrow(
      expect.objectContaining({ code: 'ATT_ERR_UNAUTHENTICATED' }),
    )
  })
})
