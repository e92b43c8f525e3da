import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { attestRefusal } from '../../test/attest-refusal.ts'
import { psatClusterConfig } from '../../test/psat-cluster-config.ts'
import { jwksScenario } from '../../test/psat-jwks-fixture.ts'
import type { PsatClusterConfig } from '../config/server-config.ts'
import { attestPsat } from './attest-psat.ts'
import { PsatJwksVerifier } from './psat-jwks-verifier.ts'

const CLUSTER: PsatClusterConfig = psatClusterConfig({ tokenVerification: 'jwks' })

/** The scenario, a verifier over its client, and an attestation of `token` with both. */
async function setup(cluster: PsatClusterConfig = CLUSTER) {
  const scenario = await jwksScenario()
  const jwks = new PsatJwksVerifier({
    cluster: cluster.name,
    audiences: cluster.audience,
    fetchKeys: (options) => scenario.client.getIssuerKeys(options),
  })
  const attest = (token: string) =>
    attestPsat({ trustDomain: 'example.org', cluster, client: scenario.client, token, jwks })
  return { ...scenario, attest }
}

// One test per rejection branch of JWKS mode, in the order the checks run; the token checks
// themselves (signature, kid, issuer, audience, times) are in psat-jwks-verifier.test.ts.
describe('attestPsat in JWKS mode', () => {
  it('attests with no TokenReview: only the issuer keys, then the service account, pod and node lookups', async () => {
    const { attest, token, client, node, pod, serviceAccount } = await setup()
    const jti = randomUUID()
    const agent = await attest(await token({ claims: { jti } }))
    expect(agent).toMatchObject({
      attestor: 'k8s_psat',
      cluster: 'demo',
      spiffeId: `spiffe://example.org/spire/agent/k8s_psat/demo/${node.uid}`,
      serviceAccount: 'spire:spire-agent',
      credentialId: `JTI=${jti}`,
    })
    expect(agent.selectors).toContainEqual({ type: 'k8s_psat', value: `agent_pod_uid:${pod.uid}` })
    expect(client.calls).toEqual([
      'getIssuerKeys',
      'getServiceAccount spire/spire-agent',
      'getPod spire/agent-1',
      'getNode node-a',
    ])
    // Each lookup names the UID the token is bound to, so a cache holding another asks the API.
    expect(Object.fromEntries(client.expectedUids)).toEqual({
      'getServiceAccount spire/spire-agent': serviceAccount.uid,
      'getPod spire/agent-1': pod.uid,
      'getNode node-a': node.uid,
    })
    client.calls.length = 0
    await attest(await token())
    expect(client.calls).not.toContain('getIssuerKeys')
    expect(client.calls.some((call) => call.startsWith('reviewToken'))).toBe(false)
  })

  it('refuses a token whose signature does not verify, before any lookup', async () => {
    const { attest, token, client } = await setup()
    const [header, payload] = (await token()).split('.')
    const error = await attestRefusal(
      attest(`${header}.${payload}.${Buffer.from('forged').toString('base64url')}`),
    )
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(error.details).toMatchObject({ check: 'signature' })
    expect(client.calls).toEqual(['getIssuerKeys'])
  })

  it('refuses a verified token that is not bound to a pod', async () => {
    const { attest, token, serviceAccount } = await setup()
    const claims = {
      'kubernetes.io': {
        namespace: 'spire',
        serviceaccount: { name: serviceAccount.name, uid: serviceAccount.uid },
      },
    }
    const error = await attestRefusal(attest(await token({ claims })))
    expect(error.code).toBe('ATT_ERR_TOKEN_INVALID')
    expect(error.details).toMatchObject({ check: 'pod_binding', value: 'spire:spire-agent' })
  })

  it('refuses a service account that is not allow-listed', async () => {
    const { attest, token } = await setup({ ...CLUSTER, serviceAccountAllowList: ['spire:other'] })
    const error = await attestRefusal(attest(await token()))
    expect(error.code).toBe('ATT_ERR_SA_NOT_ALLOWED')
    expect(error.details).toMatchObject({ check: 'service_account_allow_list', value: 'spire:spire-agent' })
  })

  it('refuses a token whose service account is gone', async () => {
    const { attest, token, client } = await setup()
    client.serviceAccounts.clear()
    const error = await attestRefusal(attest(await token()))
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(error.details).toMatchObject({ check: 'service_account_exists', value: 'spire:spire-agent' })
  })

  it('refuses a token whose service account was recreated (another UID)', async () => {
    const { attest, token, client, serviceAccount } = await setup()
    const recreated = { ...serviceAccount, uid: randomUUID() }
    client.serviceAccounts.set('spire/spire-agent', recreated)
    const error = await attestRefusal(attest(await token()))
    expect(error.code).toBe('ATT_ERR_SA_UID_MISMATCH')
    expect(error.details).toMatchObject({
      check: 'service_account_uid',
      value: serviceAccount.uid,
      expected: recreated.uid,
    })
  })

  it('refuses a token whose pod is gone', async () => {
    const { attest, token, client } = await setup()
    client.pods.clear()
    const error = await attestRefusal(attest(await token()))
    expect(error.code).toBe('ATT_ERR_POD_NOT_FOUND')
    expect(error.details).toMatchObject({ check: 'pod_exists', value: 'spire/agent-1' })
  })

  it('refuses a token whose pod was recreated (another UID)', async () => {
    const { attest, token, client, pod } = await setup()
    const recreated = { ...pod, uid: randomUUID() }
    client.pods.set('spire/agent-1', recreated)
    const error = await attestRefusal(attest(await token()))
    expect(error.code).toBe('ATT_ERR_POD_UID_MISMATCH')
    expect(error.details).toMatchObject({ check: 'pod_uid', value: recreated.uid, expected: pod.uid })
  })

  it('refuses a token bound to a node the pod is not on any more (the node was recreated)', async () => {
    const { attest, token, client, node } = await setup()
    const recreated = { ...node, uid: randomUUID() }
    client.nodes.set('node-a', recreated)
    const error = await attestRefusal(attest(await token()))
    expect(error.code).toBe('ATT_ERR_NODE_NOT_FOUND')
    expect(error.details).toMatchObject({
      check: 'node_binding',
      value: `node-a/${recreated.uid}`,
      expected: `node-a/${node.uid}`,
    })
  })
})

describe('attestPsat in JWKS mode, a terminating pod', () => {
  it('accepts it until 60 s past its deletionTimestamp, as kube-apiserver does, then refuses it', async () => {
    const scenario = await jwksScenario()
    const deletion = new Date()
    scenario.client.pods.set('spire/agent-1', { ...scenario.pod, deletionTimestamp: deletion })
    const jwks = new PsatJwksVerifier({
      cluster: 'demo',
      audiences: ['spire-server'],
      fetchKeys: (options) => scenario.client.getIssuerKeys(options),
    })
    const attestAt = async (ms: number) =>
      attestPsat({
        trustDomain: 'example.org',
        cluster: CLUSTER,
        client: scenario.client,
        token: await scenario.token(),
        jwks,
        now: () => new Date(deletion.getTime() + ms),
      })
    await expect(attestAt(60_000)).resolves.toMatchObject({ cluster: 'demo' })
    const error = await attestRefusal(attestAt(60_001))
    expect(error.code).toBe('ATT_ERR_POD_NOT_FOUND')
    expect(error.details).toMatchObject({ check: 'pod_terminating', value: deletion.toISOString() })
  })
})
