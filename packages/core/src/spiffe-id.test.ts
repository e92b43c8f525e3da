import { describe, expect, it } from 'vitest'
import { catchAttestError } from '../test/expect-attest-error.ts'
import {
  assertPathSegment,
  formatSpiffeId,
  isSpiffeId,
  parseSpiffeId,
  parseTrustDomain,
  spiffeIdProblem,
  trustDomainProblem,
} from './spiffe-id.ts'

describe('parseSpiffeId: valid IDs', () => {
  it.each([
    ['spiffe://example.org', 'example.org', '', []],
    ['spiffe://example.org/spire/server', 'example.org', '/spire/server', ['spire', 'server']],
    [
      'spiffe://prod-1.example_org/spire/agent/k8s_psat/demo/733588a8-e575-4852-8c05-5e4c7b17313e',
      'prod-1.example_org',
      '/spire/agent/k8s_psat/demo/733588a8-e575-4852-8c05-5e4c7b17313e',
      ['spire', 'agent', 'k8s_psat', 'demo', '733588a8-e575-4852-8c05-5e4c7b17313e'],
    ],
    ['spiffe://td/Mixed.Case-Path_9/...', 'td', '/Mixed.Case-Path_9/...', ['Mixed.Case-Path_9', '...']],
  ])('%s', (input, trustDomain, path, segments) => {
    expect(parseSpiffeId(input)).toEqual({ trustDomain, path, segments, uri: input })
    expect(isSpiffeId(input)).toBe(true)
  })

  it('accepts an ID of exactly 2048 bytes', () => {
    const prefix = 'spiffe://example.org/'
    const id = prefix + 'a'.repeat(2048 - prefix.length)
    expect(id).toHaveLength(2048)
    expect(parseSpiffeId(id).segments).toHaveLength(1)
  })

  it('accepts a trust domain of exactly 255 bytes', () => {
    const trustDomain = 'a'.repeat(255)
    expect(parseSpiffeId(`spiffe://${trustDomain}/x`).trustDomain).toBe(trustDomain)
  })
})

describe('parseSpiffeId: each rule names itself', () => {
  it.each([
    [
      'uppercase trust domain',
      'spiffe://Example.org/x',
      'trust_domain_characters',
      '(found "E"; trust domains are lowercase)',
    ],
    ['trust domain with a space', 'spiffe://exa mple.org/x', 'trust_domain_characters', '(found " ")'],
    ['port', 'spiffe://example.org:8443/x', 'port', 'must not carry a port'],
    ['userinfo', 'spiffe://admin@example.org/x', 'userinfo', 'must not carry userinfo'],
    ['query', 'spiffe://example.org/x?y=1', 'query', 'must not have a query component'],
    ['fragment', 'spiffe://example.org/x#y', 'fragment', 'must not have a fragment component'],
    ['query before fragment', 'spiffe://example.org/x?a#b', 'query', 'query component'],
    ['fragment before query', 'spiffe://example.org/x#a?b', 'fragment', 'fragment component'],
    ['percent-encoded path', 'spiffe://example.org/a%20b', 'percent_encoding', 'percent-encoded characters'],
    ['percent-encoded trust domain', 'spiffe://ex%41mple.org/x', 'percent_encoding', 'percent-encoded'],
    ['wrong scheme', 'https://example.org/x', 'scheme', 'the scheme must be "spiffe"'],
    ['uppercase scheme', 'SPIFFE://example.org/x', 'scheme', '(lowercase)'],
    ['scheme without //', 'spiffe:example.org/x', 'scheme', 'followed by "://"'],
    ['empty string', '', 'scheme', 'the scheme must be'],
    ['missing trust domain', 'spiffe:///x', 'trust_domain_missing', 'the trust domain is missing'],
    ['nothing after the scheme', 'spiffe://', 'trust_domain_missing', 'the trust domain is missing'],
    ['".." segment', 'spiffe://example.org/a/../b', 'path_segment_dot', 'must not be "." or ".."'],
    ['"." segment', 'spiffe://example.org/./b', 'path_segment_dot', 'must not be "." or ".."'],
    ['empty segment', 'spiffe://example.org/a//b', 'path_segment_empty', 'must not be empty'],
    ['trailing slash', 'spiffe://example.org/a/', 'path_segment_empty', 'no trailing "/"'],
    ['lone slash', 'spiffe://example.org/', 'path_segment_empty', 'must not be empty'],
    ['forbidden path character', 'spiffe://example.org/a*b', 'path_segment_characters', '(found "*")'],
    [
      'non-ASCII path character',
      'spiffe://example.org/caf\u00e9',
      'path_segment_characters',
      '(found "\u00e9")',
    ],
    ['2049 bytes', `spiffe://example.org/${'a'.repeat(2049 - 21)}`, 'length', 'at most 2048 bytes'],
    ['2049 bytes in 2048 characters', `spiffe://example.org/${'a'.repeat(2026)}\u00e9`, 'length', '2048'],
    ['256-byte trust domain', `spiffe://${'a'.repeat(256)}/x`, 'trust_domain_length', 'at most 255 bytes'],
  ])('%s', (_name, input, check, messagePart) => {
    const error = catchAttestError(() => parseSpiffeId(input))
    expect(error.code).toBe('ATT_ERR_SPIFFE_ID_INVALID')
    expect(error.details.check).toBe(check)
    expect(error.message).toContain('invalid SPIFFE ID')
    expect(error.message).toContain(messagePart)
    expect(isSpiffeId(input)).toBe(false)
  })

  it('rejects a value that is not a string', () => {
    const error = catchAttestError(() => parseSpiffeId(42 as unknown as string))
    expect(error.details.check).toBe('type')
    expect(error.message).toBe('invalid SPIFFE ID: it must be a string (found number)')
    expect(isSpiffeId(42)).toBe(false)
  })

  it('quotes the offending ID, truncated, in message and details', () => {
    const input = `spiffe://example.org/${'x'.repeat(300)}?q`
    const error = catchAttestError(() => parseSpiffeId(input))
    expect(error.details.value).toBe(input.slice(0, 256))
    expect(error.message).toMatch(
      /^invalid SPIFFE ID "spiffe:\/\/example\.org\/x+…": a SPIFFE ID must not have a query/,
    )
  })
})

describe('parseSpiffeId with requirePath', () => {
  it('accepts an ID with a path', () => {
    expect(parseSpiffeId('spiffe://example.org/admin', { requirePath: true }).path).toBe('/admin')
  })

  it('refuses the ID of the trust domain itself, which the standard alone allows', () => {
    const error = catchAttestError(() => parseSpiffeId('spiffe://example.org', { requirePath: true }))
    expect(error.code).toBe('ATT_ERR_SPIFFE_ID_INVALID')
    expect(error.details.check).toBe('path_missing')
    expect(error.message).toBe(
      'invalid SPIFFE ID "spiffe://example.org": it names the trust domain itself; a path is required, e.g. "spiffe://example.org/workload"',
    )
  })

  it('reports a malformed path as such, not as a missing one', () => {
    const error = catchAttestError(() => parseSpiffeId('spiffe://example.org/', { requirePath: true }))
    expect(error.details.check).toBe('path_segment_empty')
  })
})

describe('spiffeIdProblem', () => {
  it.each(['spiffe://example.org/admin', 'spiffe://other.org/ns/spire/sa/admin-cli', 'spiffe://td/a.b_c-d'])(
    'accepts %j',
    (id) => {
      expect(spiffeIdProblem(id)).toBeUndefined()
      expect(spiffeIdProblem(id, { requirePath: true })).toBeUndefined()
    },
  )

  it('accepts the ID of a trust domain unless a path is required', () => {
    expect(spiffeIdProblem('spiffe://example.org')).toBeUndefined()
    expect(spiffeIdProblem('spiffe://example.org', { requirePath: true })).toContain('a path is required')
  })

  it.each([
    'https://example.org/admin',
    'spiffe://Example.org/admin',
    'spiffe://example.org/a//b',
    'spiffe://example.org/a/../b',
    'spiffe://example.org/a?b',
  ])('returns the message parseSpiffeId throws for %j', (id) => {
    expect(spiffeIdProblem(id)).toBe(catchAttestError(() => parseSpiffeId(id)).message)
  })

  it('describes a value that is not a string instead of throwing', () => {
    expect(spiffeIdProblem(42 as unknown as string)).toBe(
      'invalid SPIFFE ID: it must be a string (found number)',
    )
  })
})

describe('parseTrustDomain', () => {
  it('returns a valid name unchanged', () => {
    expect(parseTrustDomain('example.org')).toBe('example.org')
  })

  it.each([
    ['', 'trust_domain_missing', 'invalid trust domain "": the trust domain is missing'],
    [
      'Example.org',
      'trust_domain_characters',
      'invalid trust domain "Example.org": the trust domain may contain only lowercase letters, digits, ".", "-" and "_" (found "E"; trust domains are lowercase)',
    ],
    [
      'example.org:443',
      'trust_domain_characters',
      'invalid trust domain "example.org:443": the trust domain may contain only lowercase letters, digits, ".", "-" and "_" (found ":")',
    ],
    ['a'.repeat(256), 'trust_domain_length', 'the trust domain may be at most 255 bytes long (found 256)'],
    [
      'spiffe://example.org',
      'trust_domain_characters',
      '(found ":"; give the bare name without "spiffe://")',
    ],
  ])('rejects %j', (input, check, messagePart) => {
    const error = catchAttestError(() => parseTrustDomain(input))
    expect(error.code).toBe('ATT_ERR_SPIFFE_ID_INVALID')
    expect(error.details.check).toBe(check)
    expect(error.message).toContain(messagePart)
  })

  it('rejects a value that is not a string', () => {
    const error = catchAttestError(() => parseTrustDomain(undefined as unknown as string))
    expect(error.details.check).toBe('type')
    expect(error.message).toBe('invalid trust domain: it must be a string (found undefined)')
  })
})

describe('trustDomainProblem', () => {
  it.each(['example.org', 'td', 'my_domain-1.example.org', 'a'.repeat(255)])('accepts %j', (name) => {
    expect(trustDomainProblem(name)).toBeUndefined()
  })

  it.each(['', 'Example.org', 'example.org:443', 'spiffe://example.org', 'a'.repeat(256)])(
    'returns the message parseTrustDomain throws for %j',
    (name) => {
      expect(trustDomainProblem(name)).toBe(catchAttestError(() => parseTrustDomain(name)).message)
    },
  )

  it('describes a value that is not a string instead of throwing', () => {
    expect(trustDomainProblem(undefined as unknown as string)).toBe(
      'invalid trust domain: it must be a string (found undefined)',
    )
  })
})

describe('assertPathSegment', () => {
  it('accepts letters, digits, ".", "-" and "_"', () => {
    expect(() => assertPathSegment('Node-1.a_b')).not.toThrow()
  })

  it.each([
    ['', 'path_segment_empty', 'invalid cluster name "": a SPIFFE ID path segment must not be empty'],
    ['..', 'path_segment_dot', 'invalid cluster name "..": a SPIFFE ID path segment must not be "." or ".."'],
    [
      'my cluster',
      'path_segment_characters',
      'invalid cluster name "my cluster": a SPIFFE ID path segment may contain only letters, digits, ".", "-" and "_" (found " ")',
    ],
    ['a/b', 'path_segment_characters', '(found "/")'],
    ['a%2Fb', 'path_segment_characters', '(found "%")'],
  ])('refuses %j, naming what it is', (segment, check, messagePart) => {
    const error = catchAttestError(() => assertPathSegment(segment, 'cluster name'))
    expect(error.code).toBe('ATT_ERR_SPIFFE_ID_INVALID')
    expect(error.details.check).toBe(check)
    expect(error.details.value).toBe(segment)
    expect(error.message).toContain(messagePart)
  })

  it('rejects a value that is not a string', () => {
    const error = catchAttestError(() => assertPathSegment(7 as unknown as string, 'node UID'))
    expect(error.details.check).toBe('type')
    expect(error.message).toBe('invalid node UID: it must be a string (found number)')
  })
})

describe('formatSpiffeId', () => {
  it('joins trust domain and segments', () => {
    expect(formatSpiffeId('example.org', ['spire', 'server'])).toBe('spiffe://example.org/spire/server')
    expect(formatSpiffeId('example.org', [])).toBe('spiffe://example.org')
  })

  it('round-trips through parseSpiffeId', () => {
    const id = formatSpiffeId('example.org', ['a', 'B.c', '-_'])
    expect(parseSpiffeId(id)).toMatchObject({ trustDomain: 'example.org', segments: ['a', 'B.c', '-_'] })
  })

  it('refuses an invalid trust domain', () => {
    const error = catchAttestError(() => formatSpiffeId('Example.org', ['x']))
    expect(error.details.check).toBe('trust_domain_characters')
  })

  it('refuses a segment instead of escaping it', () => {
    const error = catchAttestError(() => formatSpiffeId('example.org', ['a b']))
    expect(error.details.check).toBe('path_segment_characters')
    expect(error.message).toContain('invalid path segment "a b"')
  })

  it('refuses a result longer than 2048 bytes', () => {
    const error = catchAttestError(() => formatSpiffeId('example.org', ['a'.repeat(1100), 'b'.repeat(1100)]))
    expect(error.code).toBe('ATT_ERR_SPIFFE_ID_INVALID')
    expect(error.details.check).toBe('length')
    expect(error.message).toMatch(/would be 2222 bytes long; at most 2048 are allowed$/)
  })
})
