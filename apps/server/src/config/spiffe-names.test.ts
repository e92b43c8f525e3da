import { describe, expect, it } from 'vitest'
import { trustDomainOf, trustDomainProblem, workloadSpiffeIdProblem } from './spiffe-names.ts'

describe('trustDomainProblem', () => {
  it.each(['example.org', 'td', 'my_domain-1.example.org'])('accepts %j', (name) => {
    expect(trustDomainProblem(name)).toBeUndefined()
  })

  it.each([
    ['', 'must not be empty'],
    ['Example.org', 'must contain only lowercase letters, digits, ".", "-" and "_"; got "Example.org"'],
    [
      'example.org:443',
      'must contain only lowercase letters, digits, ".", "-" and "_"; got "example.org:443"',
    ],
    [
      'spiffe://example.org',
      'must be the bare trust domain name without "spiffe://"; got "spiffe://example.org"',
    ],
    ['a'.repeat(256), 'must be at most 255 characters; got 256'],
  ])('refuses %j', (name, problem) => {
    expect(trustDomainProblem(name)).toBe(problem)
  })
})

describe('workloadSpiffeIdProblem', () => {
  it.each(['spiffe://example.org/admin', 'spiffe://other.org/ns/spire/sa/admin-cli', 'spiffe://td/a.b_c-d'])(
    'accepts %j',
    (id) => {
      expect(workloadSpiffeIdProblem(id)).toBeUndefined()
    },
  )

  it.each([
    ['https://example.org/admin', 'must start with "spiffe://"; got "https://example.org/admin"'],
    ['SPIFFE://example.org/admin', 'must start with "spiffe://"; got "SPIFFE://example.org/admin"'],
    [
      'spiffe://example.org',
      'must have a path after the trust domain, e.g. "spiffe://example.org/admin"; got "spiffe://example.org"',
    ],
    [
      'spiffe://example.org/',
      'must have a path after the trust domain, e.g. "spiffe://example.org/admin"; got "spiffe://example.org/"',
    ],
    [
      'spiffe://Example.org/admin',
      'has an invalid trust domain: it must contain only lowercase letters, digits, ".", "-" and "_"; got "Example.org"',
    ],
    [
      'spiffe://example.org/a//b',
      'must not contain empty path segments ("//" or a trailing "/"); got "spiffe://example.org/a//b"',
    ],
    [
      'spiffe://example.org/a/',
      'must not contain empty path segments ("//" or a trailing "/"); got "spiffe://example.org/a/"',
    ],
    [
      'spiffe://example.org/a/../b',
      'must not contain "." or ".." path segments; got "spiffe://example.org/a/../b"',
    ],
    [
      'spiffe://example.org/a?b',
      'path segments may contain only letters, digits, ".", "-" and "_"; got "spiffe://example.org/a?b"',
    ],
  ])('refuses %j', (id, problem) => {
    expect(workloadSpiffeIdProblem(id)).toBe(problem)
  })
})

describe('trustDomainOf', () => {
  it('returns the authority of a SPIFFE ID', () => {
    expect(trustDomainOf('spiffe://example.org/spire/agent/x')).toBe('example.org')
  })
})
