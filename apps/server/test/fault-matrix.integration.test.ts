import { X509Certificate } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { renderKubeconfig } from '@k8s-attest/kube-test-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CertificateAuthority } from '../src/ca/certificate-authority.ts'
import { ManualClock } from '../src/ca/test-support/manual-clock.ts'
import type { AgentStore } from '../src/datastore/agent-store.ts'
import { expectProblem } from './expect-problem.ts'
import { type AgentPod, KubeWorld } from './kube-world.ts'
import { type HarnessResponse, newAgentKey, type RunningServer, startServer } from './server-harness.ts'

/*
 * The fault matrix, server side (docs/failure-modes.md): each Kubernetes API fault the test
 * API can inject, and the cluster events an agent lives through, against one in-process
 * server with real API clients. Every case checks the matrix's invariants: no attested
 * agent's record is lost, every SVID handed out has its record, a refused k8s_sat token is not
 * spent, and the next attestation after the fault clears succeeds without a restart.
 */

let world: KubeWorld
let server: RunningServer
let dir: string
/** When set, the next `recordAttestation` fails once (a datastore fault mid-attestation). */
let failNextRecord: Error | undefined

beforeAll(async () => {
  world = await KubeWorld.start()
  dir = await mkdtemp(join(tmpdir(), 'k8s-attest-faults-'))
  // The server's own identity for the "rbac" cluster: a service account whose RBAC the test
  // removes and restores.
  const rbacKubeconfig = await world.serverKubeconfig()
  grantServerRbac()
  // A kubeconfig that trusts a CA the test API's certificate was not issued by.
  const foreign = await CertificateAuthority.open({
    dataDir: join(dir, 'foreign-ca'),
    trustDomain: 'foreign.test',
    caTtlMs: 86_400_000,
    agentTtlMs: 3_600_000,
  })
  const foreignKubeconfig = join(dir, 'foreign-kubeconfig')
  await writeFile(
    foreignKubeconfig,
    renderKubeconfig({
      server: world.api.url,
      caCertificatePem: foreign.bundle().pem,
      userName: 'admin',
      token: world.api.admin.token,
    }),
  )
  server = await startServer({
    clusters: {
      psat: {
        demo: { world },
        rbac: { world, kubeconfigPath: rbacKubeconfig },
        foreign: { world, kubeconfigPath: foreignKubeconfig },
      },
      satReview: { legacy: world },
    },
    wrapStore: (store) => failingRecords(store),
  })
})

afterAll(async () => {
  await server?.close()
  await world?.stop()
  await rm(dir, { recursive: true, force: true })
})

/** The store, except that `recordAttestation` fails once whenever `failNextRecord` is set. */
function failingRecords(store: AgentStore): AgentStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'recordAttestation') {
        return async (...args: Parameters<AgentStore['recordAttestation']>) => {
          const failure = failNextRecord
          failNextRecord = undefined
          if (failure !== undefined) throw failure
          return target.recordAttestation(...args)
        }
      }
      const value = Reflect.get(target, property, receiver) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

const SERVER_RBAC = {
  role: {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'k8s-attest-server' },
    rules: [
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
    ],
  },
  binding: {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'k8s-attest-server' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'k8s-attest-server' },
    subjects: [{ kind: 'ServiceAccount', name: 'spire-server', namespace: 'spire' }],
  },
}

function grantServerRbac(): void {
  world.api.createObject('clusterroles.rbac.authorization.k8s.io', SERVER_RBAC.role)
  world.api.createObject('clusterrolebindings.rbac.authorization.k8s.io', SERVER_RBAC.binding)
}

/** Every agent that was handed an SVID: none of their records may be lost. */
const attested = new Set<string>()

/** The serial of a PEM certificate in the datastore's form (lowercase hex, no leading zeros). */
function serialOf(pem: string): string {
  return BigInt(`0x${new X509Certificate(pem).serialNumber}`).toString(16)
}

/**
 * Attests, and checks the first invariant on every SVID handed out: it is recorded as the
 * agent's current SVID at the moment the agent gets it (an SVID without its record would be
 * half an attestation).
 */
async function attest(cluster: string, token: string, type: 'k8s_psat' | 'k8s_sat' = 'k8s_psat') {
  const response = await server.attest(type, cluster, token, (await newAgentKey()).csrPem)
  if (response.status === 200) {
    const spiffeId = String(response.body.spiffe_id)
    attested.add(spiffeId)
    const record = await server.store.getAgent(spiffeId)
    expect(record?.svidSerial, `the recorded SVID of ${spiffeId}`).toBe(
      serialOf((response.body.svid as string[])[0] as string),
    )
  }
  return response
}

/** The other invariant: every agent that was ever handed an SVID still has its record. */
async function expectInvariants(): Promise<void> {
  for (const spiffeId of attested) {
    expect(await server.store.getAgent(spiffeId), `the record of ${spiffeId}`).toBeDefined()
  }
}

function expectUnavailable(response: HarnessResponse, cluster: string): void {
  const problem = expectProblem(response, 503, 'ATT_ERR_KUBE_API_UNAVAILABLE')
  expect(problem.cluster).toBe(cluster)
  expect(Number(response.headers['retry-after'])).toBeGreaterThan(0)
}

describe('Kubernetes API faults', () => {
  let agent: AgentPod

  beforeAll(async () => {
    agent = world.newAgentPod()
    expect((await attest('demo', agent.token)).status).toBe(200)
  })

  it('API down: 503 with Retry-After while it refuses connections; the next attestation after it is back succeeds', async () => {
    await world.api.faults.stopListening()
    world.api.faults.destroyConnections()
    try {
      expectUnavailable(await attest('demo', world.tokenFor(agent)), 'demo')
    } finally {
      await world.api.faults.resumeListening()
    }
    expect((await attest('demo', world.tokenFor(agent))).status).toBe(200)
    await expectInvariants()
  })

  it('429 with Retry-After: 503 passing the API server’s Retry-After on', async () => {
    world.api.faults.inject({
      verb: 'create',
      resource: 'tokenreviews',
      error: { status: 429, retryAfterSeconds: 7 },
      times: 1,
    })
    const refused = await attest('demo', world.tokenFor(agent))
    expectUnavailable(refused, 'demo')
    expect(refused.headers['retry-after']).toBe('7')
    // kube-apiserver's 429 is plain text, not a Status: the log quotes it without its newline.
    const quoted = server.logLines.filter((line) => line.includes('failed with HTTP 429: '))
    expect(quoted.length).toBeGreaterThan(0)
    for (const line of quoted) {
      expect(line).toContain('failed with HTTP 429: Too many requests, please try again later."')
    }
    expect((await attest('demo', world.tokenFor(agent))).status).toBe(200)
    await expectInvariants()
  })

  it('500: 503 with the default Retry-After; the API server’s message stays in the log', async () => {
    // TokenReview: the one call every attestation makes (pods and nodes come from the informers).
    world.api.faults.inject({
      verb: 'create',
      resource: 'tokenreviews',
      error: { status: 500, message: 'etcd is sad' },
      times: 1,
    })
    const refused = await attest('demo', world.tokenFor(agent))
    expectUnavailable(refused, 'demo')
    expect(JSON.stringify(refused.body)).not.toContain('etcd is sad')
    expect(server.logLines.some((line) => line.includes('etcd is sad'))).toBe(true)
    expect((await attest('demo', world.tokenFor(agent))).status).toBe(200)
    await expectInvariants()
  })

  it('connection reset mid-response: 503, and the pooled connection is not reused broken', async () => {
    world.api.faults.inject({ verb: 'create', resource: 'tokenreviews', resetMidResponse: true, times: 1 })
    expectUnavailable(await attest('demo', world.tokenFor(agent)), 'demo')
    expect((await attest('demo', world.tokenFor(agent))).status).toBe(200)
    await expectInvariants()
  })

  it('a k8s_sat token refused for an API fault is not spent: it attests once the fault clears', async () => {
    const token = world.api.createLegacyTokenSecret('spire', 'fault-token', 'spire-agent')
    world.api.faults.inject({ verb: 'create', resource: 'tokenreviews', error: { status: 503 }, times: 1 })
    expectUnavailable(await attest('legacy', token, 'k8s_sat'), 'legacy')
    expect((await attest('legacy', token, 'k8s_sat')).status).toBe(200)
    expectProblem(await attest('legacy', token, 'k8s_sat'), 403, 'ATT_ERR_TOKEN_REPLAYED')
    await expectInvariants()
  })

  it('presenting an unknown CA: 503 for that cluster only, no token sent to it; other clusters unaffected', async () => {
    const reviewsBefore = world.api.counters.requests({ verb: 'create', resource: 'tokenreviews' })
    const pod = world.newAgentPod()
    const refused = await attest('foreign', pod.token)
    expectUnavailable(refused, 'foreign')
    // The TLS handshake failed, so the request (and the token in it) never reached the server.
    expect(world.api.counters.requests({ verb: 'create', resource: 'tokenreviews' })).toBe(reviewsBefore)
    expect(server.logLines.some((line) => /foreign[\s\S]*(certificate|self.signed|verify)/i.test(line))).toBe(
      true,
    )
    expect((await attest('demo', pod.token)).status).toBe(200)
    await expectInvariants()
  })

  it('slower than the deadline: 503 at the deadline instead of hanging; answers again once it is fast', {
    timeout: 30_000,
  }, async () => {
    const hang = world.api.faults.inject({ verb: 'create', resource: 'tokenreviews', hang: true })
    try {
      expectUnavailable(await attest('demo', world.tokenFor(agent)), 'demo')
    } finally {
      hang.remove()
    }
    expect((await attest('demo', world.tokenFor(agent))).status).toBe(200)
    await expectInvariants()
  })

  it('RBAC removed and restored: 502 ATT_ERR_KUBE_API_FAILED and /ready fails while removed; attests after restore', async () => {
    const pod = world.newAgentPod()
    expect((await attest('rbac', pod.token)).status).toBe(200)
    world.api.deleteObject('clusterrolebindings.rbac.authorization.k8s.io', 'k8s-attest-server')
    try {
      const refused = await attest('rbac', world.tokenFor(pod))
      expectProblem(refused, 502, 'ATT_ERR_KUBE_API_FAILED')
      await server.app.readiness.checkPermissionsNow()
      expectProblem(await server.request('GET', '/ready'), 503, 'ATT_ERR_NOT_READY')
      const { problems } = await server.app.readiness.report()
      expect(problems).toContainEqual(
        expect.stringContaining('cluster "rbac" (k8s_psat): the server\'s identity may not'),
      )
    } finally {
      world.api.createObject('clusterrolebindings.rbac.authorization.k8s.io', SERVER_RBAC.binding)
    }
    expect((await attest('rbac', world.tokenFor(pod))).status).toBe(200)
    // /ready as a whole stays failing for the "foreign" cluster; this cluster's problem is gone.
    await server.app.readiness.checkPermissionsNow()
    const { problems } = await server.app.readiness.report()
    expect(problems.filter((problem) => problem.includes('"rbac"'))).toEqual([])
    await expectInvariants()
  })
})

describe('cluster events', () => {
  it('pod deleted: the old token is refused, the record stays; the recreated pod’s token attests as the same agent', async () => {
    const agent = world.newAgentPod()
    const first = await attest('demo', agent.token)
    expect(first.status).toBe(200)
    world.api.deleteObject('pods', agent.podName, { namespace: 'spire', gracePeriodSeconds: 0 })
    // The token bound to the deleted pod (kubelet cannot issue a new one for it).
    const refused = await attest('demo', agent.token)
    expect(refused.status).toBe(refused.body.code === 'ATT_ERR_TOKEN_NOT_AUTHENTICATED' ? 401 : 403)
    expect(['ATT_ERR_POD_NOT_FOUND', 'ATT_ERR_TOKEN_NOT_AUTHENTICATED']).toContain(refused.body.code)
    expect(await server.store.getAgent(String(first.body.spiffe_id))).toBeDefined()
    // The DaemonSet recreates the pod on the same node: a new pod UID, the same node UID.
    const pod = world.api.createPod({
      namespace: 'spire',
      name: agent.podName,
      serviceAccountName: 'spire-agent',
      nodeName: agent.nodeName,
      status: { hostIP: '10.0.0.7' },
    })
    const again = await attest('demo', world.tokenFor({ podName: agent.podName, podUid: pod.uid }))
    expect(again.status).toBe(200)
    expect(again.body.spiffe_id).toBe(first.body.spiffe_id)
    await expectInvariants()
  })

  it('node deleted and recreated: refused while gone; the new node is a new agent, the old record stays', async () => {
    const agent = world.newAgentPod()
    const first = await attest('demo', agent.token)
    expect(first.status).toBe(200)
    world.api.deleteObject('nodes', agent.nodeName)
    expectProblem(await attest('demo', world.tokenFor(agent)), 403, 'ATT_ERR_NODE_NOT_FOUND')
    const node = world.api.createNode(agent.nodeName)
    expect(node.uid).not.toBe(agent.nodeUid)
    const again = await attest('demo', world.tokenFor(agent))
    expect(again.status).toBe(200)
    expect(again.body.spiffe_id).toBe(String(first.body.spiffe_id).replace(agent.nodeUid, node.uid))
    expect(await server.store.getAgent(String(first.body.spiffe_id))).toBeDefined()
    await expectInvariants()
  })
})

describe('the agent’s token', () => {
  it('truncated mid-write (a writer that is not atomic): refused as a bad token, nothing recorded; the whole token attests', async () => {
    const agent = world.newAgentPod()
    for (const cut of [agent.token.length / 2, agent.token.length - 5].map(Math.floor)) {
      const refused = await attest('demo', agent.token.slice(0, cut))
      expect(['ATT_ERR_TOKEN_MALFORMED', 'ATT_ERR_TOKEN_NOT_AUTHENTICATED']).toContain(refused.body.code)
      expect(refused.status).toBeLessThan(500)
    }
    expect((await server.store.listAgents({ pageSize: 1000 })).agents).not.toContainEqual(
      expect.objectContaining({
        selectors: expect.arrayContaining([{ type: 'k8s_psat', value: `agent_pod_uid:${agent.podUid}` }]),
      }),
    )
    expect((await attest('demo', agent.token)).status).toBe(200)
    await expectInvariants()
  })

  it('rotated (kubelet’s new token for the same pod): attests as the same agent, old token still valid until it expires', async () => {
    const agent = world.newAgentPod()
    const first = await attest('demo', agent.token)
    const rotated = await attest('demo', world.tokenFor(agent))
    expect(rotated.status).toBe(200)
    expect(rotated.body.spiffe_id).toBe(first.body.spiffe_id)
    await expectInvariants()
  })
})

describe('datastore faults mid-attestation', () => {
  it('a k8s_sat attestation whose record cannot be written leaves its token unspent', async () => {
    const token = world.api.createLegacyTokenSecret('spire', 'record-fault-token', 'spire-agent')
    failNextRecord = Object.assign(new Error('connection terminated unexpectedly'), {
      code: 'ATT_ERR_DATASTORE_UNAVAILABLE',
    })
    const refused = await attest('legacy', token, 'k8s_sat')
    expect(refused.status).toBeGreaterThanOrEqual(500)
    // A spent token without its agent would lock this agent out for good.
    expect((await attest('legacy', token, 'k8s_sat')).status).toBe(200)
    await expectInvariants()
  })
})

describe('the CA nearing expiry during load', () => {
  it('keeps attesting through a rotation: every SVID chains to a CA in the bundle, within its lifetime, recorded', async () => {
    const clock = new ManualClock(new Date())
    const rotating = await startServer({ clusters: { psat: { demo: { world } } }, now: clock.now })
    try {
      const inject = async (pod: AgentPod) =>
        rotating.app.inject({
          method: 'POST',
          url: '/v1/attest',
          payload: {
            attestation: { type: 'k8s_psat', payload: { cluster: 'demo', token: pod.token } },
            csr: (await newAgentKey()).csrPem,
          },
        })
      const issuers = new Set<string>()
      // Load in waves while the clock walks past the successor's preparation (1/2) and
      // takeover (5/6) of the first CA, up to 20 minutes before it expires.
      let minutesPassed = 0
      for (const minutes of [0, 12 * 60, 20 * 60, 23 * 60 + 40]) {
        clock.advance((minutes - minutesPassed) * 60_000)
        minutesPassed = minutes
        const pods = Array.from({ length: 3 }, () => world.newAgentPod())
        const answers = await Promise.all(pods.map(inject))
        expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200])
        const bundle = rotating.ca.bundle().certificatesPem.map((pem) => new X509Certificate(pem))
        for (const answer of answers) {
          const body = answer.json() as { spiffe_id: string; svid: string[] }
          const leaf = new X509Certificate(body.svid[0] as string)
          const issuer = bundle.find((ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey))
          expect(issuer, 'the SVID’s issuer is in the bundle').toBeDefined()
          issuers.add(issuer?.fingerprint256 ?? '')
          // Never past its CA, and never about to expire when handed out.
          expect(Date.parse(leaf.validTo)).toBeLessThanOrEqual(Date.parse(issuer?.validTo ?? ''))
          expect(Date.parse(leaf.validTo) - clock.now().getTime()).toBeGreaterThan(30 * 60_000)
          expect((await rotating.store.getAgent(body.spiffe_id))?.svidSerial).toBe(
            serialOf(body.svid[0] as string),
          )
        }
      }
      expect(issuers.size).toBe(2)
    } finally {
      await rotating.close()
    }
  })
})
