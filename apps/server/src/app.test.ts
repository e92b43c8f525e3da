import { randomUUID, X509Certificate } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeClusterClient } from '../test/fake-cluster-client.ts'
import { psatScenario } from '../test/psat-fixture.ts'
import { legacyClaims, unsignedToken } from '../test/tokens.ts'
import { buildUnitApp, type UnitApp } from '../test/unit-app.ts'
import { createTestCsr } from './ca/test-support/csr.ts'

let unit: UnitApp | undefined

afterEach(async () => {
  await unit?.close()
  unit = undefined
})

async function attest(type: string, cluster: string, token: string, csr?: string) {
  if (unit === undefined) throw new Error('no app')
  return unit.app.inject({
    method: 'POST',
    url: '/v1/attest',
    payload: { attestation: { type, payload: { cluster, token } }, csr: csr ?? (await createTestCsr()).pem },
  })
}

describe('buildApp (over fake cluster clients)', () => {
  it('attests, answers with the wire schema, records, and closes its store and clients', async () => {
    const scenario = psatScenario()
    const sat = new FakeClusterClient()
    unit = await buildUnitApp({ psat: scenario.client, sat })
    const response = await attest('k8s_psat', 'demo', scenario.token)
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({
      spiffe_id: `spiffe://example.org/spire/agent/k8s_psat/demo/${scenario.node.uid}`,
    })
    expect(await unit.store.getAgent(response.json().spiffe_id)).toBeDefined()
    await unit.app.close()
    expect(scenario.client.closed).toBe(true)
    expect(sat.closed).toBe(true)
    await expect(unit.store.ping()).rejects.toMatchObject({ code: 'ATT_ERR_DATASTORE_CLOSED' })
  })

  it('returns the SVID as leaf and intermediates only: the self-signed root travels in the bundle', async () => {
    const scenario = psatScenario()
    unit = await buildUnitApp({ psat: scenario.client, sat: new FakeClusterClient() })
    const response = await attest('k8s_psat', 'demo', scenario.token)
    const { svid, bundle } = response.json() as { svid: string[]; bundle: string[] }
    const chain = svid.map((pem) => new X509Certificate(pem))
    expect(chain.some((certificate) => certificate.verify(certificate.publicKey))).toBe(false)
    expect(chain).toHaveLength(1)
    const [root] = bundle.map((pem) => new X509Certificate(pem))
    expect(root !== undefined && chain[0]?.checkIssued(root) && chain[0].verify(root.publicKey)).toBe(true)
  })

  it('answers a refusal as application/problem+json with the check, cluster and value', async () => {
    const scenario = psatScenario()
    scenario.client.pods.clear()
    unit = await buildUnitApp({ psat: scenario.client, sat: new FakeClusterClient() })
    const response = await attest('k8s_psat', 'demo', scenario.token)
    expect(response.statusCode).toBe(403)
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(response.json()).toEqual({
      type: 'urn:k8s-attest:error:ATT_ERR_POD_NOT_FOUND',
      title: 'Pod not found',
      status: 403,
      detail: `pod "spire/agent-1" that the token is bound to does not exist in cluster "demo"`,
      code: 'ATT_ERR_POD_NOT_FOUND',
      check: 'pod_exists',
      cluster: 'demo',
      value: 'spire/agent-1',
    })
  })

  it('does not burn a SAT token on a refused CSR, then refuses its replay', async () => {
    const sat = new FakeClusterClient()
    const uid = randomUUID()
    const token = unsignedToken(legacyClaims(uid))
    sat.reviews.set(token, {
      authenticated: true,
      user: { username: 'system:serviceaccount:spire:spire-agent', uid },
    })
    unit = await buildUnitApp({ psat: new FakeClusterClient(), sat })
    expect((await attest('k8s_sat', 'legacy', token, 'not a CSR')).json().code).toBe('ATT_ERR_CSR_INVALID')
    expect((await attest('k8s_sat', 'legacy', token)).statusCode).toBe(200)
    const replay = await attest('k8s_sat', 'legacy', token)
    expect(replay.json()).toMatchObject({ code: 'ATT_ERR_TOKEN_REPLAYED', status: 403 })
  })

  it('lets a k8s_sat agent that lost its data_dir attest again once an operator evicts it, once', async () => {
    const sat = new FakeClusterClient()
    const uid = randomUUID()
    const token = unsignedToken(legacyClaims(uid))
    sat.reviews.set(token, {
      authenticated: true,
      user: { username: 'system:serviceaccount:spire:spire-agent', uid },
    })
    unit = await buildUnitApp({ psat: new FakeClusterClient(), sat })
    const first = await attest('k8s_sat', 'legacy', token)
    expect(first.statusCode).toBe(200)
    // The pod restarted on an emptyDir: same token, no SVID to renew with.
    expect((await attest('k8s_sat', 'legacy', token)).json().code).toBe('ATT_ERR_TOKEN_REPLAYED')
    const evicted = await unit.app.inject({
      method: 'DELETE',
      url: `/v1/admin/agents/${encodeURIComponent(first.json().spiffe_id)}`,
      headers: { authorization: 'Bearer admin-token-0123456789abcdef0123456789abcdef' },
    })
    expect(evicted.statusCode).toBe(200)
    const again = await attest('k8s_sat', 'legacy', token)
    expect(again.statusCode).toBe(200)
    expect(again.json().spiffe_id).not.toBe(first.json().spiffe_id)
    // Released once, not forever: the token is single-use for the new agent too.
    expect((await attest('k8s_sat', 'legacy', token)).json().code).toBe('ATT_ERR_TOKEN_REPLAYED')
  })

  it('refuses a k8s_sat agent whose fresh UUID collides with a recorded one (500, generic message)', async () => {
    const sat = new FakeClusterClient()
    const uuid = randomUUID()
    for (const claimsUid of [randomUUID(), randomUUID()]) {
      sat.reviews.set(unsignedToken(legacyClaims(claimsUid)), {
        authenticated: true,
        user: { username: 'system:serviceaccount:spire:spire-agent', uid: claimsUid },
      })
    }
    unit = await buildUnitApp({ psat: new FakeClusterClient(), sat }, { randomUuid: () => uuid })
    const [first, second] = [...sat.reviews.keys()]
    expect((await attest('k8s_sat', 'legacy', first ?? '')).statusCode).toBe(200)
    const collision = await attest('k8s_sat', 'legacy', second ?? '')
    expect(collision.statusCode).toBe(500)
    expect(collision.json()).toMatchObject({ code: 'ATT_ERR_INTERNAL', detail: 'internal server error' })
  })

  it('reports not ready while a permission is denied, and ready once granted', async () => {
    const psat = new FakeClusterClient()
    psat.deniedPermissions.add('get nodes')
    unit = await buildUnitApp({ psat, sat: new FakeClusterClient() })
    await unit.app.ready()
    await unit.app.readiness.whenChecked()
    expect((await unit.app.inject({ url: '/ready' })).json()).toMatchObject({
      status: 503,
      code: 'ATT_ERR_NOT_READY',
    })
    expect(psat.calls).toEqual([
      'checkPermission create tokenreviews',
      'checkPermission get pods in namespace spire',
      'checkPermission list pods in namespace spire',
      'checkPermission watch pods in namespace spire',
      'checkPermission get nodes',
      'checkPermission list nodes',
      'checkPermission watch nodes',
    ])
    psat.deniedPermissions.clear()
    await unit.app.readiness.checkPermissionsNow()
    expect((await unit.app.inject({ url: '/ready' })).json()).toEqual({ status: 'ready' })
    expect((await unit.app.inject({ url: '/live' })).json()).toEqual({ status: 'live' })
  })

  it('checks only tokenreviews for a k8s_sat TokenReview cluster', async () => {
    const sat = new FakeClusterClient()
    unit = await buildUnitApp({ psat: new FakeClusterClient(), sat })
    await unit.app.ready()
    await unit.app.readiness.whenChecked()
    expect(sat.calls).toEqual(['checkPermission create tokenreviews'])
  })

  it('refuses the admin API without credentials and lists with the bearer token', async () => {
    unit = await buildUnitApp({ psat: new FakeClusterClient(), sat: new FakeClusterClient() })
    expect((await unit.app.inject({ url: '/v1/admin/agents' })).json().code).toBe('ATT_ERR_UNAUTHENTICATED')
    const listed = await unit.app.inject({
      url: '/v1/admin/agents',
      headers: { authorization: 'Bearer admin-token-0123456789abcdef0123456789abcdef' },
    })
    expect(listed.json()).toEqual({ agents: [] })
  })

  it('quotes no part of an unparsable body, which may hold a token, in the answer or the log', async () => {
    unit = await buildUnitApp({ psat: new FakeClusterClient(), sat: new FakeClusterClient() })
    // A token pasted without quotes: V8's JSON.parse message quotes the text around the error;
    // fastify replaces it with its own, and this keeps it so.
    const secret = 'eyJhbGciOiJSUzI1NiJ9SECRETPART'
    const response = await unit.app.inject({
      method: 'POST',
      url: '/v1/attest',
      headers: { 'content-type': 'application/json' },
      payload: `{"attestation":{"type":"k8s_sat","payload":{"cluster":"legacy","token":${secret}}}}`,
    })
    expect(response.json()).toMatchObject({
      status: 400,
      code: 'ATT_ERR_BAD_REQUEST',
      check: 'FST_ERR_CTP_INVALID_JSON_BODY',
    })
    for (const fragment of [secret.slice(0, 10), secret.slice(10, 20), secret.slice(20)]) {
      expect(response.body).not.toContain(fragment)
      expect(unit.logLines.join('\n')).not.toContain(fragment)
    }
  })

  it('answers unparsable JSON with ATT_ERR_BAD_REQUEST and a wrong media type with 415', async () => {
    unit = await buildUnitApp({ psat: new FakeClusterClient(), sat: new FakeClusterClient() })
    const broken = await unit.app.inject({
      method: 'POST',
      url: '/v1/attest',
      headers: { 'content-type': 'application/json' },
      payload: '{',
    })
    expect(broken.json()).toMatchObject({ status: 400, code: 'ATT_ERR_BAD_REQUEST' })
    const text = await unit.app.inject({
      method: 'POST',
      url: '/v1/attest',
      headers: { 'content-type': 'application/xml' },
      payload: '<x/>',
    })
    expect(text.statusCode).toBe(415)
    expect(text.json()).toMatchObject({
      status: 415,
      code: 'ATT_ERR_UNSUPPORTED_MEDIA_TYPE',
      check: 'content_type',
      expected: 'application/json',
    })
  })
})
