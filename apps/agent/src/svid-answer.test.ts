import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import type { SvidResponse } from '@k8s-attest/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { TestCa } from '../test/test-ca.ts'
import type { AgentError } from './errors.ts'
import { acceptSvidAnswer, type SvidAnswerContext } from './svid-answer.ts'
import type { HeldSvid } from './svid-verify.ts'
import { type TrustBundle, trustBundleFromCertificates } from './trust-bundle.ts'

const ID = 'spiffe://example.org/spire/agent/k8s_psat/demo/node-uid-1'
const OTHER_NODE = 'spiffe://example.org/spire/agent/k8s_psat/demo/node-uid-2'
const OTHER_CLUSTER = 'spiffe://example.org/spire/agent/k8s_psat/other/node-uid-1'
const NOW = Math.floor(Date.now() / 1000) * 1000
const HOUR = 3_600_000

let ca: TestCa
let bundle: TrustBundle
let keys: { privateKey: KeyObject; publicKey: KeyObject }
const answers = new Map<string, SvidResponse>()

beforeAll(async () => {
  ca = await TestCa.create('CN=root', {
    notBefore: new Date(NOW - 10 * HOUR),
    notAfter: new Date(NOW + 10 * HOUR),
  })
  bundle = trustBundleFromCertificates([ca.certPem], 'test')
  keys = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  for (const spiffeId of [ID, OTHER_NODE, OTHER_CLUSTER]) {
    const leaf = await ca.issueLeaf({
      publicKey: keys.publicKey,
      uris: [spiffeId],
      notBefore: new Date(NOW - HOUR),
      notAfter: new Date(NOW + HOUR),
    })
    answers.set(spiffeId, {
      spiffe_id: spiffeId,
      svid: [leaf],
      bundle: [ca.certPem],
      selectors: [],
      expires_at: new Date(NOW + HOUR).toISOString(),
      reattestable: true,
    })
  }
})

function answerFor(spiffeId: string, options: { withBundle?: boolean } = {}): SvidResponse {
  const response = answers.get(spiffeId) as SvidResponse
  return options.withBundle === false ? { ...response, bundle: [] } : response
}

function context(overrides: Partial<SvidAnswerContext> = {}): SvidAnswerContext {
  return {
    config: {
      trustDomain: 'example.org',
      nodeAttestor: { type: 'k8s_psat', cluster: 'demo', tokenPath: '/var/run/secrets/tokens/spire-agent' },
    },
    origin: 'https://spire-server:8081',
    heldBundle: undefined,
    heldSvid: undefined,
    now: NOW,
    ...overrides,
  }
}

function refusal(run: () => unknown): AgentError {
  try {
    run()
  } catch (error) {
    return error as AgentError
  }
  throw new Error('expected a refusal')
}

describe('acceptSvidAnswer', () => {
  it('accepts an agent ID of its own attestor and cluster, with the bundle the server sent', () => {
    const accepted = acceptSvidAnswer(answerFor(ID), keys.privateKey, 'attest', context())
    expect(accepted.svid.spiffeId).toBe(ID)
    expect(accepted.method).toBe('attest')
    expect(accepted.bundle.authoritiesPem).toEqual(bundle.authoritiesPem)
  })

  it('verifies against the bundle it holds when the answer carries none, and refuses without one', () => {
    const bare = answerFor(ID, { withBundle: false })
    const held = acceptSvidAnswer(bare, keys.privateKey, 'renew', context({ heldBundle: bundle }))
    expect(held.bundle).toBe(bundle)
    const error = refusal(() => acceptSvidAnswer(bare, keys.privateKey, 'attest', context()))
    expect(error.code).toBe('ATT_ERR_TRUST_BUNDLE_INVALID')
    expect(error.message).toBe(
      'https://spire-server:8081 sent no trust bundle with the SVID; with insecure_bootstrap the agent needs it to verify the SVID and, later, the server',
    )
  })

  it('refuses an ID that is no agent of its attestor and cluster', () => {
    const error = refusal(() =>
      acceptSvidAnswer(answerFor(OTHER_CLUSTER), keys.privateKey, 'attest', context()),
    )
    expect(error.code).toBe('ATT_ERR_SVID_VERIFICATION_FAILED')
    expect(error.details).toMatchObject({ check: 'svid_agent_id', value: OTHER_CLUSTER })
    expect(error.message).toBe(
      `the SVID certifies "${OTHER_CLUSTER}", which is not a k8s_psat agent ID of cluster "demo"`,
    )
  })

  it('refuses a renewal that changes the held ID, and lets an attestation do so (a new node UID)', () => {
    const heldSvid = { spiffeId: ID } as HeldSvid
    const error = refusal(() =>
      acceptSvidAnswer(answerFor(OTHER_NODE), keys.privateKey, 'renew', context({ heldSvid })),
    )
    expect(error.code).toBe('ATT_ERR_SVID_VERIFICATION_FAILED')
    expect(error.details).toMatchObject({ check: 'svid_spiffe_id_kept', value: OTHER_NODE, expected: ID })
    expect(error.message).toBe(`the renewed SVID certifies "${OTHER_NODE}", but this agent is "${ID}"`)
    const attested = acceptSvidAnswer(answerFor(OTHER_NODE), keys.privateKey, 'attest', context({ heldSvid }))
    expect(attested.svid.spiffeId).toBe(OTHER_NODE)
  })
})
