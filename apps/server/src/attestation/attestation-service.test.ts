import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AttestError } from '@k8s-attest/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FakeClusterClient } from '../../test/fake-cluster-client.ts'
import { psatClusterConfig } from '../../test/psat-cluster-config.ts'
import { psatScenario } from '../../test/psat-fixture.ts'
import { CertificateAuthority } from '../ca/certificate-authority.ts'
import { createTestCsr } from '../ca/test-support/csr.ts'
import type { AgentStore } from '../datastore/agent-store.ts'
import { openAgentStore } from '../datastore/open-agent-store.ts'
import { AttestationService } from './attestation-service.ts'

let dataDir: string
let store: AgentStore
let ca: CertificateAuthority

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'k8s-attest-service-'))
  store = await openAgentStore({ databaseType: 'sqlite3', connectionString: join(dataDir, 'db.sqlite3') })
  ca = await CertificateAuthority.open({
    dataDir,
    trustDomain: 'example.org',
    caTtlMs: 86_400_000,
    agentTtlMs: 3_600_000,
  })
})

afterEach(async () => {
  await store.close()
  await rm(dataDir, { recursive: true, force: true })
})

function service(
  client: FakeClusterClient,
  agentStore: AgentStore = store,
  withSat = false,
): AttestationService {
  return new AttestationService({
    trustDomain: 'example.org',
    nodeAttestors: {
      k8sPsat: {
        clusters: new Map([['demo', psatClusterConfig()]]),
      },
      k8sSat: withSat
        ? {
            clusters: new Map([
              [
                'legacy',
                {
                  name: 'legacy',
                  serviceAccountAllowList: ['spire:spire-agent'],
                  validation: { kind: 'token-review', kubeConfigFile: undefined, kubeApiTimeoutMs: 5_000 },
                },
              ],
            ]),
          }
        : undefined,
    },
    clusterClients: {
      k8sPsat: new Map([['demo', client]]),
      k8sSat: new Map(withSat ? [['legacy', client]] : []),
    },
    signer: ca,
    store: agentStore,
  })
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  expect(error).toBeInstanceOf(AttestError)
  return (error as AttestError).code
}

/** A recorded k8s_sat agent, inserted directly (its attestation is tested elsewhere). */
async function recordSatAgent(serial = 'abc123') {
  const spiffeId = 'spiffe://example.org/spire/agent/k8s_sat/legacy/3b241101-e2bb-4255-8caf-4136c566a962'
  await store.recordAttestation({
    spiffeId,
    attestor: 'k8s_sat',
    cluster: 'legacy',
    selectors: [
      { type: 'k8s_sat', value: 'agent_ns:spire' },
      { type: 'k8s_sat', value: 'agent_sa:spire-agent' },
    ],
    svidSerial: serial,
    svidExpiresAt: new Date(Date.now() + 3_600_000),
  })
  return spiffeId
}

describe('AttestationService.attest', () => {
  it('refuses an attestor that is not configured', async () => {
    const { client, token } = psatScenario()
    const csr = (await createTestCsr()).pem
    const request = { attestation: { type: 'k8s_sat' as const, payload: { cluster: 'demo', token } }, csr }
    expect(await codeOf(service(client).attest(request))).toBe('ATT_ERR_UNSUPPORTED_ATTESTOR')
  })

  it('refuses an unknown cluster before any API call', async () => {
    const { client, token } = psatScenario()
    const csr = (await createTestCsr()).pem
    const request = {
      attestation: { type: 'k8s_psat' as const, payload: { cluster: 'elsewhere', token } },
      csr,
    }
    expect(await codeOf(service(client).attest(request))).toBe('ATT_ERR_UNKNOWN_CLUSTER')
    expect(client.calls).toEqual([])
  })

  it('refuses a banned agent and leaves its record as it was', async () => {
    const { client, token } = psatScenario()
    const attestation = { type: 'k8s_psat' as const, payload: { cluster: 'demo', token } }
    const first = await service(client).attest({ attestation, csr: (await createTestCsr()).pem })
    await store.banAgent(first.agent.spiffeId)
    const before = await store.getAgent(first.agent.spiffeId)
    expect(await codeOf(service(client).attest({ attestation, csr: (await createTestCsr()).pem }))).toBe(
      'ATT_ERR_AGENT_BANNED',
    )
    expect(await store.getAgent(first.agent.spiffeId)).toEqual(before)
  })
})

describe('AttestationService.renew', () => {
  it('refuses an agent without a record', async () => {
    const peer = { spiffeId: 'spiffe://example.org/spire/agent/k8s_sat/legacy/x', serialHex: '1' }
    expect(await codeOf(service(new FakeClusterClient()).renew(peer, (await createTestCsr()).pem))).toBe(
      'ATT_ERR_AGENT_NOT_FOUND',
    )
  })

  it('refuses a banned agent', async () => {
    const spiffeId = await recordSatAgent()
    await store.banAgent(spiffeId)
    expect(
      await codeOf(
        service(new FakeClusterClient()).renew(
          { spiffeId, serialHex: 'abc123' },
          (await createTestCsr()).pem,
        ),
      ),
    ).toBe('ATT_ERR_AGENT_BANNED')
  })

  it('tells a k8s_psat agent to attest again', async () => {
    const { client, token } = psatScenario()
    const { agent } = await service(client).attest({
      attestation: { type: 'k8s_psat', payload: { cluster: 'demo', token } },
      csr: (await createTestCsr()).pem,
    })
    const serialHex = (await store.getAgent(agent.spiffeId))?.svidSerial ?? ''
    expect(
      await codeOf(
        service(client).renew({ spiffeId: agent.spiffeId, serialHex }, (await createTestCsr()).pem),
      ),
    ).toBe('ATT_ERR_REATTESTATION_REQUIRED')
  })

  it('refuses an SVID that is not the current one', async () => {
    const spiffeId = await recordSatAgent('abc123')
    expect(
      await codeOf(
        service(new FakeClusterClient()).renew(
          { spiffeId, serialHex: 'abc122' },
          (await createTestCsr()).pem,
        ),
      ),
    ).toBe('ATT_ERR_SVID_NOT_CURRENT')
  })

  it('renews the current SVID, recording the new serial', async () => {
    const spiffeId = await recordSatAgent('abc123')
    const outcome = await service(new FakeClusterClient()).renew(
      { spiffeId, serialHex: 'abc123' },
      (await createTestCsr()).pem,
    )
    expect(outcome.agent).toMatchObject({
      spiffeId,
      attestor: 'k8s_sat',
      serviceAccount: 'spire:spire-agent',
    })
    expect((await store.getAgent(spiffeId))?.svidSerial).not.toBe('abc123')
  })

  it('refuses the loser of two concurrent renewals with the same SVID', async () => {
    const spiffeId = await recordSatAgent('abc123')
    // Another server renewed between this one's read and its compare-and-set.
    const racing: AgentStore = {
      recordAttestation: (input, options) => store.recordAttestation(input, options),
      getAgent: (id) => store.getAgent(id),
      listAgents: (query) => store.listAgents(query),
      evictAgent: (id) => store.evictAgent(id),
      banAgent: (id) => store.banAgent(id),
      countAgents: () => store.countAgents(),
      claimSatToken: (fingerprint, expiresAt) => store.claimSatToken(fingerprint, expiresAt),
      pruneSatTokenClaims: () => store.pruneSatTokenClaims(),
      ping: () => store.ping(),
      close: () => store.close(),
      async updateSvid(id, update) {
        await store.updateSvid(id, { serial: 'fff', expiresAt: update.expiresAt })
        return store.updateSvid(id, update)
      },
    }
    expect(
      await codeOf(
        service(new FakeClusterClient(), racing).renew(
          { spiffeId, serialHex: 'abc123' },
          (await createTestCsr()).pem,
        ),
      ),
    ).toBe('ATT_ERR_SVID_NOT_CURRENT')
  })
})
