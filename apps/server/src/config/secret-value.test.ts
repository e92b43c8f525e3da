import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { SecretValue } from './secret-value.ts'

describe('SecretValue', () => {
  const secret = new SecretValue('s3cr3t-token')

  it('reveals its value only through reveal()', () => {
    expect(secret.reveal()).toBe('s3cr3t-token')
  })

  it('prints as [redacted] through String, JSON and util.inspect', () => {
    expect(String(secret)).toBe('[redacted]')
    expect(`${secret}`).toBe('[redacted]')
    expect(JSON.stringify({ admin: { token: secret } })).toBe('{"admin":{"token":"[redacted]"}}')
    expect(inspect({ token: secret })).toBe('{ token: [redacted] }')
  })
})
