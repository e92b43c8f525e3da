import { X509Certificate } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as connectTls } from 'node:tls'
import { adminAgentPath } from '@k8s-attest/admin-client'
import { WIRE_PATHS } from '@k8s-attest/core'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CertificateAuthority } from '../src/ca/certificate-authority.ts'
import { x509 } from '../src/ca/x509.ts'
import { DASHBOARD_PATHS } from '../src/dashboard/dashboard-plugin.ts'
import { SESSION_COOKIE } from '../src/dashboard/dashboard-sessions.ts'
import { expectProblem } from './expect-problem.ts'
import { parseFirstAnswer, plaintextExchange, tlsExchange } from './fuzz/raw-connection.ts'
import { KubeWorld } from './kube-world.ts'
import {
  ADMIN_ID,
  ADMIN_TOKEN,
  newAgentKey,
  type RunningServer,
  startServer,
  TRUST_DOMAIN,
} from './server-harness.ts'
import { respelledSignature } from './tokens.ts'

/*
 * The security suite: each property an attacker would try first, against the real server over
 * TLS and two Kubernetes test APIs (two clusters with their own signing keys and issuers).
 * That no log ever holds a token, a private key or the admin credential is checked once over
 * every log of the whole run, not here: see scripts/log-audit/.
 */

let demo: KubeWorld
let other: KubeWorld
let server: RunningServer
let port: number
let foreignCa: CertificateAuthority
let foreignCaDir: string

beforeAll(async () => {
  demo = await KubeWorld.start()
  other = await KubeWorld.start()
  server = await startServer({
    clusters: {
      psat: { demo: { world: demo }, other: { world: other } },
      satReview: { legacy: demo },
      satKeys: { 'legacy-keys': demo },
    },
  })
  const address = server.app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  port = address.port
  // Another CA of the same trust domain: its certificates name the right IDs and prove nothing.
  foreignCaDir = await mkdtemp(join(tmpdir(), 'k8s-attest-foreign-ca-'))
  foreignCa = await CertificateAuthority.open({
    dataDir: foreignCaDir,
    trustDomain: TRUST_DOMAIN,
    caTtlMs: 86_400_000,
    agentTtlMs: 3_600_000,
  })
})

afterAll(async () => {
  await server?.close()
  await demo?.stop()
  await other?.stop()
  await rm(foreignCaDir, { recursive: true, force: true })
})

/** An X.509 SVID for `spiffeId` with its key, signed by `ca` (the server's unless told). */
async function svidFor(spiffeId: string, ca: CertificateAuthority = server.ca) {
  const key = await newAgentKey()
  const issued = await ca.signAgentCsr(key.csrPem, spiffeId)
  return { cert: issued.chainPem, key: key.keyPem }
}

interface Credentials {
  readonly headers?: Record<string, string>
  readonly cert?: { cert: string; key: string }
}

/** GET of `path` over TLS with these credentials (headers, a client certificate). */
async function getWith(path: string, options: Credentials) {
  const dispatcher = options.cert === undefined ? undefined : server.client(options.cert)
  try {
    return await server.request('GET', path, {
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(dispatcher === undefined ? {} : { dispatcher }),
    })
  } finally {
    await dispatcher?.close()
  }
}

const adminGet = (options: Credentials) => getWith(WIRE_PATHS.adminAgents, options)
const dashboardGet = (options: Credentials) => getWith(DASHBOARD_PATHS.overview, options)

async function attestedPsatAgent(): Promise<string> {
  const response = await server.attest(
    'k8s_psat',
    'demo',
    demo.newAgentPod().token,
    (await newAgentKey()).csrPem,
  )
  expect(response.status).toBe(200)
  return response.body.spiffe_id as string
}

/** Whether a TLS handshake capped at `maxVersion` completes; the error code when it does not. */
function handshake(maxVersion: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'): Promise<string> {
  return new Promise((resolve) => {
    const socket = connectTls({
      host: '127.0.0.1',
      port,
      ca: server.ca.bundle().pem,
      servername: 'localhost',
      minVersion: 'TLSv1',
      maxVersion,
      // Let the client offer old versions at all, so that a refusal is the server's.
      ciphers: 'DEFAULT:@SECLEVEL=0',
    })
    socket.once('secureConnect', () => {
      resolve(socket.getProtocol() ?? 'unknown')
      socket.destroy()
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
  })
}

describe('transport', () => {
  it('has no plaintext listener: HTTP without TLS gets no HTTP answer', async () => {
    const exchange = await plaintextExchange(port, [
      `GET ${WIRE_PATHS.bundle} HTTP/1.1\r\nHost: localhost\r\n\r\n`,
    ])
    expect(exchange.closedByServer).toBe(true)
    expect(exchange.received.toString('latin1')).not.toMatch(/^HTTP\//)
  })

  it('refuses TLS 1.1 with a protocol_version alert and speaks TLS 1.2 and 1.3', async () => {
    expect(await handshake('TLSv1.1')).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION')
    expect(await handshake('TLSv1.2')).toBe('TLSv1.2')
    expect(await handshake('TLSv1.3')).toBe('TLSv1.3')
  })
})

describe('admin API credentials', () => {
  it('refuses a request without credentials (401)', async () => {
    expectProblem(await adminGet({}), 401, 'ATT_ERR_UNAUTHENTICATED')
  })

  it.each([
    ['a wrong bearer token', () => `Bearer ${ADMIN_TOKEN}x`],
    ['a prefix of the bearer token', () => `Bearer ${ADMIN_TOKEN.slice(0, 16)}`],
    [
      'the token as Basic credentials',
      () => `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`,
    ],
    ['an agent token as bearer', () => `Bearer ${demo.newAgentPod().token}`],
  ])('refuses %s (401)', async (_case, authorization) => {
    const response = await adminGet({ headers: { authorization: authorization() } })
    expectProblem(response, 401, 'ATT_ERR_UNAUTHENTICATED')
  })

  it('does not take the admin token from the query string (401)', async () => {
    const response = await server.request('GET', `${WIRE_PATHS.adminAgents}?token=${ADMIN_TOKEN}`)
    expectProblem(response, 401, 'ATT_ERR_UNAUTHENTICATED')
  })

  it('refuses an admin SVID signed by a foreign CA (401)', async () => {
    expectProblem(
      await adminGet({ cert: await svidFor(ADMIN_ID, foreignCa) }),
      401,
      'ATT_ERR_UNAUTHENTICATED',
    )
  })

  it('refuses a valid SVID that is not an admin ID: authenticated, not allowed (403)', async () => {
    const agentSvid = await svidFor(`spiffe://${TRUST_DOMAIN}/spire/agent/k8s_psat/demo/1`)
    const response = await adminGet({ cert: agentSvid })
    expect(response.status).toBe(403)
    expect(String(response.headers['content-type'])).toContain('application/problem+json')
    expect(response.body).toMatchObject({ status: 403, check: 'admin_ids' })
  })

  it('accepts the admin bearer token and the admin SVID', async () => {
    expect((await adminGet({ headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200)
    expect((await adminGet({ cert: await svidFor(ADMIN_ID) })).status).toBe(200)
  })
})

/** A sign-in form posted from the dashboard's own page, over TLS. */
async function signIn(token: string) {
  const dispatcher = server.client()
  try {
    const response = await request(`${server.url}${DASHBOARD_PATHS.signIn}`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams({ token }).toString(),
    })
    await response.body.dump()
    return { status: response.statusCode, setCookie: response.headers['set-cookie'] }
  } finally {
    await dispatcher.close()
  }
}

/*
 * The dashboard has one credential of its own, the session a sign-in with the admin token
 * opens; otherwise an admin SVID stands for a session. Everything else is "no session": 401
 * with `check: dashboard_session`, a non-admin SVID included (the sign-in page tells a person
 * what to do; there is nothing to forbid to someone who has not signed in).
 */
describe('dashboard credentials', () => {
  function expectNoSession(response: Awaited<ReturnType<typeof dashboardGet>>) {
    expect(expectProblem(response, 401, 'ATT_ERR_UNAUTHENTICATED').check).toBe('dashboard_session')
  }

  it('refuses a request without credentials (401)', async () => {
    expectNoSession(await dashboardGet({}))
  })

  it('refuses a wrong admin token at sign-in, opening no session (401)', async () => {
    const refused = await signIn(`${ADMIN_TOKEN}x`)
    expect(refused.status).toBe(401)
    expect(refused.setCookie).toBeUndefined()
  })

  it.each([
    ['a forged session cookie', () => `${SESSION_COOKIE}=forged`],
    ['the admin token as the session cookie', () => `${SESSION_COOKIE}=${ADMIN_TOKEN}`],
  ])('refuses %s (401)', async (_case, cookie) => {
    expectNoSession(await dashboardGet({ headers: { cookie: cookie() } }))
  })

  it('refuses an admin SVID signed by a foreign CA (401)', async () => {
    expectNoSession(await dashboardGet({ cert: await svidFor(ADMIN_ID, foreignCa) }))
  })

  it('refuses a valid SVID that is not an admin ID (401: no session)', async () => {
    expectNoSession(
      await dashboardGet({ cert: await svidFor(`spiffe://${TRUST_DOMAIN}/spire/agent/k8s_psat/demo/1`) }),
    )
  })

  it('opens for the admin token at sign-in and for the admin SVID', async () => {
    const signedIn = await signIn(ADMIN_TOKEN)
    expect(signedIn.status).toBe(303)
    const cookie = String([signedIn.setCookie].flat()[0]).split(';')[0] ?? ''
    expect((await dashboardGet({ headers: { cookie } })).status).toBe(200)
    expect((await dashboardGet({ cert: await svidFor(ADMIN_ID) })).status).toBe(200)
  })
})

describe('tokens', () => {
  it('refuses a replayed SAT, and the same SAT with its signature spelled differently (403)', async () => {
    const token = demo.api.createLegacyTokenSecret('spire', 'security-replay', 'spire-agent')
    expect((await server.attest('k8s_sat', 'legacy-keys', token, (await newAgentKey()).csrPem)).status).toBe(
      200,
    )
    for (const replay of [token, respelledSignature(token)]) {
      expectProblem(
        await server.attest('k8s_sat', 'legacy-keys', replay, (await newAgentKey()).csrPem),
        403,
        'ATT_ERR_TOKEN_REPLAYED',
      )
    }
  })

  it('refuses a projected token for another audience as an audience mismatch (403)', async () => {
    const pod = demo.newAgentPod({ audiences: ['some-other-service'] })
    const response = await server.attest('k8s_psat', 'demo', pod.token, (await newAgentKey()).csrPem)
    expectProblem(response, 403, 'ATT_ERR_AUDIENCE_MISMATCH')
  })

  it("refuses a token from another cluster's issuer, in TokenReview and in local key mode", async () => {
    const foreignPsat = other.newAgentPod().token
    expectProblem(
      await server.attest('k8s_psat', 'demo', foreignPsat, (await newAgentKey()).csrPem),
      401,
      'ATT_ERR_TOKEN_NOT_AUTHENTICATED',
    )
    const foreignSat = other.api.createLegacyTokenSecret('spire', 'security-foreign', 'spire-agent')
    expectProblem(
      await server.attest('k8s_sat', 'legacy-keys', foreignSat, (await newAgentKey()).csrPem),
      401,
      'ATT_ERR_TOKEN_NOT_AUTHENTICATED',
    )
    expectProblem(
      await server.attest('k8s_sat', 'legacy', foreignSat, (await newAgentKey()).csrPem),
      401,
      'ATT_ERR_TOKEN_NOT_AUTHENTICATED',
    )
    // And the token of cluster "other" does not attest as "demo" even though both are configured.
    expect((await server.attest('k8s_psat', 'other', foreignPsat, (await newAgentKey()).csrPem)).status).toBe(
      200,
    )
  })
})

describe('the CSR cannot choose the identity', () => {
  it('issues only the minted SPIFFE ID, as a leaf, whatever the CSR asks for', async () => {
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: `CN=${ADMIN_ID}, O=attacker`,
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        new x509.BasicConstraintsExtension(true, 5, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        new x509.SubjectAlternativeNameExtension([
          { type: 'url', value: ADMIN_ID },
          { type: 'url', value: `spiffe://${TRUST_DOMAIN}/spire/server` },
          { type: 'dns', value: 'localhost' },
          { type: 'ip', value: '127.0.0.1' },
          { type: 'email', value: 'root@example.org' },
        ]),
      ],
    })
    const pod = demo.newAgentPod()
    const response = await server.attest('k8s_psat', 'demo', pod.token, csr.toString('pem'))
    expect(response.status).toBe(200)
    const spiffeId = `spiffe://${TRUST_DOMAIN}/spire/agent/k8s_psat/demo/${pod.nodeUid}`
    expect(response.body.spiffe_id).toBe(spiffeId)
    const [leafPem] = response.body.svid as string[]
    const leaf = new X509Certificate(leafPem ?? '')
    expect(leaf.subjectAltName).toBe(`URI:${spiffeId}`)
    expect(leaf.ca).toBe(false)
    expect(leaf.subject).not.toContain('attacker')
    expect(leaf.subject).not.toContain(ADMIN_ID)
    const parsed = new x509.X509Certificate(leafPem ?? '')
    const usage = parsed.getExtension(x509.KeyUsagesExtension)
    expect((usage?.usages ?? 0) & x509.KeyUsageFlags.keyCertSign).toBe(0)
    expect(parsed.getExtension(x509.BasicConstraintsExtension)?.ca ?? false).toBe(false)
  })
})

describe('path tricks', () => {
  it.each([
    '../demo',
    'demo/..',
    'demo/../other',
    'demo%2F..',
    '%2e%2e',
    'DEMO',
    'demo ',
    'demo\u0000',
    './demo',
  ])('refuses cluster name %j as unknown and stores nothing', async (cluster) => {
    const before = await server.agentCount()
    const response = await server.attest(
      'k8s_psat',
      cluster,
      demo.newAgentPod().token,
      (await newAgentKey()).csrPem,
    )
    expectProblem(response, 400, 'ATT_ERR_UNKNOWN_CLUSTER')
    expect(await server.agentCount()).toBe(before)
  })

  it('never reaches another agent through a tricked ID, and answers 400 or 404, never 5xx', async () => {
    const target = await attestedPsatAgent()
    const bystander = await attestedPsatAgent()
    const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` }
    const tricks = [
      `${bystander}/../${target.split('/').at(-1)}`,
      `${target}/`,
      `${target}/.`,
      `${target.toUpperCase()}`,
      target.replace('spiffe://example.org', 'spiffe://EXAMPLE.org'),
      `${target}%00`,
      `${target}\u0000`,
      target.replace('/k8s_psat/', '/k8s_psat/./'),
      '..',
      '*',
      '%',
    ]
    for (const id of tricks) {
      for (const [method, path] of [
        ['GET', adminAgentPath(id)],
        ['DELETE', adminAgentPath(id)],
        ['POST', adminAgentPath(id, 'ban')],
      ] as const) {
        const response = await server.request(method, path, { headers: bearer })
        expect([400, 404], `${method} ${path} answered ${response.status}`).toContain(response.status)
        expect(String(response.headers['content-type'])).toContain('application/problem+json')
      }
    }
    // Raw (not percent-encoded) traversal in the path does not route to another resource. Sent
    // on a raw connection: URL-parsing clients (undici) would collapse the "..".
    for (const path of [
      `${WIRE_PATHS.adminAgents}/../agents/${encodeURIComponent(target)}`,
      `${WIRE_PATHS.adminAgents}/${encodeURIComponent(bystander)}/../${encodeURIComponent(target)}`,
      `/v1/bundle/../admin/agents/${encodeURIComponent(target)}`,
    ]) {
      const exchange = await tlsExchange({ port, ca: server.ca.bundle().pem }, [
        `DELETE ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\nConnection: close\r\n\r\n`,
      ])
      expect(parseFirstAnswer(exchange.received)?.status, path).toBe(404)
    }
    for (const id of [target, bystander]) {
      const agent = await server.store.getAgent(id)
      expect(agent?.banned, id).toBe(false)
    }
  })
})
