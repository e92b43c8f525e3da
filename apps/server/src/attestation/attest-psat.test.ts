import { AttestError } from '@k8s-attest/core'
import { describe, expect, it } from 'vitest'
import { attestRefusal } from '../../test/attest-refusal.ts'
import { psatClusterConfig } from '../../test/psat-cluster-config.ts'
import { psatScenario } from '../../test/psat-fixture.ts'
import { unsignedToken } from '../../test/tokens.ts'
import type { PsatClusterConfig } from '../config/server-config.ts'
import { attestPsat } from './attest-psat.ts'

const CLUSTER: PsatClusterConfig = psatClusterConfig({
  allowedNodeLabelKeys: ['topology.kubernetes.io/zone'],
  allowedPodLabelKeys: ['app'],
})

// One test per rejection branch, in the order the checks run (SPIRE's TestAttestFailsIf…).
describe('attestPsat', () => {
  it('refuses a token that is not a JWT before asking the API server', async () => {
    const { client } = psatScenario()
    const error = await attestRefusal(
      attestPsat({ trustDomain: 'example.org', cluster: CLUSTER, client, token: 'garbage' }),
    )
    expect(error.code).toBe('ATT_ERR_TOKEN_MALFORMED')
    expect(client.calls).toEqual([])
  })

  it('refuses a token whose own aud claim names none of the cluster audiences, before any review', async () => {
    // kube-apiserver refuses such a token inside the review ("invalid bearer token, token
    // audiences [...] is invalid for the target audiences [...]"), with no authenticated key.
    const { client, token } = psatScenario()
    const cluster = { ...CLUSTER, audience: ['other-audience', 'third'] }
    const error = await attestRefusal(attestPsat({ trustDomain: 'example.org', cluster, client, token }))
    expect(error.code).toBe('ATT_ERR_AUDIENCE_MISMATCH')
    expect(error.details).toMatchObject({
      check: 'token_audiences',
      cluster: 'demo',
      value: 'spire-server',
      expected: 'other-audience,third',
    })
    expect(client.calls).toEqual([])
  })

  it('propagates a TokenReview failure', async () => {
    const { client, token } = psatScenario()
    const failure = new AttestError('ATT_ERR_KUBE_API_UNAVAILABLE', 'down', {
      check: 'kube_api',
      cluster: 'demo',
    })
    client.failures.set('reviewToken', failure)
    await expect(attestPsat({ trustDomain: 'example.org', cluster: CLUSTER, client, token })).rejects.toBe(
      failure,
    )
  })

  it('refuses a token the TokenReview did not authenticate, asking for the configured audiences', async () => {
    const { client, token } = psatScenario()
    client.reviews.set(token, {
      user: {},
      error: '[invalid bearer token, service account token has expired]',
    })
    const error = await attestRefusal(
      attestPsat({ trustDomain: 'example.org', cluster: CLUSTER, client, token }),
    )
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(error.message).toContain('service account token has expired')
    expect(client.calls).toEqual(['reviewToken [spire-server]'])
  })

  it('refuses when status.audiences holds none of the requested audiences', async () => {
    const { client, token, review } = psatScenario()
    client.reviews.set(token, { ...review, audiences: ['other'] })
    const error = await attestRefusal(
      attestPsat({ trustDomain: 'example.org', cluster: CLUSTER, client, token }),
    )
    expect(error.code).toBe('ATT_ERR_AUDIENCE_MISMATCH')
    expect(error.details).toMatchObject({ check: 'audiences', cluster: 'demo', value: 'other' })
  })

  it('refuses a username that is not strictly system:serviceaccount:<ns>:<sa>', async () => {
    const { client, token, review } = psatScenario()
    client.reviews.set(token, {
      ...review,
      user: { ...review.user, username: 'system:serviceaccount:spire:spire-agent:x' },
    })
    const error = await attestRefusal(
      attestPsat({ trustDomain: 'example.org', cluster: CLUSTER, client, token }),
    )
    expect(error.code).toBe('ATT_ERR_USERNAME_INVALID')
  })

  it('refuses a token that is not bound to a pod', async () => {
    const { client, token, review } = psatScenario()
    client.reviews.set(token, { ...review, user: { ...review.user, extra: {} } })
    const error = await attestRefusal(
      attestPsat({ trustDomain: 'example.org', cluster: CLUSTER, client, token }),
    )
    expect(error.code).toBe('ATT_ERR_TOKEN_INVALID')
    expect(error.details.check).toBe('pod_binding')
  })

  it("refuses when the reviewed service account UID is not the token's claim", async () => {
    const { client, token, review } = psatScenario()
    client.reviews.set(token, { ...review, user: { ...review.user, uid: 'recreated-uid' } })
    const error = await attestRefusal(
      attestPsat({ trustDomain: 'example.org', cluster: CLUSTER, client, token }),
    )
    expect(error.code).toBe('ATT_ERR_SA_UID_MISMATCH')
    expect(error.details).toMatchObject({ check: 'service_account_uid', expected: 'recreated-uid' })
  })

  it('refuses a service account that is not on the allow-list', async () => {
    const { client, token } = psatScenario()
    const cluster = { ...CLUSTER, serviceAccountAllowList: ['spire:other'] }
    const error = await attestRefusal(attestPsat({ trustDomain: 'example.org', cluster, client, token }))
    expect(error.code).toBe('ATT_ERR_SA_NOT_ALLOWED')
    expect(error.details).toMatchObject({ cluster: 'demo', value: 'spire:spire-agent' })
    expect(client.calls).toEqual(['reviewToken [spire-server]'])
  })

  it('refuses when the pod no longer exists', async () => {
    const { client, token } = psatScenario()
    client.pods.clear()
    const error = await attestRefusal(
      attestPsat({ trustDomain: 'example.org', cluster: CLUSTER, client, token }),
    )
    expect(error.code).toBe('ATT_ERR_POD_NOT_FOUND')
    expect(error.details).toMatchObject({ check: 'pod_exists', value: 'spire/agent-1' })
  })

  it('refuses when the pod was recreated under the same name (another UID)', async () => {
    const { client, token, pod } = psatScenario()
    client.pods.set('spire/agent-1', { ...pod, uid: 'new-pod-uid' })
    const error = await attestRefusal(
      attestPsat({ trustDomain: 'example.org', cluster: CLUSTER, client, token }),
    )
    expect(error.code).toBe('ATT_ERR_POD_UID_MISMATCH')
    expect(error.details).toMatchObject({ check: 'pod_uid', value: 'new-pod-uid', expected: pod.uid })
  })

  it('refuses a pod that is not scheduled to a node', async () => {
    const { client, token, pod } = psatScenario()
    client.pods.set('spire/agent-1', { ...pod, nodeName: '' })
    const error = await attestRefusal(
      attestPsat({ trustDomain: 'example.org', cluster: CLUSTER, client, token }),
    )
    expect(error.code).toBe('ATT_ERR_NODE_NOT_FOUND')
    expect(error.details.check).toBe('pod_node_name')
  })

  it("refuses when the pod's node does not exist", async () => {
    const { client, token } = psatScenario()
    client.nodes.clear()
    const error = await attestRefusal(
      attestPsat({ trustDomain: 'example.org', cluster: CLUSTER, client, token }),
    )
    expect(error.code).toBe('ATT_ERR_NODE_NOT_FOUND')
    expect(error.details).toMatchObject({ check: 'node_exists', value: 'node-a' })
  })

  it('refuses a node without a UID', async () => {
    const { client, token, node } = psatScenario()
    client.nodes.set('node-a', { ...node, uid: '' })
    const error = await attestRefusal(
      attestPsat({ trustDomain: 'example.org', cluster: CLUSTER, client, token }),
    )
    expect(error.code).toBe('ATT_ERR_NODE_UID_MISSING')
  })

  it("mints SPIRE's node-UID agent ID and selectors, with allowed labels only", async () => {
    const { client, token, pod, node, review } = psatScenario()
    const agent = await attestPsat({ trustDomain: 'example.org', cluster: CLUSTER, client, token })
    expect(agent).toMatchObject({
      attestor: 'k8s_psat',
      cluster: 'demo',
      spiffeId: `spiffe://example.org/spire/agent/k8s_psat/demo/${node.uid}`,
      serviceAccount: 'spire:spire-agent',
      reattestable: true,
    })
    expect(agent.singleUseToken).toBeUndefined()
    expect(agent.credentialId).toBe(review.user?.extra?.['authentication.kubernetes.io/credential-id']?.[0])
    expect(agent.credentialId).toMatch(/^JTI=/)
    expect(agent.selectors.map((s) => s.value)).toEqual([
      'agent_node_ip:10.0.0.7',
      'agent_node_label:topology.kubernetes.io/zone:eu-1a',
      'agent_node_name:node-a',
      `agent_node_uid:${node.uid}`,
      'agent_ns:spire',
      'agent_pod_label:app:spire-agent',
      'agent_pod_name:agent-1',
      `agent_pod_uid:${pod.uid}`,
      'agent_sa:spire-agent',
      'cluster:demo',
    ])
    expect(client.calls).toEqual(['reviewToken [spire-server]', 'getPod spire/agent-1', 'getNode node-a'])
  })

  it('ends the ID with the pod UID when use_pod_uid_for_agent_id is set', async () => {
    const { client, token, pod } = psatScenario()
    const agent = await attestPsat({
      trustDomain: 'example.org',
      cluster: { ...CLUSTER, usePodUidForAgentId: true },
      client,
      token,
    })
    expect(agent.spiffeId).toBe(`spiffe://example.org/spire/agent/k8s_psat/demo/pod/${pod.uid}`)
  })

  it('passes an empty audience list through (the API server audiences)', async () => {
    const { client, token, review } = psatScenario()
    client.reviews.set(token, { ...review, audiences: [] })
    const agent = await attestPsat({
      trustDomain: 'example.org',
      cluster: { ...CLUSTER, audience: [] },
      client,
      token,
    })
    expect(agent.attestor).toBe('k8s_psat')
    expect(client.calls[0]).toBe('reviewToken []')
  })

  it('uses names from the review, not from unverified claims', async () => {
    const { client, review, pod } = psatScenario()
    const lying = unsignedToken({
      aud: ['spire-server'],
      exp: Math.floor(Date.now() / 1000) + 600,
      iat: Math.floor(Date.now() / 1000),
      iss: 'https://kubernetes.default.svc.cluster.local',
      'kubernetes.io': {
        namespace: 'spire',
        pod: { name: 'other-pod', uid: 'other-uid' },
        serviceaccount: { name: 'spire-agent', uid: review.user?.uid ?? '' },
      },
      sub: 'system:serviceaccount:spire:spire-agent',
    })
    client.reviews.set(lying, review)
    const agent = await attestPsat({ trustDomain: 'example.org', cluster: CLUSTER, client, token: lying })
    expect(agent.selectors).toContainEqual({ type: 'k8s_psat', value: `agent_pod_uid:${pod.uid}` })
  })
})
