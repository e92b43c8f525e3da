import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../src/cli/cli.ts'
import { adminAgentPath } from '../src/routes/admin-agents.ts'
import { captureIo } from './capture-io.ts'
import { expectProblem } from './expect-problem.ts'
import { KubeWorld } from './kube-world.ts'
import { ADMIN_ID, ADMIN_TOKEN, newAgentKey, type RunningServer, startServer } from './server-harness.ts'

/*
 * The admin API over HTTPS (bearer token and mTLS admin SVID) and the `agent` CLI verbs end to
 * end against it.
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

/** An X.509 SVID for `spiffeId` from the server's CA, as an admin tool would hold. */
async function svidFor(spiffeId: string) {
  const key = await newAgentKey()
  const issued = await server.ca.signAgentCsr(key.csrPem, spiffeId)
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

  it('accepts an admin SVID over mTLS, and refuses an agent SVID', async () => {
    const admin = server.client(await svidFor(ADMIN_ID))
    const agent = server.client(await svidFor('spiffe://example.org/spire/agent/k8s_sat/demo/1'))
    try {
      expect((await server.request('GET', '/v1/admin/agents', { dispatcher: admin })).status).toBe(200)
      const refused = await server.request('GET', '/v1/admin/agents', { dispatcher: agent })
      expect(expectProblem(refused, 401, 'ATT_ERR_UNAUTHENTICATED').check).toBe('admin_ids')
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
  async function cli(...args: string[]) {
    const captured = captureIo()
    const status = await runCli(args, captured.io)
    return { status, stdout: captured.stdout(), stderr: captured.stderr() }
  }
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

  it('authenticates with an admin SVID', async () => {
    const svid = await svidFor(ADMIN_ID)
    await writeFile(join(files, 'admin.pem'), svid.cert)
    await writeFile(join(files, 'admin-key.pem'), svid.key)
    const listed = await cli(
      'agent',
      'list',
      '-serverAddress',
      server.url.replace('https://', ''),
      '-trustBundle',
      join(files, 'bundle.pem'),
      '-certFile',
      join(files, 'admin.pem'),
      '-keyFile',
      join(files, 'admin-key.pem'),
    )
    expect(listed.status).toBe(0)
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
