import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { describe, expect, it } from 'vitest'
import { tokenFixture } from '../test/recorded-fixtures.ts'
import { ATTEST_ERROR_CODES } from './errors.ts'
import {
  AgentListQuerySchema,
  AgentListResponseSchema,
  type AgentView,
  AgentViewSchema,
  type AttestRequest,
  AttestRequestSchema,
  AttestResponseSchema,
  type BundleResponse,
  BundleResponseSchema,
  type Problem,
  ProblemSchema,
  RenewRequestSchema,
  RenewResponseSchema,
  SelectorSchema,
  type SvidResponse,
  SvidResponseSchema,
} from './wire.ts'
import { MAX_TOKEN_BYTES, WIRE_PATHS } from './wire-constants.ts'

// Real-shaped material: a P-256 CA, an agent SVID it signed and the agent's
// CSR, made with openssl for these tests (test/fixtures/wire/), and a token
// recorded from kube-apiserver v1.32.13.
const readFixture = (name: string) =>
  readFileSync(new URL(`../test/fixtures/wire/${name}`, import.meta.url), 'utf8')
const CA_PEM = readFixture('ca.pem')
const SVID_PEM = readFixture('agent-svid.pem')
const CSR_PEM = readFixture('agent.csr.pem')
const TOKEN = tokenFixture('TokenRequest: bound to pod, aud spire-server, 600s').token
const AGENT_ID = 'spiffe://example.org/spire/agent/k8s_psat/demo/733588a8-e575-4852-8c05-5e4c7b17313e'

/** Compiles `schema` once and returns a checker that also lists the failing paths. */
function validator(schema: TSchema) {
  const compiled = Compile(schema)
  return {
    check: (value: unknown) => compiled.Check(value),
    failingPaths: (value: unknown) => [...compiled.Errors(value)].map((error) => error.instancePath),
  }
}

const attestRequest = (): AttestRequest => ({
  attestation: { type: 'k8s_psat', payload: { cluster: 'demo', token: TOKEN } },
  csr: CSR_PEM,
})

const svidResponse = (): SvidResponse => ({
  spiffe_id: AGENT_ID,
  svid: [SVID_PEM, CA_PEM],
  bundle: [CA_PEM],
  selectors: [
    { type: 'k8s_psat', value: 'agent_ns:spire' },
    { type: 'k8s_psat', value: 'cluster:demo' },
  ],
  expires_at: new Date(new X509Certificate(SVID_PEM).validTo).toISOString(),
  reattestable: true,
})

function bundleResponse(): BundleResponse {
  const ca = new X509Certificate(CA_PEM)
  const jwk = ca.publicKey.export({ format: 'jwk' })
  return {
    trust_domain: 'example.org',
    x509_authorities: [CA_PEM],
    spiffe_bundle: {
      keys: [
        {
          kty: String(jwk.kty),
          crv: String(jwk.crv),
          x: String(jwk.x),
          y: String(jwk.y),
          use: 'x509-svid',
          x5c: [ca.raw.toString('base64')],
        },
      ],
      spiffe_sequence: 1,
      spiffe_refresh_hint: 300,
    },
  }
}

const problem = (): Problem => ({
  type: 'urn:k8s-attest:error:ATT_ERR_SA_NOT_ALLOWED',
  title: 'Forbidden',
  status: 403,
  detail: 'service account "spire:default" is not allowed for cluster "demo"',
  code: 'ATT_ERR_SA_NOT_ALLOWED',
  check: 'service_account_allow_list',
  cluster: 'demo',
  value: 'spire:default',
})

const agentView = (): AgentView => ({
  spiffe_id: AGENT_ID,
  attestor: 'k8s_psat',
  cluster: 'demo',
  selectors: [{ type: 'k8s_psat', value: 'cluster:demo' }],
  svid_serial: '5f3a9c2b1d',
  svid_expires_at: '2026-11-25T04:10:43.000Z',
  first_attested_at: '2026-11-24T04:10:43.000Z',
  last_attested_at: '2026-11-24T04:10:43.000Z',
  banned: false,
})

describe('AttestRequestSchema', () => {
  const { check, failingPaths } = validator(AttestRequestSchema)

  it('accepts a real-shaped request for both attestors', () => {
    expect(check(attestRequest())).toBe(true)
    const sat = attestRequest()
    expect(check({ ...sat, attestation: { ...sat.attestation, type: 'k8s_sat' } })).toBe(true)
  })

  it.each([
    [
      'an unknown attestor',
      (body: AttestRequest) => ({ ...body, attestation: { ...body.attestation, type: 'aws_iid' } }),
      '/attestation/type',
    ],
    [
      'an empty token',
      (body: AttestRequest) => ({
        ...body,
        attestation: { ...body.attestation, payload: { cluster: 'demo', token: '' } },
      }),
      '/attestation/payload/token',
    ],
    [
      'a token over 16 KiB',
      (body: AttestRequest) => ({
        ...body,
        attestation: {
          ...body.attestation,
          payload: { cluster: 'demo', token: 'a'.repeat(MAX_TOKEN_BYTES + 1) },
        },
      }),
      '/attestation/payload/token',
    ],
    [
      'an empty cluster',
      (body: AttestRequest) => ({
        ...body,
        attestation: { ...body.attestation, payload: { cluster: '', token: TOKEN } },
      }),
      '/attestation/payload/cluster',
    ],
    ['a missing CSR', ({ csr: _csr, ...body }: AttestRequest) => body, ''],
    ['an unknown top-level field', (body: AttestRequest) => ({ ...body, spiffe_id: AGENT_ID }), ''],
    [
      'an unknown payload field',
      (body: AttestRequest) => ({
        ...body,
        attestation: { ...body.attestation, payload: { ...body.attestation.payload, node: 'node-a' } },
      }),
      '/attestation/payload',
    ],
  ])('refuses %s', (_name, mutate, path) => {
    const body = mutate(attestRequest())
    expect(check(body)).toBe(false)
    expect(failingPaths(body)).toContain(path)
  })
})

describe('SvidResponseSchema (attest and renew answers)', () => {
  const { check, failingPaths } = validator(SvidResponseSchema)

  it('accepts a real-shaped answer, and is the schema of both answers', () => {
    expect(check(svidResponse())).toBe(true)
    expect(AttestResponseSchema).toBe(SvidResponseSchema)
    expect(RenewResponseSchema).toBe(SvidResponseSchema)
  })

  it.each([
    ['an empty SVID chain', { svid: [] }, '/svid'],
    ['an expiry that is not RFC 3339', { expires_at: 'Nov 25 04:10:43 2026 GMT' }, '/expires_at'],
    [
      'a selector with an empty value',
      { selectors: [{ type: 'k8s_psat', value: '' }] },
      '/selectors/0/value',
    ],
    ['a field that must not leak (the private key)', { private_key: 'PEM' }, ''],
    [
      'a SPIFFE ID over 2048 characters',
      { spiffe_id: `spiffe://example.org/${'a'.repeat(2048)}` },
      '/spiffe_id',
    ],
  ])('refuses %s', (_name, change, path) => {
    const body = { ...svidResponse(), ...change }
    expect(check(body)).toBe(false)
    expect(failingPaths(body)).toContain(path)
  })
})

describe('RenewRequestSchema', () => {
  const { check } = validator(RenewRequestSchema)

  it('accepts a CSR and nothing else', () => {
    expect(check({ csr: CSR_PEM })).toBe(true)
    expect(check({ csr: CSR_PEM, spiffe_id: AGENT_ID })).toBe(false)
    expect(check({ csr: '' })).toBe(false)
  })
})

describe('BundleResponseSchema', () => {
  const { check, failingPaths } = validator(BundleResponseSchema)

  it('accepts a bundle built from a real CA certificate', () => {
    expect(check(bundleResponse())).toBe(true)
  })

  it.each([
    [
      'a key not for X.509 SVIDs',
      (bundle: BundleResponse) => ({
        ...bundle,
        spiffe_bundle: {
          ...bundle.spiffe_bundle,
          keys: [{ ...bundle.spiffe_bundle.keys[0], use: 'jwt-svid' }],
        },
      }),
      '/spiffe_bundle/keys/0/use',
    ],
    [
      'a key with two certificates',
      (bundle: BundleResponse) => ({
        ...bundle,
        spiffe_bundle: {
          ...bundle.spiffe_bundle,
          keys: [{ ...bundle.spiffe_bundle.keys[0], x5c: ['a', 'b'] }],
        },
      }),
      '/spiffe_bundle/keys/0/x5c',
    ],
    [
      'a negative sequence number',
      (bundle: BundleResponse) => ({
        ...bundle,
        spiffe_bundle: { ...bundle.spiffe_bundle, spiffe_sequence: -1 },
      }),
      '/spiffe_bundle/spiffe_sequence',
    ],
    [
      'a fractional refresh hint',
      (bundle: BundleResponse) => ({
        ...bundle,
        spiffe_bundle: { ...bundle.spiffe_bundle, spiffe_refresh_hint: 1.5 },
      }),
      '/spiffe_bundle/spiffe_refresh_hint',
    ],
  ])('refuses %s', (_name, mutate, path) => {
    const body = mutate(bundleResponse())
    expect(check(body)).toBe(false)
    expect(failingPaths(body)).toContain(path)
  })
})

describe('ProblemSchema', () => {
  const { check, failingPaths } = validator(ProblemSchema)

  it('accepts a problem for every error code', () => {
    for (const code of ATTEST_ERROR_CODES) expect(check({ ...problem(), code })).toBe(true)
  })

  it.each([
    ['an unknown code', { code: 'ATT_ERR_NOPE' }, '/code'],
    ['a status below 400', { status: 200 }, '/status'],
    ['a status above 599', { status: 600 }, '/status'],
    ['a field that is not part of the contract', { stack: 'Error: …' }, ''],
  ])('refuses %s', (_name, change, path) => {
    const body = { ...problem(), ...change }
    expect(check(body)).toBe(false)
    expect(failingPaths(body)).toContain(path)
  })
})

describe('SelectorSchema', () => {
  const { check } = validator(SelectorSchema)

  it('accepts { type, value } and nothing more', () => {
    expect(check({ type: 'k8s_psat', value: 'agent_ns:spire' })).toBe(true)
    expect(check({ type: 'k8s_psat', value: 'agent_ns:spire', extra: 1 })).toBe(false)
    expect(check({ type: '', value: 'agent_ns:spire' })).toBe(false)
  })
})

describe('admin API schemas', () => {
  it('AgentViewSchema accepts a real-shaped agent and refuses an unknown attestor', () => {
    const { check } = validator(AgentViewSchema)
    expect(check(agentView())).toBe(true)
    expect(check({ ...agentView(), attestor: 'join_token' })).toBe(false)
  })

  it('AgentListResponseSchema accepts a page with a next-page token', () => {
    const { check } = validator(AgentListResponseSchema)
    expect(check({ agents: [agentView()], next_page_token: 'eyJvZmZzZXQiOjUwfQ' })).toBe(true)
    expect(check({ agents: [{ ...agentView(), banned: 'no' }] })).toBe(false)
  })

  it('AgentListQuerySchema bounds the page size and checks the selector filter', () => {
    const { check } = validator(AgentListQuerySchema)
    expect(check({ cluster: 'demo', selector: 'k8s_psat:agent_ns:spire', page_size: 1000 })).toBe(true)
    expect(check({ page_size: 0 })).toBe(false)
    expect(check({ page_size: 1001 })).toBe(false)
    expect(check({ selector: 'ab' })).toBe(false)
    expect(check({ sort: 'name' })).toBe(false)
  })

  it('AgentListQuerySchema bounds every string filter', () => {
    const { check } = validator(AgentListQuerySchema)
    expect(check({ cluster: 'c'.repeat(253) })).toBe(true)
    expect(check({ cluster: 'c'.repeat(254) })).toBe(false)
    expect(check({ selector: `k8s_psat:agent_pod_label:${'v'.repeat(2048)}` })).toBe(false)
    expect(check({ page_token: 't'.repeat(4096) })).toBe(true)
    expect(check({ page_token: 't'.repeat(4097) })).toBe(false)
  })
})

describe('WIRE_PATHS', () => {
  it('are absolute, versioned paths, one per endpoint', () => {
    const paths = Object.values(WIRE_PATHS)
    for (const path of paths) expect(path).toMatch(/^\/v1\/[a-z/]+$/)
    expect(new Set(paths).size).toBe(paths.length)
  })
})
