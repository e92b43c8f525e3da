import { X509Certificate } from 'node:crypto'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMetricsListener } from '../src/metrics/metrics-listener.ts'
import { expectProblem } from './expect-problem.ts'
import { KubeWorld } from './kube-world.ts'
import { newAgentKey, type RunningServer, startServer } from './server-harness.ts'
import { respelledSignature } from './tokens.ts'

/*
 * The attestation server end to end: built by buildApp, listening on 127.0.0.1:0 over TLS,
 * talking to two Kubernetes test APIs (RS256- and ES256-signing) through the real
 * KubeClusterClient, called over HTTPS with undici trusting the server's CA.
 */

let demo: KubeWorld
let demoEc: KubeWorld
let server: RunningServer
/** Every token sent in this file, to check none reaches the log. */
const tokensSent: string[] = []

beforeAll(async () => {
  demo = await KubeWorld.start({ signingAlgorithm: 'RS256' })
  demoEc = await KubeWorld.start({ signingAlgorithm: 'ES256' })
  server = await startServer({
    clusters: {
      psat: {
        demo: { world: demo },
        'demo-ec': { world: demoEc },
        custom: {
          world: demo,
          config: { audience: ['custom-aud', 'second-aud'], usePodUidForAgentId: true },
        },
        // The same cluster with a short API deadline, for an API server that never answers.
        'demo-deadline': { world: demo, config: { kubeApiTimeoutMs: 1_000 } },
      },
      satReview: { legacy: demo },
      satKeys: { 'legacy-keys': demo },
    },
  })
})

afterAll(async () => {
  await server?.close()
  await demo?.stop()
  await demoEc?.stop()
})

function sent(token: string): string {
  tokensSent.push(token)
  return token
}

async function attestPsat(cluster: string, token: string, csrPem?: string) {
  return server.attest('k8s_psat', cluster, sent(token), csrPem ?? (await newAgentKey()).csrPem)
}

/** Runs `attempt` and asserts it stored nothing. */
async function storesNothing<T>(attempt: () => Promise<T>): Promise<T> {
  const before = await server.store.listAgents({ pageSize: 1000 })
  const result = await attempt()
  expect(await server.store.listAgents({ pageSize: 1000 })).toEqual(before)
  return result
}

function leafOf(response: { body: Record<string, unknown> }): X509Certificate {
  const [leaf] = response.body.svid as string[]
  return new X509Certificate(leaf ?? '')
}

describe('k8s_psat', () => {
  it('attests an agent with an RSA-signed token: node-UID ID, selectors with allowed labels, stored', async () => {
    const agent = demo.newAgentPod({
      nodeLabels: { 'topology.kubernetes.io/zone': 'eu-1a', secret: 'no' },
      podLabels: { app: 'spire-agent', other: 'no' },
    })
    const response = await attestPsat('demo', agent.token)
    expect(response.status).toBe(200)
    const spiffeId = `spiffe://example.org/spire/agent/k8s_psat/demo/${agent.nodeUid}`
    expect(response.body).toMatchObject({ spiffe_id: spiffeId, reattestable: true })
    expect((response.body.selectors as { value: string }[]).map((s) => s.value)).toEqual([
      'agent_node_ip:10.0.0.7',
      'agent_node_label:topology.kubernetes.io/zone:eu-1a',
      `agent_node_name:${agent.nodeName}`,
      `agent_node_uid:${agent.nodeUid}`,
      'agent_ns:spire',
      'agent_pod_label:app:spire-agent',
      `agent_pod_name:${agent.podName}`,
      `agent_pod_uid:${agent.podUid}`,
      'agent_sa:spire-agent',
      'cluster:demo',
    ])
    const leaf = leafOf(response)
    expect(leaf.subjectAltName).toBe(`URI:${spiffeId}`)
    expect(leaf.checkIssued(new X509Certificate(server.ca.signingCertificatePem))).toBe(true)
    expect(response.body.bundle).toEqual(server.ca.bundle().certificatesPem)
    expect(response.body.expires_at).toBe(new Date(leaf.validTo).toISOString())
    const record = await server.store.getAgent(spiffeId)
    expect(record).toMatchObject({
      attestor: 'k8s_psat',
      cluster: 'demo',
      banned: false,
      svidSerial: leaf.serialNumber.toLowerCase().replace(/^0+/, ''),
    })
  })

  it('attests an agent with an EC-signed token of another cluster', async () => {
    const agent = demoEc.newAgentPod()
    const response = await attestPsat('demo-ec', agent.token)
    expect(response.status).toBe(200)
    expect(response.body.spiffe_id).toBe(`spiffe://example.org/spire/agent/k8s_psat/demo-ec/${agent.nodeUid}`)
  })

  it('checks custom audiences and mints pod-UID IDs where configured', async () => {
    const agent = demo.newAgentPod({ audiences: ['second-aud'] })
    const response = await attestPsat('custom', agent.token)
    expect(response.status).toBe(200)
    expect(response.body.spiffe_id).toBe(
      `spiffe://example.org/spire/agent/k8s_psat/custom/pod/${agent.podUid}`,
    )
  })

  it('certifies the minted ID only, whatever SPIFFE ID the CSR asks for', async () => {
    const agent = demo.newAgentPod()
    const { csrPem } = await newAgentKey({ requestedUri: 'spiffe://example.org/spire/server' })
    const response = await attestPsat('demo', agent.token, csrPem)
    expect(response.status).toBe(200)
    expect(leafOf(response).subjectAltName).toBe(
      `URI:spiffe://example.org/spire/agent/k8s_psat/demo/${agent.nodeUid}`,
    )
  })

  it('refuses a CSR with a bad signature', async () => {
    const agent = demo.newAgentPod()
    const { csrPem } = await newAgentKey()
    const der = Buffer.from(csrPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')
    der[der.length - 3] = (der[der.length - 3] ?? 0) ^ 0x01
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`
    const response = await storesNothing(() => attestPsat('demo', agent.token, tampered))
    expect(expectProblem(response, 400, 'ATT_ERR_CSR_INVALID').check).toBe('csr_signature')
  })

  it('refuses a token that is not a JWT (400)', async () => {
    const response = await storesNothing(() => attestPsat('demo', 'definitely-not-a-jwt'))
    expectProblem(response, 400, 'ATT_ERR_TOKEN_MALFORMED')
  })

  it('refuses a cluster it is not configured for (400)', async () => {
    const agent = demo.newAgentPod()
    const response = await storesNothing(() => attestPsat('nowhere', agent.token))
    expect(expectProblem(response, 400, 'ATT_ERR_UNKNOWN_CLUSTER')).toMatchObject({
      cluster: 'nowhere',
      check: 'cluster_configured',
    })
  })

  it('refuses an expired token (401, kube-apiserver says why)', async () => {
    const agent = demo.newAgentPod()
    const now = Math.floor(Date.now() / 1000)
    const expired = demo.api.signToken({
      aud: ['spire-server'],
      exp: now - 60,
      iat: now - 4000,
      nbf: now - 4000,
      iss: demo.api.issuer,
      'kubernetes.io': {
        namespace: 'spire',
        pod: { name: agent.podName, uid: agent.podUid },
        serviceaccount: {
          name: 'spire-agent',
          uid: demo.api.getObject('serviceaccounts', 'spire-agent', 'spire').uid,
        },
      },
      sub: 'system:serviceaccount:spire:spire-agent',
    })
    const response = await storesNothing(() => attestPsat('demo', expired))
    expect(expectProblem(response, 401, 'ATT_ERR_TOKEN_NOT_AUTHENTICATED')).toMatchObject({
      check: 'authenticated',
      cluster: 'demo',
    })
    expect(response.body.detail).toContain('expired')
  })

  it('refuses a token for another audience as ATT_ERR_AUDIENCE_MISMATCH (403), without a TokenReview', async () => {
    const agent = demo.newAgentPod({ audiences: ['someone-else'] })
    demo.api.counters.reset()
    const response = await storesNothing(() => attestPsat('demo', agent.token))
    expect(expectProblem(response, 403, 'ATT_ERR_AUDIENCE_MISMATCH')).toMatchObject({
      check: 'token_audiences',
      cluster: 'demo',
      value: 'someone-else',
      expected: 'spire-server',
    })
    expect(demo.api.counters.requests({ verb: 'create', resource: 'tokenreviews' })).toBe(0)
  })

  it('refuses the token of another cluster (401)', async () => {
    const agent = demoEc.newAgentPod()
    const response = await storesNothing(() => attestPsat('demo', agent.token))
    expect(expectProblem(response, 401, 'ATT_ERR_TOKEN_NOT_AUTHENTICATED').cluster).toBe('demo')
  })

  it('refuses a token bound to no pod (401)', async () => {
    const { token } = demo.api.requestToken({
      namespace: 'spire',
      serviceAccount: 'spire-agent',
      audiences: ['spire-server'],
    })
    const response = await storesNothing(() => attestPsat('demo', token))
    expect(expectProblem(response, 401, 'ATT_ERR_TOKEN_INVALID').check).toBe('pod_binding')
  })

  it('refuses a service account not on the allow-list (403), naming it', async () => {
    const agent = demo.newAgentPod({ serviceAccount: 'intruder' })
    const response = await storesNothing(() => attestPsat('demo', agent.token))
    expect(expectProblem(response, 403, 'ATT_ERR_SA_NOT_ALLOWED')).toMatchObject({
      check: 'service_account_allow_list',
      cluster: 'demo',
      value: 'spire:intruder',
    })
  })

  it('refuses a token whose pod was deleted after issuance, although the API server still accepts it', async () => {
    const agent = demo.newAgentPod()
    expect((await attestPsat('demo', agent.token)).status).toBe(200)
    demo.api.deleteObject('pods', agent.podName, { namespace: 'spire', gracePeriodSeconds: 0 })
    // kube-apiserver (and the test API) remember the successful review for 10 s: only the pod GET notices.
    const response = await storesNothing(() => attestPsat('demo', agent.token))
    expect(expectProblem(response, 403, 'ATT_ERR_POD_NOT_FOUND').value).toBe(`spire/${agent.podName}`)
  })

  it('refuses a token whose pod was recreated under the same name (403)', async () => {
    const agent = demo.newAgentPod()
    expect((await attestPsat('demo', agent.token)).status).toBe(200)
    demo.api.deleteObject('pods', agent.podName, { namespace: 'spire', gracePeriodSeconds: 0 })
    const recreated = demo.api.createPod({
      namespace: 'spire',
      name: agent.podName,
      serviceAccountName: 'spire-agent',
      nodeName: agent.nodeName,
    })
    const response = await storesNothing(() => attestPsat('demo', agent.token))
    expect(expectProblem(response, 403, 'ATT_ERR_POD_UID_MISMATCH')).toMatchObject({
      check: 'pod_uid',
      value: recreated.uid,
      expected: agent.podUid,
    })
  })

  it("refuses when the pod's node is gone (403)", async () => {
    const agent = demo.newAgentPod()
    expect((await attestPsat('demo', agent.token)).status).toBe(200)
    demo.api.deleteObject('nodes', agent.nodeName)
    const response = await storesNothing(() => attestPsat('demo', agent.token))
    expectProblem(response, 403, 'ATT_ERR_NODE_NOT_FOUND')
  })

  it('refuses a banned agent and stores nothing; after eviction it attests again', async () => {
    const agent = demo.newAgentPod()
    const first = await attestPsat('demo', agent.token)
    const spiffeId = first.body.spiffe_id as string
    await server.store.banAgent(spiffeId)
    const banned = await storesNothing(() => attestPsat('demo', demo.tokenFor(agent)))
    expect(expectProblem(banned, 403, 'ATT_ERR_AGENT_BANNED').value).toBe(spiffeId)
    expect(await server.store.evictAgent(spiffeId)).toBe(true)
    const again = await attestPsat('demo', demo.tokenFor(agent))
    expect(again.status).toBe(200)
    expect(await server.store.getAgent(spiffeId)).toMatchObject({ banned: false })
  })

  it('re-attests a known agent, keeping its first attestation time', async () => {
    const agent = demo.newAgentPod()
    const first = await attestPsat('demo', agent.token)
    const before = await server.store.getAgent(first.body.spiffe_id as string)
    const second = await attestPsat('demo', demo.tokenFor(agent))
    expect(second.body.spiffe_id).toBe(first.body.spiffe_id)
    const after = await server.store.getAgent(first.body.spiffe_id as string)
    expect(after?.firstAttestedAt).toEqual(before?.firstAttestedAt)
    expect(after?.svidSerial).not.toBe(before?.svidSerial)
  })
})

describe('k8s_sat', () => {
  it('attests with a legacy token in TokenReview mode, once', async () => {
    const token = sent(demo.api.createLegacyTokenSecret('spire', 'agent-token-review', 'spire-agent'))
    const response = await server.attest('k8s_sat', 'legacy', token, (await newAgentKey()).csrPem)
    expect(response.status).toBe(200)
    expect(response.body.spiffe_id).toMatch(
      /^spiffe:\/\/example\.org\/spire\/agent\/k8s_sat\/legacy\/[0-9a-f-]{36}$/,
    )
    expect(response.body).toMatchObject({ reattestable: false })
    const replay = await storesNothing(async () =>
      server.attest('k8s_sat', 'legacy', token, (await newAgentKey()).csrPem),
    )
    expect(expectProblem(replay, 403, 'ATT_ERR_TOKEN_REPLAYED').check).toBe('single_use_token')
  })

  it('attests with a legacy token verified by the local key, once', async () => {
    const token = sent(demo.api.createLegacyTokenSecret('spire', 'agent-token-keys', 'spire-agent'))
    const response = await server.attest('k8s_sat', 'legacy-keys', token, (await newAgentKey()).csrPem)
    expect(response.status).toBe(200)
    expect(response.body.spiffe_id).toMatch(/\/k8s_sat\/legacy-keys\//)
    const replay = await storesNothing(async () =>
      server.attest('k8s_sat', 'legacy-keys', token, (await newAgentKey()).csrPem),
    )
    expectProblem(replay, 403, 'ATT_ERR_TOKEN_REPLAYED')
  })

  // A legacy token must equal the API server's copy, so only local key mode would take it
  // respelled; projected tokens have no copy, so TokenReview mode would take them.
  it.each([
    [
      'a projected token in TokenReview mode',
      'legacy',
      () =>
        demo.api.requestToken({
          namespace: 'spire',
          serviceAccount: 'spire-agent',
          audiences: [...demo.api.apiAudiences],
        }).token,
    ],
    [
      'a legacy token in local key mode',
      'legacy-keys',
      () => demo.api.createLegacyTokenSecret('spire', 'agent-token-respelled', 'spire-agent'),
    ],
  ])('refuses a replay of %s with its signature spelled differently', async (_case, cluster, newToken) => {
    const token = sent(newToken())
    const first = await server.attest('k8s_sat', cluster, token, (await newAgentKey()).csrPem)
    expect(first.status).toBe(200)
    const replay = await storesNothing(async () =>
      server.attest('k8s_sat', cluster, sent(respelledSignature(token)), (await newAgentKey()).csrPem),
    )
    expectProblem(replay, 403, 'ATT_ERR_TOKEN_REPLAYED')
  })

  it('does not spend a token on a refused attempt', async () => {
    const token = sent(demo.api.createLegacyTokenSecret('spire', 'agent-token-retry', 'spire-agent'))
    const refused = await storesNothing(() => server.attest('k8s_sat', 'legacy', token, 'not a csr'))
    expectProblem(refused, 400, 'ATT_ERR_CSR_INVALID')
    expect((await server.attest('k8s_sat', 'legacy', token, (await newAgentKey()).csrPem)).status).toBe(200)
  })

  it('refuses a forged token in local key mode (401)', async () => {
    const stranger = await KubeWorld.start()
    try {
      const forged = sent(stranger.api.createLegacyTokenSecret('spire', 'forged', 'spire-agent'))
      const response = await storesNothing(async () =>
        server.attest('k8s_sat', 'legacy-keys', forged, (await newAgentKey()).csrPem),
      )
      expect(expectProblem(response, 401, 'ATT_ERR_TOKEN_NOT_AUTHENTICATED').check).toBe('signature')
    } finally {
      await stranger.stop()
    }
  })
})

describe('renewal over mTLS', () => {
  async function satAgent(secretName: string) {
    const key = await newAgentKey()
    const token = sent(demo.api.createLegacyTokenSecret('spire', secretName, 'spire-agent'))
    const response = await server.attest('k8s_sat', 'legacy', token, key.csrPem)
    expect(response.status).toBe(200)
    const svid = (response.body.svid as string[]).join('\n')
    return { key, svid, spiffeId: response.body.spiffe_id as string }
  }

  async function renew(credentials: { svid: string; key: { keyPem: string } }, csrPem?: string) {
    const dispatcher = server.client({ cert: credentials.svid, key: credentials.key.keyPem })
    try {
      return await server.request('POST', '/v1/renew', {
        body: { csr: csrPem ?? (await newAgentKey()).csrPem },
        dispatcher,
      })
    } finally {
      await dispatcher.close()
    }
  }

  it('renews a k8s_sat agent presenting its current SVID, and refuses the replaced one', async () => {
    const agent = await satAgent('renew-ok')
    const response = await renew(agent)
    expect(response.status).toBe(200)
    expect(response.body).toMatchObject({ spiffe_id: agent.spiffeId, reattestable: false })
    const serial = leafOf(response).serialNumber.toLowerCase().replace(/^0+/, '')
    expect((await server.store.getAgent(agent.spiffeId))?.svidSerial).toBe(serial)
    const stale = await storesNothing(() => renew(agent))
    expect(expectProblem(stale, 401, 'ATT_ERR_SVID_NOT_CURRENT').check).toBe('svid_serial')
  })

  it('tells a k8s_psat agent to re-attest', async () => {
    const pod = demo.newAgentPod()
    const key = await newAgentKey()
    const attested = await attestPsat('demo', pod.token, key.csrPem)
    const response = await storesNothing(() =>
      renew({ svid: (attested.body.svid as string[]).join('\n'), key }),
    )
    expectProblem(response, 403, 'ATT_ERR_REATTESTATION_REQUIRED')
  })

  it('refuses a banned agent, and an evicted one', async () => {
    const agent = await satAgent('renew-banned')
    await server.store.banAgent(agent.spiffeId)
    expectProblem(await storesNothing(() => renew(agent)), 403, 'ATT_ERR_AGENT_BANNED')
    await server.store.evictAgent(agent.spiffeId)
    expectProblem(await storesNothing(() => renew(agent)), 404, 'ATT_ERR_AGENT_NOT_FOUND')
  })

  it('refuses a caller without a client certificate', async () => {
    const response = await server.request('POST', '/v1/renew', {
      body: { csr: (await newAgentKey()).csrPem },
    })
    expect(expectProblem(response, 401, 'ATT_ERR_UNAUTHENTICATED').check).toBe(
      'client_certificate_no_certificate',
    )
  })
})

describe('Kubernetes API failures', () => {
  it('answers 503 with the API server’s Retry-After when it is overloaded', async () => {
    const agent = demo.newAgentPod()
    const fault = demo.api.faults.inject({
      resource: 'tokenreviews',
      error: { status: 503, retryAfterSeconds: 7 },
      times: 1,
    })
    const response = await storesNothing(() => attestPsat('demo', agent.token))
    fault.remove()
    const problem = expectProblem(response, 503, 'ATT_ERR_KUBE_API_UNAVAILABLE')
    expect(response.headers['retry-after']).toBe('7')
    expect(problem).toMatchObject({ cluster: 'demo', check: 'kube_api', retry_after_seconds: 7 })
    expect(problem.detail).toBe('the Kubernetes API is unavailable; try again later')
  })

  it('answers 503 with a default Retry-After when the API server fails with 500', async () => {
    const agent = demo.newAgentPod()
    const fault = demo.api.faults.inject({
      resource: 'tokenreviews',
      verb: 'create',
      error: { status: 500 },
      times: 1,
    })
    const response = await storesNothing(() => attestPsat('demo', agent.token))
    fault.remove()
    expectProblem(response, 503, 'ATT_ERR_KUBE_API_UNAVAILABLE')
    expect(response.headers['retry-after']).toBe('5')
  })

  // Pods and nodes come from the informer caches; a GET happens only on a cache miss, which
  // this file cannot bring about at will. The deadline on every call, GETs included, is covered
  // by call-deadline.test.ts and kube-cluster-client.integration.test.ts.
  it.each([['the TokenReview', { resource: 'tokenreviews' }]])(
    'answers 503 with Retry-After when %s is accepted and never answered (kube_api_timeout)',
    async (_what, where) => {
      const agent = demo.newAgentPod()
      // First an answered attestation, so the hung call travels on an open connection and its
      // deadline is not spent on a TLS handshake of a loaded machine.
      expect((await attestPsat('demo-deadline', agent.token)).status).toBe(200)
      const fault = demo.api.faults.inject({ ...where, hang: true, times: 1 })
      try {
        const response = await storesNothing(() => attestPsat('demo-deadline', demo.tokenFor(agent)))
        expect(fault.hits).toBe(1)
        const problem = expectProblem(response, 503, 'ATT_ERR_KUBE_API_UNAVAILABLE')
        expect(response.headers['retry-after']).toBe('5')
        expect(problem).toMatchObject({ cluster: 'demo-deadline', check: 'kube_api_timeout' })
      } finally {
        fault.remove()
      }
      expect((await attestPsat('demo-deadline', demo.tokenFor(agent))).status).toBe(200)
    },
  )

  it('answers 503 with Retry-After when the API server refuses connections', async () => {
    const agent = demoEc.newAgentPod()
    await demoEc.api.faults.stopListening()
    demoEc.api.faults.destroyConnections()
    try {
      const response = await storesNothing(() => attestPsat('demo-ec', agent.token))
      expectProblem(response, 503, 'ATT_ERR_KUBE_API_UNAVAILABLE')
      expect(response.headers['retry-after']).toBe('5')
    } finally {
      await demoEc.api.faults.resumeListening()
    }
    expect((await attestPsat('demo-ec', demoEc.tokenFor(agent))).status).toBe(200)
  })
})

describe('requests the schema refuses', () => {
  it('names the missing field', async () => {
    const response = await storesNothing(() =>
      server.request('POST', '/v1/attest', {
        body: { attestation: { type: 'k8s_psat', payload: { cluster: 'demo' } }, csr: 'x' },
      }),
    )
    const problem = expectProblem(response, 400, 'ATT_ERR_BAD_REQUEST')
    expect(problem.value).toBe('body/attestation/payload/token')
  })

  it('refuses unknown fields instead of dropping them', async () => {
    const response = await server.request('POST', '/v1/attest', {
      body: {
        attestation: { type: 'k8s_psat', payload: { cluster: 'demo', token: 'x' } },
        csr: 'x',
        spiffe_id: 'spiffe://example.org/x',
      },
    })
    expect(expectProblem(response, 400, 'ATT_ERR_BAD_REQUEST').value).toBe('body/spiffe_id')
  })

  it('refuses an attestor it does not know', async () => {
    const response = await server.request('POST', '/v1/attest', {
      body: { attestation: { type: 'aws_iid', payload: { cluster: 'demo', token: 'x' } }, csr: 'x' },
    })
    expectProblem(response, 400, 'ATT_ERR_BAD_REQUEST')
  })

  it('answers 413 to a body over the limit', async () => {
    const response = await server.request('POST', '/v1/attest', { body: { padding: 'x'.repeat(70 * 1024) } })
    expectProblem(response, 413, 'ATT_ERR_PAYLOAD_TOO_LARGE')
  })

  it('answers an unknown route with a problem', async () => {
    const response = await server.request('GET', '/v1/nothing')
    expect(expectProblem(response, 404, 'ATT_ERR_ROUTE_NOT_FOUND').check).toBe('route')
  })
})

describe('bundle, metrics, OpenAPI', () => {
  it('serves the bundle as PEM and as a SPIFFE bundle', async () => {
    const response = await server.request('GET', '/v1/bundle')
    expect(response.status).toBe(200)
    const bundle = server.ca.bundle()
    expect(response.body).toEqual({
      trust_domain: 'example.org',
      x509_authorities: bundle.certificatesPem,
      spiffe_bundle: JSON.parse(JSON.stringify(bundle.jwks)),
    })
  })

  it('counts attestations, Kubernetes API calls and agents (on the metrics listener)', async () => {
    const listener = await startMetricsListener({ host: '127.0.0.1', port: 0 }, server.app.metrics.registry)
    const scrape = await request(`http://127.0.0.1:${listener.address.port}/metrics`)
    const text = await scrape.body.text()
    await listener.close()
    expect(text).toMatch(/k8s_attest_attestations_total\{attestor="k8s_psat",result="success",code=""\} \d+/)
    expect(text).toMatch(
      /k8s_attest_attestations_total\{attestor="k8s_psat",result="refused",code="ATT_ERR_SA_NOT_ALLOWED"\} 1/,
    )
    expect(text).toMatch(
      /k8s_attest_kube_api_calls_total\{cluster="demo",verb="create",resource="tokenreviews",code="201"\} \d+/,
    )
    expect(text).toMatch(/k8s_attest_agents\{state="active"\} \d+/)
    expect(text).toContain('k8s_attest_attestation_duration_seconds_bucket')
  })

  it('documents every route with its error statuses', async () => {
    const response = await server.request('GET', '/openapi.json')
    const paths = response.body.paths as Record<
      string,
      Record<string, { responses: Record<string, unknown> }>
    >
    expect(Object.keys(paths['/v1/attest']?.post?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '413', '429', '502', '503']),
    )
    expect(paths['/v1/admin/agents/{spiffe_id}']?.delete).toBeDefined()
    expect(paths['/v1/renew']?.post?.responses['401']).toBeDefined()
  })
})

describe('logs', () => {
  it('logs one info line per attestation with the agent ID, and never a token', () => {
    const lines = server.logLines.map((line) => JSON.parse(line) as Record<string, unknown>)
    const attested = lines.filter((line) => line.msg === 'agent attested')
    expect(attested.length).toBeGreaterThan(5)
    for (const line of attested)
      expect(line).toMatchObject({ agent_id: expect.stringMatching(/^spiffe:\/\//), level: 'info' })
    // A bound token's credential ID, as kube-apiserver's audit log names it; legacy tokens have none.
    const psatLines = attested.filter((line) => line.attestor === 'k8s_psat')
    expect(psatLines.length).toBeGreaterThan(0)
    for (const line of psatLines) expect(line.credential_id).toMatch(/^JTI=[0-9a-f-]{36}$/)
    for (const line of attested.filter((line) => line.attestor === 'k8s_sat'))
      expect(line).not.toHaveProperty('credential_id')
    expect(lines.some((line) => line.code === 'ATT_ERR_SA_NOT_ALLOWED' && line.level === 'warn')).toBe(true)
    expect(lines.some((line) => line.code === 'ATT_ERR_KUBE_API_UNAVAILABLE' && line.level === 'error')).toBe(
      true,
    )
    const log = server.logLines.join('\n')
    expect(tokensSent.length).toBeGreaterThan(20)
    for (const token of tokensSent) {
      expect(log).not.toContain(token)
      // Nor its signature or payload on their own.
      for (const part of token.split('.').filter((p) => p.length > 20)) expect(log).not.toContain(part)
    }
  })
})
