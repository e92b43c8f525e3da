import { createPrivateKey, X509Certificate } from 'node:crypto'
import { access, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { adminAgentPath } from '@k8s-attest/admin-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../src/cli/cli.ts'
import { captureIo } from './capture-io.ts'
import { expectProblem } from './expect-problem.ts'
import { KubeWorld } from './kube-world.ts'
import { ADMIN_ID, ADMIN_TOKEN, newAgentKey, type RunningServer, startServer } from './server-harness.ts'

/*
 * The admin API over HTTPS (bearer token and mTLS admin SVID), the `agent` CLI verbs end to
 * end against it, and `x509 mint`, which issues the admin SVIDs those verbs present.
 */

let world: KubeWorld
let server: RunningServer
let files: string
const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` }

beforeAll(async () => {
  world = await KubeWorld.start()
  server = await startServer({ clusters: { psat: { demo: { world } }, satReview: { legacy: world } } })
  files = await mkdtemp(join(tmpdir(), 'k8s-attest-cli-'))
  await writeFile(join(files, 'bundle.pem'), server.ca.bundle().pem)
  await writeFile(join(files, 'token'), `${ADMIN_TOKEN}\n`)
})

afterAll(async () => {
  await server?.close()
  await world?.stop()
  await rm(files, { recursive: true, force: true })
})

async function attestedPsatAgent(): Promise<string> {
  const pod = world.newAgentPod()
  const response = await server.attest('k8s_psat', 'demo', pod.token, (await newAgentKey()).csrPem)
  expect(response.status).toBe(200)
  return response.body.spiffe_id as string
}

async function cli(...args: string[]) {
  const captured = captureIo()
  const status = await runCli(args, captured.io)
  return { status, stdout: captured.stdout(), stderr: captured.stderr() }
}

/** An X.509 SVID for `spiffeId` signed directly by the server's CA (bypassing every CLI check). */
async function svidFor(spiffeId: string, ttlMs?: number) {
  const key = await newAgentKey()
  const issued = await server.ca.signAgentCsr(key.csrPem, spiffeId, ttlMs === undefined ? {} : { ttlMs })
  return { cert: issued.chainPem, key: key.keyPem }
}

describe('admin authentication', () => {
  it('refuses a request without credentials (401)', async () => {
    const response = await server.request('GET', '/v1/admin/agents')
    expect(expectProblem(response, 401, 'ATT_ERR_UNAUTHENTICATED').check).toBe('admin_credentials')
  })

  it('refuses a wrong bearer token (401)', async () => {
    const response = await server.request('GET', '/v1/admin/agents', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}x` },
    })
    expect(expectProblem(response, 401, 'ATT_ERR_UNAUTHENTICATED').check).toBe('bearer_token')
  })

  it('accepts the right bearer token', async () => {
    expect((await server.request('GET', '/v1/admin/agents', { headers: bearer })).status).toBe(200)
  })

  it('accepts an admin SVID over mTLS, and refuses an agent SVID (valid but not allowed: 403)', async () => {
    const admin = server.client(await svidFor(ADMIN_ID))
    const agent = server.client(await svidFor('spiffe://example.org/spire/agent/k8s_sat/demo/1'))
    try {
      expect((await server.request('GET', '/v1/admin/agents', { dispatcher: admin })).status).toBe(200)
      const refused = await server.request('GET', '/v1/admin/agents', { dispatcher: agent })
      expect(expectProblem(refused, 403, 'ATT_ERR_PERMISSION_DENIED')).toMatchObject({
        check: 'admin_ids',
        title: 'Permission denied',
        value: 'spiffe://example.org/spire/agent/k8s_sat/demo/1',
      })
    } finally {
      await admin.close()
      await agent.close()
    }
  })

  it('refuses an admin SVID once it has expired, on the connection opened while it was valid', async () => {
    const admin = server.client(await svidFor(ADMIN_ID, 1_000))
    try {
      expect((await server.request('GET', '/v1/admin/agents', { dispatcher: admin })).status).toBe(200)
      await delay(2_500)
      // The same kept-alive connection: OpenSSL checked the certificate once, at its handshake.
      const refused = await server.request('GET', '/v1/admin/agents', { dispatcher: admin })
      expect(expectProblem(refused, 401, 'ATT_ERR_UNAUTHENTICATED')).toMatchObject({
        check: 'admin_credentials',
        detail: 'the client certificate has expired since this connection was opened',
      })
    } finally {
      await admin.close()
    }
  })

  it("refuses a change another site's page makes with the browser's admin SVID, and takes it from a program", async () => {
    const spiffeId = await attestedPsatAgent()
    const admin = server.client(await svidFor(ADMIN_ID))
    try {
      const ban = (headers: Record<string, string>) =>
        server.request('POST', adminAgentPath(spiffeId, 'ban'), { dispatcher: admin, headers })
      const crossSite = await ban({ 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' })
      expect(expectProblem(crossSite, 401, 'ATT_ERR_UNAUTHENTICATED')).toMatchObject({
        check: 'csrf_origin',
        value: 'cross-site',
        expected: 'same-origin',
      })
      // A browser too old for Fetch Metadata still names the page's origin.
      const foreign = await ban({ origin: 'https://evil.example' })
      expect(expectProblem(foreign, 401, 'ATT_ERR_UNAUTHENTICATED')).toMatchObject({
        check: 'csrf_origin',
        value: 'https://evil.example',
      })
      expect((await server.request('GET', adminAgentPath(spiffeId), { headers: bearer })).body).toMatchObject(
        {
          banned: false,
        },
      )
      // The dashboard's own page, and the CLI (which sends neither header).
      expect((await ban({ 'sec-fetch-site': 'same-origin' })).status).toBe(200)
      expect((await ban({})).status).toBe(200)
      // Evicted again, so the listing tests below see only their own banned agents.
      expect((await server.request('DELETE', adminAgentPath(spiffeId), { headers: bearer })).status).toBe(200)
    } finally {
      await admin.close()
    }
  })
})

describe('the dashboard over mTLS', () => {
  it('opens for an admin SVID without signing in, and changes nothing without its CSRF token', async () => {
    const admin = server.client(await svidFor(ADMIN_ID))
    const agent = server.client(await svidFor('spiffe://example.org/spire/agent/k8s_sat/demo/2'))
    try {
      const session = await server.request('GET', '/dashboard/api/session', { dispatcher: admin })
      expect(session.body).toMatchObject({ via: 'mtls', csrf_token: expect.any(String) })
      expect((await server.request('GET', '/dashboard/', { dispatcher: admin })).status).not.toBe(303)
      const refused = await server.request('GET', '/dashboard/api/session', { dispatcher: agent })
      expect(expectProblem(refused, 401, 'ATT_ERR_UNAUTHENTICATED').check).toBe('dashboard_session')
      const signOutWithoutToken = await server.request('POST', '/dashboard/sign-out', { dispatcher: admin })
      expect(expectProblem(signOutWithoutToken, 401, 'ATT_ERR_UNAUTHENTICATED').check).toBe('csrf_token')
    } finally {
      await admin.close()
      await agent.close()
    }
  })
})

describe('admin verbs', () => {
  it('lists with filters and pages, shows, bans and evicts', async () => {
    const first = await attestedPsatAgent()
    const second = await attestedPsatAgent()
    const page = await server.request('GET', '/v1/admin/agents?attestor=k8s_psat&cluster=demo&page_size=1', {
      headers: bearer,
    })
    expect(page.status).toBe(200)
    expect((page.body.agents as unknown[]).length).toBe(1)
    expect(page.body.next_page_token).toEqual(expect.any(String))
    const bySelector = await server.request(
      'GET',
      `/v1/admin/agents?selector=${encodeURIComponent(`k8s_psat:agent_node_uid:${first.split('/').at(-1)}`)}`,
      { headers: bearer },
    )
    expect((bySelector.body.agents as { spiffe_id: string }[]).map((a) => a.spiffe_id)).toEqual([first])

    const shown = await server.request('GET', adminAgentPath(first), { headers: bearer })
    expect(shown.body).toMatchObject({
      spiffe_id: first,
      attestor: 'k8s_psat',
      cluster: 'demo',
      banned: false,
    })

    const banned = await server.request('POST', adminAgentPath(second, 'ban'), { headers: bearer })
    expect(banned.body).toMatchObject({ spiffe_id: second, banned: true })
    const onlyBanned = await server.request('GET', '/v1/admin/agents?banned=true', { headers: bearer })
    expect((onlyBanned.body.agents as { spiffe_id: string }[]).map((a) => a.spiffe_id)).toEqual([second])

    const evicted = await server.request('DELETE', adminAgentPath(second), { headers: bearer })
    expect(evicted.body).toEqual({ spiffe_id: second, evicted: true })
    expectProblem(
      await server.request('GET', adminAgentPath(second), { headers: bearer }),
      404,
      'ATT_ERR_AGENT_NOT_FOUND',
    )
    expectProblem(
      await server.request('DELETE', adminAgentPath(second), { headers: bearer }),
      404,
      'ATT_ERR_AGENT_NOT_FOUND',
    )
  })

  it('lists by state, search, sort and order, as the dashboard asks', async () => {
    const first = await attestedPsatAgent()
    const second = await attestedPsatAgent()
    await server.request('POST', adminAgentPath(second, 'ban'), { headers: bearer })
    const list = async (query: string) => {
      const response = await server.request('GET', `/v1/admin/agents?${query}`, { headers: bearer })
      expect(response.status).toBe(200)
      return (response.body.agents as { spiffe_id: string }[]).map((agent) => agent.spiffe_id)
    }
    const nodeUid = (id: string) => id.split('/').at(-1) ?? ''
    expect(await list(`state=banned&search=${nodeUid(second).toUpperCase()}`)).toEqual([second])
    expect(await list(`state=attested&search=${nodeUid(first)}`)).toEqual([first])
    expect(await list(`state=attested&search=${nodeUid(second)}`)).toEqual([])
    const newestFirst = await server.request('GET', '/v1/admin/agents?sort=last_attested_at&order=desc', {
      headers: bearer,
    })
    const times = (newestFirst.body.agents as { last_attested_at: string }[]).map((a) => a.last_attested_at)
    expect(times.length).toBeGreaterThanOrEqual(2)
    expect(times).toEqual([...times].sort().reverse())
    const unknownSort = await server.request('GET', '/v1/admin/agents?sort=node', { headers: bearer })
    expectProblem(unknownSort, 400, 'ATT_ERR_BAD_REQUEST')
  })

  it('writes an access log line naming method and route of each admin call', async () => {
    const spiffeId = await attestedPsatAgent()
    const before = server.logLines.length
    await server.request('GET', adminAgentPath(spiffeId), { headers: bearer })
    await server.request('POST', adminAgentPath(spiffeId, 'ban'), { headers: bearer })
    const access = server.logLines
      .slice(before)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.msg === 'admin API call')
      .map(({ method, route, admin_auth }) => ({ method, route, admin_auth }))
    expect(access).toEqual([
      { method: 'GET', route: '/v1/admin/agents/:spiffe_id', admin_auth: 'bearer_token' },
      { method: 'POST', route: '/v1/admin/agents/:spiffe_id/ban', admin_auth: 'bearer_token' },
    ])
  })

  it('refuses a selector filter without a type', async () => {
    const response = await server.request('GET', '/v1/admin/agents?selector=nocolon', { headers: bearer })
    expectProblem(response, 400, 'ATT_ERR_BAD_REQUEST')
  })

  it('refuses a page token it did not issue', async () => {
    const response = await server.request('GET', '/v1/admin/agents?page_token=forged', { headers: bearer })
    expect(expectProblem(response, 400, 'ATT_ERR_BAD_REQUEST').check).toBe('page_token')
  })
})

describe('k8s-attest-server agent …', () => {
  const connection = () => [
    '-serverAddress',
    server.url.replace('https://', ''),
    '-trustBundle',
    join(files, 'bundle.pem'),
    '-tokenFile',
    join(files, 'token'),
  ]

  it('list, show, ban, evict', async () => {
    const spiffeId = await attestedPsatAgent()
    const listed = await cli('agent', 'list', ...connection(), '-cluster', 'demo')
    expect(listed.status).toBe(0)
    expect(listed.stdout).toMatch(/^Found \d+ attested agents?:/)
    expect(listed.stdout).toContain(`SPIFFE ID         : ${spiffeId}`)

    const shown = await cli('agent', 'show', ...connection(), '-spiffeID', spiffeId, '-output', 'json')
    expect(shown.status).toBe(0)
    expect(JSON.parse(shown.stdout)).toMatchObject({ spiffe_id: spiffeId, attestor: 'k8s_psat' })

    expect(await cli('agent', 'ban', ...connection(), '-spiffeID', spiffeId)).toEqual({
      status: 0,
      stdout: 'Agent banned successfully\n',
      stderr: '',
    })
    const bannedList = await cli('agent', 'list', ...connection(), '-banned', '-output', 'json')
    expect((JSON.parse(bannedList.stdout) as { spiffe_id: string }[]).map((a) => a.spiffe_id)).toContain(
      spiffeId,
    )

    expect((await cli('agent', 'evict', ...connection(), '-spiffeID', spiffeId)).stdout).toBe(
      'Agent evicted successfully\n',
    )
    const gone = await cli('agent', 'show', ...connection(), '-spiffeID', spiffeId)
    expect(gone.status).toBe(1)
    expect(gone.stderr).toContain('ATT_ERR_AGENT_NOT_FOUND, HTTP 404')
  })

  it('prints the refusal of a wrong token and exits 1', async () => {
    await writeFile(join(files, 'wrong-token'), 'nope')
    const result = await cli(
      'agent',
      'list',
      ...connection().slice(0, 4),
      '-tokenFile',
      join(files, 'wrong-token'),
    )
    expect(result.status).toBe(1)
    expect(result.stderr).toContain('ATT_ERR_UNAUTHENTICATED')
  })

  it('says in one line, exit 1, when the server cannot be reached or a file cannot be read', async () => {
    const unreachable = await cli('agent', 'list', '-serverAddress', '127.0.0.1:1', ...connection().slice(2))
    expect(unreachable.status).toBe(1)
    expect(unreachable.stderr).toMatch(
      /^Error: cannot reach the server at https:\/\/127\.0\.0\.1:1: .*\(ECONNREFUSED\)\n$/,
    )
    const missing = join(files, 'no-such-bundle.pem')
    const unreadable = await cli(
      'agent',
      'list',
      ...connection().slice(0, 2),
      '-trustBundle',
      missing,
      ...connection().slice(4),
    )
    expect(unreadable).toEqual({ status: 1, stdout: '', stderr: `Error: cannot read ${missing} (ENOENT)\n` })
  })

  it('explains bad usage and exits 2', async () => {
    const missing = await cli('agent', 'show', ...connection())
    expect(missing).toMatchObject({ status: 2 })
    expect(missing.stderr).toContain('-spiffeID is required')
    const unknown = await cli('agent', 'list', '-bogus')
    expect(unknown.status).toBe(2)
    expect(unknown.stderr).toContain('flag provided but not defined: -bogus')
    expect((await cli('agent', 'nuke')).stderr).toContain('unknown agent command "nuke"')
  })
})

describe('k8s-attest-server x509 mint', () => {
  const OTHER_DOMAIN_ADMIN = 'spiffe://other.org/admin'

  /** A server.conf for `dataDir` as an operator would have it next to the server. */
  async function serverConf(name: string, dataDir: string): Promise<string> {
    const path = join(files, name)
    await writeFile(
      path,
      `server {
  trust_domain = "example.org"
  data_dir = ${JSON.stringify(dataDir)}
  agent_ttl = "1h"
  admin {
    admin_ids = [${JSON.stringify(ADMIN_ID)}, ${JSON.stringify(OTHER_DOMAIN_ADMIN)}]
  }
}
plugins {
  DataStore "sql" {
    plugin_data {
      database_type = "sqlite3"
    }
  }
  NodeAttestor "k8s_psat" {
    plugin_data {
      clusters = {
        "demo" = {
          service_account_allow_list = ["spire:spire-agent"]
        }
      }
    }
  }
}
`,
    )
    return path
  }
  const mint = async (...args: string[]) =>
    cli('x509', 'mint', '-config', await serverConf('server.conf', server.dataDir), ...args)

  /** Each PEM certificate in `text`, parsed. */
  function certificatesIn(text: string): X509Certificate[] {
    return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map(
      ([pem]) => new X509Certificate(pem),
    )
  }

  it('mints an admin SVID that `agent list -certFile/-keyFile` authenticates with', async () => {
    const spiffeId = await attestedPsatAgent()
    const out = join(files, 'minted')
    const minted = await mint('-spiffeID', ADMIN_ID, '-write', out)
    expect(minted).toEqual({
      status: 0,
      stdout: `X509-SVID written to ${join(out, 'svid.pem')}\nPrivate key written to ${join(out, 'key.pem')}\nRoot CAs written to ${join(out, 'bundle.pem')}\n`,
      stderr: '',
    })
    expect((await stat(join(out, 'key.pem'))).mode & 0o777).toBe(0o600)
    // The leaf alone (the CA is a root, and roots travel in bundle.pem), signed by the signing CA.
    const chain = certificatesIn(await readFile(join(out, 'svid.pem'), 'utf8'))
    const [leaf] = chain
    expect(chain).toHaveLength(1)
    expect(leaf?.subjectAltName).toBe(`URI:${ADMIN_ID}`)
    expect(leaf?.checkPrivateKey(createPrivateKey(await readFile(join(out, 'key.pem'))))).toBe(true)
    expect(leaf?.checkIssued(new X509Certificate(server.ca.signingCertificatePem))).toBe(true)
    // agent_ttl (1h) by default, at the second precision of X.509 times.
    expect(Date.parse(leaf?.validTo ?? '') - Date.now()).toBeGreaterThan(3_600_000 - 60_000)
    expect(Date.parse(leaf?.validTo ?? '') - Date.now()).toBeLessThanOrEqual(3_600_000)

    const listed = await cli(
      'agent',
      'list',
      '-serverAddress',
      server.url.replace('https://', ''),
      '-trustBundle',
      join(out, 'bundle.pem'),
      '-certFile',
      join(out, 'svid.pem'),
      '-keyFile',
      join(out, 'key.pem'),
    )
    expect(listed.status).toBe(0)
    expect(listed.stdout).toContain(`SPIFFE ID         : ${spiffeId}`)
  })

  it('prints the SVID, its key and the root CAs without -write, for the ttl asked', async () => {
    const minted = await mint('-spiffeID', ADMIN_ID, '-ttl', '10m')
    expect(minted.status).toBe(0)
    expect(minted.stdout).toMatch(
      /^X509-SVID:\n(-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+?-----END CERTIFICATE-----\n)\nPrivate key:\n-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+?-----END PRIVATE KEY-----\n\nRoot CAs:\n(-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+?-----END CERTIFICATE-----\n)+\n$/,
    )
    const [leaf] = certificatesIn(minted.stdout)
    expect(leaf?.subjectAltName).toBe(`URI:${ADMIN_ID}`)
    expect(Date.parse(leaf?.validTo ?? '') - Date.now()).toBeGreaterThan(600_000 - 60_000)
    expect(Date.parse(leaf?.validTo ?? '') - Date.now()).toBeLessThanOrEqual(600_000)
  })

  it("says so when the signing CA's expiry cuts the ttl short", async () => {
    const minted = await mint('-spiffeID', ADMIN_ID, '-ttl', '1000h')
    expect(minted.status).toBe(0)
    expect(minted.stderr).toMatch(
      /^X509-SVID lifetime was capped shorter than the requested ttl by the signing CA's expiry; expires "\S+"\n$/,
    )
  })

  it('refuses a SPIFFE ID that is not an admin ID, naming the allowed ones, and writes nothing', async () => {
    const out = join(files, 'refused')
    const agentId = 'spiffe://example.org/spire/agent/k8s_psat/demo/1234'
    const refused = await mint('-spiffeID', agentId, '-write', out)
    expect(refused).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: SPIFFE ID "${agentId}" is not one of server.admin.admin_ids in ${join(files, 'server.conf')} (allowed: "${ADMIN_ID}", "${OTHER_DOMAIN_ADMIN}"); x509 mint issues admin SVIDs only, never agent or server identities (ATT_ERR_CLI_MINT_REFUSED)\n`,
    })
    await expect(access(out)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('refuses an admin ID of another trust domain, which this CA cannot sign for', async () => {
    const refused = await mint('-spiffeID', OTHER_DOMAIN_ADMIN)
    expect(refused.status).toBe(1)
    expect(refused.stderr).toBe(
      `Error: SPIFFE ID "${OTHER_DOMAIN_ADMIN}" is in trust domain "other.org", but this server's CA signs for "example.org" only; an admin of another trust domain needs an SVID from that trust domain (ATT_ERR_CLI_MINT_REFUSED)\n`,
    )
  })

  it('refuses to create a CA: data_dir must hold the server’s', async () => {
    const emptyDataDir = join(files, 'no-server-yet')
    const refused = await cli(
      'x509',
      'mint',
      '-config',
      await serverConf('fresh.conf', emptyDataDir),
      '-spiffeID',
      ADMIN_ID,
    )
    expect(refused).toEqual({
      status: 1,
      stdout: '',
      stderr: `Error: no CA key in ${join(emptyDataDir, 'ca')}: start the server with this configuration once (it creates the CA), or check data_dir (ATT_ERR_CLI_MINT_REFUSED)\n`,
    })
    await expect(access(emptyDataDir)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('explains bad usage and exits 2', async () => {
    const missing = await mint()
    expect(missing.status).toBe(2)
    expect(missing.stderr).toMatch(/^x509 mint: -spiffeID is required: one of server.admin.admin_ids\n/)
    expect(missing.stderr).toContain('already fully trusted')
    expect(missing.stderr).toContain('Usage of x509 mint:\n  -config string')

    const badUnit = await mint('-spiffeID', ADMIN_ID, '-ttl', '1d')
    expect(badUnit.status).toBe(2)
    expect(badUnit.stderr).toMatch(/^invalid value "1d" for flag -ttl: .*unit/)
    const tooShort = await mint('-spiffeID', ADMIN_ID, '-ttl', '0s')
    expect(tooShort.status).toBe(2)
    expect(tooShort.stderr).toMatch(/^invalid value "0s" for flag -ttl: must be at least 1s/)

    expect((await cli('x509', 'burn')).stderr).toContain('unknown x509 command "burn"; expected one of mint')
  })
})
