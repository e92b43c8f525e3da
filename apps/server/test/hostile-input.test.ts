import { randomUUID } from 'node:crypto'
import { PROBLEM_CONTENT_TYPE } from '@k8s-attest/core'
import type { LightMyRequestResponse } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestCsr } from '../src/ca/test-support/csr.ts'
import { MAX_ECHOED_VALUE_CHARS } from '../src/http/problem.ts'
import { FakeClusterClient } from './fake-cluster-client.ts'
import { psatScenario } from './psat-fixture.ts'
import { legacyClaims, unsignedToken } from './tokens.ts'
import { buildUnitApp, type UnitApp } from './unit-app.ts'

/*
 * Requests as an attacker writes them, through app.inject(): every answer is a 4xx problem
 * naming the check, never a 500, and nothing the attacker sent comes back unbounded.
 */

const ADMIN = { authorization: 'Bearer admin-token-0123456789abcdef0123456789abcdef' }

let unit: UnitApp | undefined

afterEach(async () => {
  await unit?.close()
  unit = undefined
})

async function app(clients = { psat: new FakeClusterClient(), sat: new FakeClusterClient() }) {
  unit = await buildUnitApp(clients)
  return unit
}

function expectClientProblem(response: LightMyRequestResponse, status: number, code: string) {
  expect({ status: response.statusCode, code: response.json().code }).toEqual({ status, code })
  expect(response.headers['content-type']).toBe(`${PROBLEM_CONTENT_TYPE}; charset=utf-8`)
  return response.json() as Record<string, unknown>
}

describe('the admin API, given a path parameter that is not a SPIFFE ID', () => {
  const invalid = [
    ['foo', 'scheme'],
    ['%00', 'scheme'],
    ['*', 'scheme'],
    [encodeURIComponent('spiffe://EXAMPLE.org/spire/agent/x'), 'trust_domain_characters'],
    [`${encodeURIComponent('spiffe://example.org/spire/agent/x')}%2F`, 'path_segment_empty'],
    [encodeURIComponent('spiffe://example.org/spire/../agent'), 'path_segment_dot'],
    [encodeURIComponent('spiffe://example.org/a%2Fb'), 'percent_encoding'],
  ] as const
  const verbs = [
    ['GET', ''],
    ['DELETE', ''],
    ['POST', '/ban'],
  ] as const

  for (const [method, suffix] of verbs) {
    it.each(invalid)(`${method} …/%s${suffix} answers 400 naming the check (%s)`, async (id, check) => {
      const { app: server, logLines } = await app()
      const response = await server.inject({ method, url: `/v1/admin/agents/${id}${suffix}`, headers: ADMIN })
      expect(expectClientProblem(response, 400, 'ATT_ERR_SPIFFE_ID_INVALID').check).toBe(check)
      expect(logLines.join('\n')).not.toContain('TypeError')
    })
  }

  // `..` and `%2e%2e` as the whole segment: inject() resolves them as a URL would (to
  // /v1/admin, a 404); a real client sends them as they are, see listener.integration.test.ts.
  it('answers a malformed percent-encoding and an unrouted slash with a problem, not a 500', async () => {
    const { app: server } = await app()
    const badEscape = await server.inject({ url: '/v1/admin/agents/%E0%A4%A', headers: ADMIN })
    expectClientProblem(badEscape, 400, 'ATT_ERR_BAD_REQUEST')
    const slash = await server.inject({ url: '/v1/admin/agents/spiffe://example.org/x', headers: ADMIN })
    expectClientProblem(slash, 404, 'ATT_ERR_ROUTE_NOT_FOUND')
  })

  it('still answers 404 for a valid ID nobody attested', async () => {
    const { app: server } = await app()
    const id = encodeURIComponent('spiffe://example.org/spire/agent/k8s_psat/demo/none')
    const response = await server.inject({ method: 'DELETE', url: `/v1/admin/agents/${id}`, headers: ADMIN })
    expectClientProblem(response, 404, 'ATT_ERR_AGENT_NOT_FOUND')
  })
})

/** An attest body whose fields a test may replace with values of any JSON type. */
interface LooseAttestBody {
  attestation: { type: unknown; payload: { cluster: unknown; token: unknown } }
  csr: unknown
}

describe('JSON bodies are not type-coerced', () => {
  async function attestWith(mutate: (body: LooseAttestBody) => void) {
    const scenario = psatScenario()
    const { app: server } = await app({ psat: scenario.client, sat: new FakeClusterClient() })
    const body: LooseAttestBody = {
      attestation: { type: 'k8s_psat', payload: { cluster: 'demo', token: scenario.token } },
      csr: (await createTestCsr()).pem,
    }
    mutate(body)
    return server.inject({ method: 'POST', url: '/v1/attest', payload: body as object })
  }

  it.each<[string, (body: LooseAttestBody) => void, string, string]>([
    [
      'csr as a one-element array',
      (body) => {
        body.csr = [body.csr]
      },
      'body/csr',
      'string',
    ],
    [
      'token as a one-element array',
      (body) => {
        body.attestation.payload.token = [body.attestation.payload.token]
      },
      'body/attestation/payload/token',
      'string',
    ],
    [
      'cluster as a one-element array',
      (body) => {
        body.attestation.payload.cluster = ['demo']
      },
      'body/attestation/payload/cluster',
      'string',
    ],
    [
      'token as a number',
      (body) => {
        body.attestation.payload.token = 123
      },
      'body/attestation/payload/token',
      'string',
    ],
    [
      'cluster as a boolean',
      (body) => {
        body.attestation.payload.cluster = false
      },
      'body/attestation/payload/cluster',
      'string',
    ],
  ])('refuses %s as a schema error naming the field and type', async (_name, mutate, field, type) => {
    const problem = expectClientProblem(await attestWith(mutate), 400, 'ATT_ERR_BAD_REQUEST')
    expect(problem).toMatchObject({ check: 'schema', value: field, expected: type })
  })

  it('refuses the attestor type as a one-element array', async () => {
    const response = await attestWith((body) => {
      body.attestation.type = ['k8s_psat']
    })
    expect(expectClientProblem(response, 400, 'ATT_ERR_BAD_REQUEST')).toMatchObject({
      check: 'schema',
      value: 'body/attestation/type',
    })
  })

  it('still accepts the same request with its real types', async () => {
    expect((await attestWith(() => undefined)).statusCode).toBe(200)
  })

  it('still coerces the query string, which is text by nature', async () => {
    const { app: server } = await app()
    const response = await server.inject({ url: '/v1/admin/agents?page_size=5&banned=false', headers: ADMIN })
    expect(response.json()).toEqual({ agents: [] })
  })
})

describe('echoed input is bounded', () => {
  it('cuts a 10,000-character "sub" claim in the answer and in the log line', async () => {
    const sat = new FakeClusterClient()
    const uid = randomUUID()
    const sub = `system:${'x'.repeat(10_000)}`
    const token = unsignedToken({ ...legacyClaims(uid), sub })
    sat.reviews.set(token, {
      authenticated: true,
      user: { username: 'system:serviceaccount:spire:spire-agent', uid },
    })
    const { app: server, logLines } = await app({ psat: new FakeClusterClient(), sat })
    const response = await server.inject({
      method: 'POST',
      url: '/v1/attest',
      payload: {
        attestation: { type: 'k8s_sat', payload: { cluster: 'legacy', token } },
        csr: (await createTestCsr()).pem,
      },
    })
    const problem = expectClientProblem(response, 400, 'ATT_ERR_TOKEN_MALFORMED')
    expect(String(problem.value).length).toBeLessThan(MAX_ECHOED_VALUE_CHARS + 40)
    expect(problem.value).toContain('(10007 characters)')
    expect(response.body.length).toBeLessThan(3000)
    const line = logLines.find((entry) => entry.includes('ATT_ERR_TOKEN_MALFORMED')) ?? ''
    expect(line).toContain('(10007 characters)')
    expect(line.length).toBeLessThan(3000)
  })
})

describe('every error is application/problem+json with a code', () => {
  it.each([
    ['an unknown route', { url: '/v1/nothing' }, 404, 'ATT_ERR_ROUTE_NOT_FOUND'],
    ['/metrics on the agent-facing port', { url: '/metrics' }, 404, 'ATT_ERR_ROUTE_NOT_FOUND'],
    [
      'a body that is not JSON',
      { method: 'POST', url: '/v1/attest', headers: { 'content-type': 'application/xml' }, payload: '<x/>' },
      415,
      'ATT_ERR_UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'a body beyond 64 KiB',
      {
        method: 'POST',
        url: '/v1/attest',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ csr: 'x'.repeat(70_000) }),
      },
      413,
      'ATT_ERR_PAYLOAD_TOO_LARGE',
    ],
  ] as const)('%s', async (_name, request, status, code) => {
    const { app: server } = await app()
    const problem = expectClientProblem(await server.inject(request), status, code)
    expect(problem.title).toEqual(expect.any(String))
  })
})
