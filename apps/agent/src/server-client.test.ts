import { describe, expect, it } from 'vitest'
import { parseRetryAfter } from './server-client.ts'

const NOW = Date.parse('2026-11-24T10:00:00Z')

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000)
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0)
    expect(parseRetryAfter(['5', '9'], NOW)).toBe(5000)
  })

  it('reads an HTTP-date relative to now, never negative', () => {
    expect(parseRetryAfter('Tue, 24 Nov 2026 10:01:30 GMT', NOW)).toBe(90_000)
    expect(parseRetryAfter('Tue, 24 Nov 2026 09:00:00 GMT', NOW)).toBe(0)
  })

  it('ignores absent and malformed values', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined()
    expect(parseRetryAfter('-5', NOW)).toBeUndefined()
    expect(parseRetryAfter('soon', NOW)).toBeUndefined()
    expect(parseRetryAfter('1.5', NOW)).toBeUndefined()
  })
})
