import { base64url } from 'jose'
import { describe, expect, it } from 'vitest'
import { catchAttestError } from '../test/expect-attest-error.ts'
import { expectedClaims, TOKEN_FIXTURES, tokenFixture } from '../test/recorded-fixtures.ts'
import { encodeUnsignedToken, KUBE_HEADER } from '../test/unsigned-token.ts'
import { decodeServiceAccountTokenUnverified } from './service-account-token.ts'

const POD_BOUND = tokenFixture('TokenRequest: bound to pod, aud spire-server, 600s')
const NODE_BOUND = tokenFixture('TokenRequest: bound to Node')
const UNBOUND = tokenFixture('TokenRequest: unbound, aud spire-server')
const LEGACY = tokenFixture('TokenReview: hand-made legacy token BEFORE secret holds it')

/** Real claims to start each test from, so that only the one mutation under test is wrong. */
const projectedClaims = (): Record<string, unknown> => structuredClone(expectedClaims(POD_BOUND))
const legacyClaims = (): Record<string, unknown> => structuredClone(expectedClaims(LEGACY))
const kubernetesIo = (claims: Record<string, unknown>): Record<string, unknown> =>
  claims['kubernetes.io'] as Record<string, unknown>

/** Decodes `token`, expecting a malformed-token error with `check`, and returns the message. */
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** The base64url character one bit away: the same bytes when that bit encodes none. */
const respell = (character: string): string =>
  BASE64URL_ALPHABET.charAt(BASE64URL_ALPHABET.indexOf(character) ^ 1)

function rejectionOf(token: string, check: string): string {
  const error = catchAttestError(() => decodeServiceAccountTokenUnverified(token))
  expect(error.code).toBe('ATT_ERR_TOKEN_MALFORMED')
  expect(error.details.check).toBe(check)
  expect(error.message.startsWith('malformed service account token: ')).toBe(true)
  return error.message
}

describe('recorded tokens (kube-apiserver v1.32.13, shared/kube-reference)', () => {
  const decodable = TOKEN_FIXTURES.filter((fixture) => 'kind' in fixture.expected)

  it.each(decodable.map((fixture) => [fixture.label, fixture] as const))(
    '%s decodes to its recorded header, claims and kind',
    (_label, fixture) => {
      const expected = fixture.expected
      if (!('kind' in expected)) throw new Error('filtered above')
      const decoded = decodeServiceAccountTokenUnverified(fixture.token)
      expect(decoded.kind).toBe(expected.kind)
      expect(decoded.header).toEqual(expected.header)
      expect(decoded.claims).toEqual(expected.claims)
    },
  )

  it('classifies every TokenRequest-issued token as projected and the legacy token as legacy', () => {
    const issued = TOKEN_FIXTURES.filter((fixture) => fixture.source === 'token_request')
    const legacy = TOKEN_FIXTURES.filter((fixture) => fixture.source === 'legacy_secret')
    expect(issued).toHaveLength(8)
    expect(legacy).toHaveLength(1)
    for (const fixture of issued)
      expect(decodeServiceAccountTokenUnverified(fixture.token).kind).toBe('projected')
    for (const fixture of legacy)
      expect(decodeServiceAccountTokenUnverified(fixture.token).kind).toBe('legacy')
  })

  it('compares against claims the recording decoded itself for every TokenRequest it made', () => {
    const recorded = TOKEN_FIXTURES.filter((fixture) => fixture.claimsSource === 'recorded')
    expect(recorded.map((fixture) => fixture.source)).toEqual(Array(7).fill('token_request'))
  })

  it.each(
    TOKEN_FIXTURES.filter((fixture) => 'error' in fixture.expected).map(
      (fixture) => [fixture.label, fixture] as const,
    ),
  )('%s is refused', (_label, fixture) => {
    const expected = fixture.expected
    if (!('error' in expected)) throw new Error('filtered above')
    const error = catchAttestError(() => decodeServiceAccountTokenUnverified(fixture.token))
    expect(error.code).toBe(expected.error.code)
    expect(error.details.check).toBe(expected.error.check)
  })

  it('reads service account, pod and node of a pod-bound token', () => {
    const decoded = decodeServiceAccountTokenUnverified(POD_BOUND.token)
    expect(decoded).toMatchObject({
      kind: 'projected',
      serviceAccount: {
        namespace: 'spire',
        name: 'spire-agent',
        uid: 'b1cc04a4-4636-43af-a329-e6ce3041447f',
      },
      audiences: ['spire-server'],
      pod: { name: 'spire-agent-pod', uid: '761196fa-56d8-4823-8d5d-af92b2955257' },
      node: { name: 'node-a', uid: '733588a8-e575-4852-8c05-5e4c7b17313e' },
    })
  })

  it('reads the node of a node-bound token, and no pod', () => {
    const decoded = decodeServiceAccountTokenUnverified(NODE_BOUND.token)
    expect(decoded.kind === 'projected' && decoded.node).toEqual({
      name: 'node-a',
      uid: '733588a8-e575-4852-8c05-5e4c7b17313e',
    })
    expect(decoded).not.toHaveProperty('pod')
  })

  it('reads neither pod nor node from an unbound token', () => {
    const decoded = decodeServiceAccountTokenUnverified(UNBOUND.token)
    expect(decoded).not.toHaveProperty('pod')
    expect(decoded).not.toHaveProperty('node')
  })

  it('reads a legacy token', () => {
    expect(decodeServiceAccountTokenUnverified(LEGACY.token)).toEqual({
      kind: 'legacy',
      header: KUBE_HEADER,
      claims: expectedClaims(LEGACY),
      serviceAccount: {
        namespace: 'spire',
        name: 'spire-agent',
        uid: 'b1cc04a4-4636-43af-a329-e6ce3041447f',
      },
      audiences: [],
      secretName: 'spire-agent-legacy',
    })
  })
})

describe('claims that are valid but unusual', () => {
  it('normalises a single-string "aud" to an array', () => {
    const claims = { ...projectedClaims(), aud: 'spire-server' }
    const decoded = decodeServiceAccountTokenUnverified(encodeUnsignedToken(KUBE_HEADER, claims))
    expect(decoded.audiences).toEqual(['spire-server'])
    expect(decoded.claims.aud).toEqual(['spire-server'])
  })

  it('keeps claims it does not know', () => {
    const claims = { ...projectedClaims(), 'example.com/extra': { nested: [1, 2] } }
    const decoded = decodeServiceAccountTokenUnverified(encodeUnsignedToken(KUBE_HEADER, claims))
    expect(decoded.claims['example.com/extra']).toEqual({ nested: [1, 2] })
  })

  it('accepts a token without "nbf" and "jti" (they are optional)', () => {
    const { nbf: _nbf, jti: _jti, ...claims } = projectedClaims()
    expect(decodeServiceAccountTokenUnverified(encodeUnsignedToken(KUBE_HEADER, claims)).kind).toBe(
      'projected',
    )
  })

  it('accepts namespace and names given in both shapes when they agree', () => {
    const claims = {
      ...projectedClaims(),
      'kubernetes.io/serviceaccount/namespace': 'spire',
      'kubernetes.io/serviceaccount/service-account.name': 'spire-agent',
      'kubernetes.io/serviceaccount/service-account.uid': 'b1cc04a4-4636-43af-a329-e6ce3041447f',
    }
    expect(decodeServiceAccountTokenUnverified(encodeUnsignedToken(KUBE_HEADER, claims)).kind).toBe(
      'projected',
    )
  })

  it('accepts a legacy token without the optional secret name and UID', () => {
    const claims = legacyClaims()
    delete claims['kubernetes.io/serviceaccount/secret.name']
    delete claims['kubernetes.io/serviceaccount/service-account.uid']
    const decoded = decodeServiceAccountTokenUnverified(encodeUnsignedToken(KUBE_HEADER, claims))
    expect(decoded.serviceAccount).toEqual({ namespace: 'spire', name: 'spire-agent' })
    expect(decoded).not.toHaveProperty('secretName')
  })

  it('accepts exactly 16 KiB and refuses one byte more (the limit is inclusive)', () => {
    const limit = 16 * 1024
    // "header.payload." with enough padding in the payload, then a signature
    // filling the rest: a signature may not have a length of 4n + 1.
    const prefixWithPadding = (padding: number) =>
      encodeUnsignedToken(KUBE_HEADER, { ...projectedClaims(), pad: 'x'.repeat(padding) }, '')
    let padding = 11_000
    let prefix = prefixWithPadding(padding)
    while ((limit - prefix.length) % 4 === 1) prefix = prefixWithPadding(++padding)
    const exact = prefix + 'A'.repeat(limit - prefix.length)
    expect(exact).toHaveLength(limit)
    expect(decodeServiceAccountTokenUnverified(exact).kind).toBe('projected')
    expect(rejectionOf(`${exact}A`, 'token_size')).toContain('at most 16384 bytes')
  })
})

describe('rejections of the compact serialization', () => {
  const token = POD_BOUND.token
  const [header = '', payload = '', signature = ''] = token.split('.')

  it('token_type: not a string', () => {
    expect(rejectionOf(42 as unknown as string, 'token_type')).toBe(
      'malformed service account token: a token must be a string (found number)',
    )
  })

  it('token_size: over 16 KiB', () => {
    const oversized = encodeUnsignedToken(KUBE_HEADER, { ...projectedClaims(), pad: 'x'.repeat(13_000) })
    expect(oversized.length).toBeGreaterThan(16 * 1024)
    expect(rejectionOf(oversized, 'token_size')).toBe(
      'malformed service account token: a token may be at most 16384 bytes long',
    )
  })

  it('token_size: over 16 KiB only when counted in UTF-8 bytes', () => {
    // 8193 two-byte characters: 8193 UTF-16 units, 16386 UTF-8 bytes.
    expect(rejectionOf('\u00e9'.repeat(8193), 'token_size')).toContain('at most 16384 bytes')
  })

  it.each([
    ['one part', 'not-a-jwt', '(found 1)'],
    ['the empty string', '', '(found 1)'],
    ['two parts', `${header}.${payload}`, '(found 2)'],
    ['four parts', `${token}.x`, '(found 4)'],
    [
      'five parts (JWE)',
      'a.b.c.d.e',
      '(found 5); an encrypted JWT (JWE, five parts) is not a service account token',
    ],
  ])('token_parts: %s', (_name, input, messagePart) => {
    expect(rejectionOf(input, 'token_parts')).toContain(
      `expected a compact JWS of three "."-separated parts ${messagePart}`,
    )
  })

  it.each([
    ['header', 'header_base64url', (part: string) => `${part}.${payload}.${signature}`],
    ['payload', 'payload_base64url', (part: string) => `${header}.${part}.${signature}`],
    ['signature', 'signature_base64url', (part: string) => `${header}.${payload}.${part}`],
  ])('%s part: empty, wrong alphabet, padding, impossible length', (part, check, build) => {
    expect(rejectionOf(build(''), check)).toBe(`malformed service account token: the ${part} part is empty`)
    expect(rejectionOf(build('ab+/'), check)).toContain(`the ${part} part is not base64url`)
    expect(rejectionOf(build('YWJj=='), check)).toContain('no padding')
    expect(rejectionOf(build('a b'), check)).toContain(`the ${part} part is not base64url`)
    expect(rejectionOf(build('abcde'), check)).toBe(
      `malformed service account token: the ${part} part has an impossible base64url length`,
    )
  })

  it.each([
    ['header', 'header_base64url', 0],
    ['payload', 'payload_base64url', 1],
  ])(
    '%s part: refuses a respelling that sets the unused bits of its last character',
    (part, check, index) => {
      // kube-apiserver's JOSE library decodes base64url leniently and re-encodes the decoded bytes
      // to check the signature, so a respelled header or payload still verifies there. Refusing
      // it here keeps one token from getting past single-use checks under several spellings.
      const padded = (json: string) => (base64url.encode(json).length % 4 === 0 ? `${json} ` : json)
      const parts = [
        base64url.encode(padded(JSON.stringify(KUBE_HEADER))),
        base64url.encode(padded(JSON.stringify(projectedClaims()))),
        signature,
      ]
      const canonical = parts[index] ?? ''
      const respelled = `${canonical.slice(0, -1)}${respell(canonical.at(-1) ?? '')}`
      expect(base64url.decode(respelled)).toEqual(base64url.decode(canonical))
      expect(() => decodeServiceAccountTokenUnverified(parts.join('.'))).not.toThrow()
      parts[index] = respelled
      expect(rejectionOf(parts.join('.'), check)).toBe(
        `malformed service account token: the ${part} part is not canonical base64url (its last character sets bits that encode no byte)`,
      )
    },
  )

  it.each([
    ['header', 'header_json', (part: string) => `${part}.${payload}.${signature}`],
    ['payload', 'payload_json', (part: string) => `${header}.${part}.${signature}`],
  ])('%s: not UTF-8, not JSON, not an object', (part, check, build) => {
    const encode = (text: string) => base64url.encode(text)
    expect(rejectionOf(build(base64url.encode(new Uint8Array([0x7b, 0xff, 0x7d]))), check)).toBe(
      `malformed service account token: the ${part} is not valid UTF-8`,
    )
    expect(rejectionOf(build(encode('{"alg":')), check)).toBe(
      `malformed service account token: the ${part} is not JSON`,
    )
    expect(rejectionOf(build(encode('[1,2]')), check)).toBe(
      `malformed service account token: the ${part} must be a JSON object (found array)`,
    )
    expect(rejectionOf(build(encode('null')), check)).toContain('(found null)')
    expect(rejectionOf(build(encode('"text"')), check)).toContain('(found string)')
  })

  it('keeps the parse error as the cause', () => {
    const error = catchAttestError(() =>
      decodeServiceAccountTokenUnverified(`${base64url.encode('{')}.${payload}.${signature}`),
    )
    expect(error.cause).toBeInstanceOf(SyntaxError)
  })

  it('header_alg: missing, empty or not a string', () => {
    for (const badHeader of [{ kid: 'k' }, { alg: '' }, { alg: 256 }]) {
      expect(rejectionOf(encodeUnsignedToken(badHeader, projectedClaims()), 'header_alg')).toContain(
        'the header must have a non-empty string "alg"',
      )
    }
  })

  it('header_kid: not a string', () => {
    expect(rejectionOf(encodeUnsignedToken({ alg: 'RS256', kid: 7 }, projectedClaims()), 'header_kid')).toBe(
      `malformed service account token: the header's "kid" must be a string (found number)`,
    )
  })

  it('never quotes the token in a message', () => {
    const error = catchAttestError(() =>
      decodeServiceAccountTokenUnverified(`${payload}.${header}.${signature}`),
    )
    expect(error.message).not.toContain(payload.slice(0, 20))
    expect(JSON.stringify(error.details)).not.toContain(payload.slice(0, 20))
  })
})

describe('rejections of the claims', () => {
  const projectedWith = (mutate: (claims: Record<string, unknown>) => void): string => {
    const claims = projectedClaims()
    mutate(claims)
    return encodeUnsignedToken(KUBE_HEADER, claims)
  }
  const legacyWith = (mutate: (claims: Record<string, unknown>) => void): string => {
    const claims = legacyClaims()
    mutate(claims)
    return encodeUnsignedToken(KUBE_HEADER, claims)
  }

  it.each([
    ['iss', projectedWith],
    ['sub', projectedWith],
    ['aud', projectedWith],
    ['exp', projectedWith],
    ['iat', projectedWith],
    ['iss', legacyWith],
    ['sub', legacyWith],
  ])('claim_missing: %s', (claim, build) => {
    const message = rejectionOf(
      build((claims) => {
        delete claims[claim]
      }),
      'claim_missing',
    )
    expect(message).toBe(`malformed service account token: the claim "${claim}" is missing`)
  })

  it.each([
    [
      'kubernetes.io.serviceaccount.uid',
      (c: Record<string, unknown>) => delete (kubernetesIo(c).serviceaccount as Record<string, unknown>).uid,
    ],
    [
      'kubernetes.io.pod.name',
      (c: Record<string, unknown>) => delete (kubernetesIo(c).pod as Record<string, unknown>).name,
    ],
    [
      'kubernetes.io.node.uid',
      (c: Record<string, unknown>) => delete (kubernetesIo(c).node as Record<string, unknown>).uid,
    ],
  ])('claim_missing: %s (nested)', (path, mutate) => {
    const error = catchAttestError(() => decodeServiceAccountTokenUnverified(projectedWith(mutate)))
    expect(error.details).toEqual({ check: 'claim_missing', value: path })
    expect(error.message).toBe(`malformed service account token: the claim "${path}" is missing`)
  })

  it.each([
    ['iss', 42, 'non-empty string', 'number'],
    ['iss', '', 'non-empty string', 'empty string'],
    ['sub', null, 'non-empty string', 'null'],
    ['aud', 7, 'string or non-empty array of strings', 'number'],
    ['aud', [], 'string or non-empty array of strings', 'array'],
    ['aud', ['spire-server', 7], 'string or non-empty array of strings', 'array'],
    ['exp', '1795489158', 'NumericDate (number of seconds)', 'string'],
    ['iat', null, 'NumericDate (number of seconds)', 'null'],
    ['nbf', true, 'NumericDate (number of seconds)', 'boolean'],
    ['jti', 12, 'string', 'number'],
    ['kubernetes.io', ['spire'], 'object', 'array'],
  ])('claim_type: %s = %j', (claim, value, expected, found) => {
    const token = projectedWith((claims) => {
      claims[claim] = value
    })
    const error = catchAttestError(() => decodeServiceAccountTokenUnverified(token))
    expect(error.code).toBe('ATT_ERR_TOKEN_MALFORMED')
    expect(error.details).toEqual({ check: 'claim_type', value: claim, expected })
    expect(error.message).toBe(
      `malformed service account token: the claim "${claim}" must be a ${expected} (found ${found})`,
    )
  })

  it('claim_type: a NumericDate that overflows to Infinity', () => {
    // JSON.stringify cannot write 1e400, so the payload is written by hand.
    const payload = JSON.stringify(projectedClaims()).replace(/"exp":\d+/, '"exp":1e400')
    const token = `${base64url.encode(JSON.stringify(KUBE_HEADER))}.${base64url.encode(payload)}.c2ln`
    expect(rejectionOf(token, 'claim_type')).toBe(
      'malformed service account token: the claim "exp" must be a NumericDate (number of seconds) (found number)',
    )
  })

  it.each([
    ['namespace', 5, 'non-empty string'],
    ['serviceaccount', 'spire-agent', 'object'],
    ['pod', null, 'object'],
    ['node', [], 'object'],
    ['secret', { name: 'x', uid: 5 }, 'non-empty string'],
    ['warnafter', 'soon', 'NumericDate (number of seconds)'],
  ])('claim_type: kubernetes.io.%s = %j', (field, value, expected) => {
    const token = projectedWith((claims) => {
      kubernetesIo(claims)[field] = value
    })
    const error = catchAttestError(() => decodeServiceAccountTokenUnverified(token))
    expect(error.details.check).toBe('claim_type')
    expect(error.details.value).toMatch(new RegExp(`^kubernetes\\.io\\.${field}`))
    expect(error.details.expected).toBe(expected)
    expect(error.message).toContain(`must be a ${expected}`)
  })

  it.each([
    ['kubernetes.io/serviceaccount/namespace', 5],
    ['kubernetes.io/serviceaccount/secret.name', ''],
    ['kubernetes.io/serviceaccount/service-account.name', false],
    ['kubernetes.io/serviceaccount/service-account.uid', ''],
  ])('claim_type: legacy %s = %j', (claim, value) => {
    const message = rejectionOf(
      legacyWith((claims) => {
        claims[claim] = value
      }),
      'claim_type',
    )
    expect(message).toContain(`the claim "${claim}" must be a non-empty string`)
  })

  it('kind: neither a projected nor a legacy token', () => {
    const message = rejectionOf(
      encodeUnsignedToken(KUBE_HEADER, { iss: 'https://accounts.example.com', sub: 'user-1', aud: 'x' }),
      'kind',
    )
    expect(message).toBe(
      'malformed service account token: the token has neither the projected "kubernetes.io" claim nor the legacy "kubernetes.io/serviceaccount/*" claims; it is not a Kubernetes service account token',
    )
  })

  it('legacy_issuer: legacy claims under another issuer', () => {
    const error = catchAttestError(() =>
      decodeServiceAccountTokenUnverified(
        legacyWith((claims) => {
          claims.iss = 'https://kubernetes.default.svc'
        }),
      ),
    )
    expect(error.code).toBe('ATT_ERR_TOKEN_MALFORMED')
    expect(error.details).toEqual({
      check: 'legacy_issuer',
      value: 'https://kubernetes.default.svc',
      expected: 'kubernetes/serviceaccount',
    })
    expect(error.message).toBe(
      'malformed service account token: a legacy service account token must have issuer "kubernetes/serviceaccount" (found "https://kubernetes.default.svc")',
    )
  })

  it('namespace_conflict: the two shapes disagree', () => {
    const token = projectedWith((claims) => {
      claims['kubernetes.io/serviceaccount/namespace'] = 'default'
    })
    expect(rejectionOf(token, 'namespace_conflict')).toBe(
      'malformed service account token: the namespace is "spire" in claim "kubernetes.io.namespace" but "default" in claim "kubernetes.io/serviceaccount/namespace"',
    )
  })

  it('namespace_missing: in neither shape (projected)', () => {
    const token = projectedWith((claims) => {
      delete kubernetesIo(claims).namespace
    })
    expect(rejectionOf(token, 'namespace_missing')).toBe(
      'malformed service account token: no claim names the namespace (expected "kubernetes.io.namespace" or "kubernetes.io/serviceaccount/namespace")',
    )
  })

  it('namespace_missing: in neither shape (legacy issuer, no claims)', () => {
    const token = encodeUnsignedToken(KUBE_HEADER, {
      iss: 'kubernetes/serviceaccount',
      sub: 'system:serviceaccount:spire:spire-agent',
    })
    expect(rejectionOf(token, 'namespace_missing')).toContain('no claim names the namespace')
  })

  it('service_account_name_conflict: the two shapes disagree', () => {
    const token = projectedWith((claims) => {
      claims['kubernetes.io/serviceaccount/service-account.name'] = 'spire-server'
    })
    expect(rejectionOf(token, 'service_account_name_conflict')).toBe(
      'malformed service account token: the service account name is "spire-agent" in claim "kubernetes.io.serviceaccount.name" but "spire-server" in claim "kubernetes.io/serviceaccount/service-account.name"',
    )
  })

  it('service_account_name_missing: in neither shape', () => {
    const token = projectedWith((claims) => {
      delete kubernetesIo(claims).serviceaccount
    })
    expect(rejectionOf(token, 'service_account_name_missing')).toBe(
      'malformed service account token: no claim names the service account (expected "kubernetes.io.serviceaccount.name" or "kubernetes.io/serviceaccount/service-account.name")',
    )
  })

  it('service_account_uid_conflict: the two shapes disagree', () => {
    const token = projectedWith((claims) => {
      claims['kubernetes.io/serviceaccount/service-account.uid'] = '3e392fbb-ab81-4554-b2b8-6b7474734aa6'
    })
    expect(rejectionOf(token, 'service_account_uid_conflict')).toContain(
      'the service account UID is "b1cc04a4-4636-43af-a329-e6ce3041447f" in claim "kubernetes.io.serviceaccount.uid" but "3e392fbb-ab81-4554-b2b8-6b7474734aa6"',
    )
  })

  it.each([
    [
      'system:node:node-a',
      'expected exactly four ":"-separated parts, system:serviceaccount:<namespace>:<name> (found 3)',
    ],
    ['system:serviceaccounts:spire:spire-agent', 'expected it to start with "system:serviceaccount:"'],
    ['system:serviceaccount::spire-agent', 'the namespace part is empty'],
    ['system:serviceaccount:spire:', 'the service account name part is empty'],
  ])('subject_format: sub = %j', (sub, reason) => {
    const token = projectedWith((claims) => {
      claims.sub = sub
    })
    expect(rejectionOf(token, 'subject_format')).toBe(
      `malformed service account token: the "sub" claim ${JSON.stringify(sub)} is not a service account: ${reason}`,
    )
  })

  it.each([
    ['another name', 'system:serviceaccount:spire:spire-server', 'spire:spire-server'],
    ['another namespace', 'system:serviceaccount:default:spire-agent', 'default:spire-agent'],
  ])('subject_mismatch: sub names %s', (_name, sub, named) => {
    const token = projectedWith((claims) => {
      claims.sub = sub
    })
    expect(rejectionOf(token, 'subject_mismatch')).toBe(
      `malformed service account token: the "sub" claim names service account "${named}" but the other claims name "spire:spire-agent"`,
    )
  })

  it('subject_mismatch: a legacy token', () => {
    const token = legacyWith((claims) => {
      claims.sub = 'system:serviceaccount:kube-system:default'
    })
    expect(rejectionOf(token, 'subject_mismatch')).toContain('"kube-system:default"')
  })
})
