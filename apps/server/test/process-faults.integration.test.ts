import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startTestPostgres, type TestPostgres } from './fixtures/postgres.ts'
import { KubeWorld } from './kube-world.ts'
import { ADMIN_TOKEN, newAgentKey } from './server-harness.ts'
import { type ServerProcess, spawnServer } from './server-process.ts'

/*
 * The fault matrix, process side (docs/failure-modes.md): real `k8s-attest-server run`
 * processes killed with SIGKILL under load, on SQLite and on PostgreSQL, two servers on one
 * PostgreSQL with one killed, and PostgreSQL itself stopped and restarted under load. After
 * each, the invariants: every agent that was handed an SVID has its record, and every spent
 * k8s_sat token has its agent (the number of k8s_sat agents equals the number of spent tokens).
 */

const POSTGRES_SCRIPT = fileURLToPath(new URL('../../../scripts/postgres.sh', import.meta.url))
const execFileAsync = promisify(execFile)
/** Attestations in flight at once while a fault strikes. */
const CONCURRENCY = 4
const PROCESS_TEST_MS = 120_000

let world: KubeWorld
let dir: string
let postgres: TestPostgres

beforeAll(async () => {
  world = await KubeWorld.start()
  dir = await mkdtemp(join(tmpdir(), 'k8s-attest-process-faults-'))
  postgres = await startTestPostgres()
})

afterAll(async () => {
  await postgres?.stop()
  await world?.stop()
  await rm(dir, { recursive: true, force: true })
})

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A server installation: config (k8s_psat "demo", k8s_sat "legacy"), admin token, data_dir, a fixed port. */
async function installServer(name: string, dataStore: string, dataDir?: string) {
  const serverDir = join(dir, name)
  await mkdir(serverDir, { recursive: true })
  await writeFile(join(serverDir, 'admin-token'), ADMIN_TOKEN)
  const port = await freePort()
  const configFile = join(serverDir, 'server.conf')
  const data = dataDir ?? join(serverDir, 'data')
  await writeFile(
    configFile,
    `server {
  trust_domain = "example.org"
  bind_address = "127.0.0.1"
  bind_port = ${port}
  data_dir = "${data}"
  admin {
    bearer_token_file = "admin-token"
  }
  rate_limit {
    enabled = false
  }
}
plugins {
  DataStore "sql" {
    plugin_data {
      ${dataStore}
    }
  }
  NodeAttestor "k8s_psat" {
    plugin_data {
      clusters = { "demo" = { service_account_allow_list = ["spire:spire-agent"], kube_config_file = "${world.kubeconfigPath}" } }
    }
  }
  NodeAttestor "k8s_sat" {
    plugin_data {
      clusters = { "legacy" = { service_account_allow_list = ["spire:spire-agent"], use_token_review_api_validation = true, kube_config_file = "${world.kubeconfigPath}" } }
    }
  }
}
`,
  )
  return { configFile, dataDir: data, url: `https://127.0.0.1:${port}` }
}

/** One attestation the load sent, and what came back (`undefined` status: no answer). */
interface Sent {
  readonly type: 'k8s_psat' | 'k8s_sat'
  readonly token: string
  readonly status: number | undefined
  readonly code?: string
  readonly spiffeId?: string
}

/** Attestations from fresh agents (k8s_psat pods and k8s_sat legacy tokens), `CONCURRENCY` at a time, until stopped. */
class Load {
  readonly sent: Sent[] = []
  #running = true
  readonly #loops: Promise<void>[]
  #counter = 0

  readonly #targets: readonly string[]
  readonly #dispatcher: Agent

  constructor(targets: readonly string[], dispatcher: Agent) {
    this.#targets = targets
    this.#dispatcher = dispatcher
    this.#loops = Array.from({ length: CONCURRENCY }, (_, index) => this.#loop(index))
  }

  get successes(): number {
    return this.sent.filter((sent) => sent.status === 200).length
  }

  async stop(): Promise<Sent[]> {
    this.#running = false
    await Promise.all(this.#loops)
    return this.sent
  }

  async #loop(index: number): Promise<void> {
    while (this.#running) {
      const n = this.#counter++
      const type = n % 2 === 0 ? 'k8s_psat' : 'k8s_sat'
      const token =
        type === 'k8s_psat'
          ? world.newAgentPod().token
          : world.api.createLegacyTokenSecret('spire', `load-${Date.now()}-${n}`, 'spire-agent')
      const target = this.#targets[index % this.#targets.length] as string
      this.sent.push(await send(this.#dispatcher, target, type, token))
    }
  }
}

async function send(
  dispatcher: Agent,
  url: string,
  type: 'k8s_psat' | 'k8s_sat',
  token: string,
): Promise<Sent> {
  const cluster = type === 'k8s_psat' ? 'demo' : 'legacy'
  try {
    const response = await request(`${url}/v1/attest`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        attestation: { type, payload: { cluster, token } },
        csr: (await newAgentKey()).csrPem,
      }),
    })
    const body = (await response.body.json()) as { spiffe_id?: string; code?: string }
    return {
      type,
      token,
      status: response.statusCode,
      ...(body.code === undefined ? {} : { code: body.code }),
      ...(body.spiffe_id === undefined ? {} : { spiffeId: body.spiffe_id }),
    }
  } catch {
    // Refused, reset or cut off by the fault: the client does not know whether it attested.
    return { type, token, status: undefined }
  }
}

async function admin(
  dispatcher: Agent,
  url: string,
  path: string,
): Promise<{ status: number; body: unknown }> {
  const response = await request(`${url}${path}`, {
    dispatcher,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  })
  return { status: response.statusCode, body: await response.body.json() }
}

/**
 * The invariants, checked against a running server: every agent handed an SVID has its record;
 * every k8s_sat token that did not get an answer is either spent with its agent or still
 * attests; the number of k8s_sat agents equals the number of spent k8s_sat tokens.
 */
async function expectInvariants(dispatcher: Agent, url: string, sent: readonly Sent[]): Promise<void> {
  for (const attested of sent.filter((item) => item.status === 200)) {
    const found = await admin(
      dispatcher,
      url,
      `/v1/admin/agents/${encodeURIComponent(attested.spiffeId ?? '')}`,
    )
    expect(found.status, `the record of ${attested.spiffeId}`).toBe(200)
  }
  const satSent = sent.filter((item) => item.type === 'k8s_sat')
  let spent = satSent.filter((item) => item.status === 200).length
  for (const unknown of satSent.filter((item) => item.status !== 200)) {
    const retried = await send(dispatcher, url, 'k8s_sat', unknown.token)
    expect([200, 403], `retrying an unanswered k8s_sat token: ${retried.code}`).toContain(retried.status)
    if (retried.status === 403) expect(retried.code).toBe('ATT_ERR_TOKEN_REPLAYED')
    spent++
  }
  const listed = (await admin(dispatcher, url, '/v1/admin/agents?attestor=k8s_sat&page_size=1000')).body as {
    agents: unknown[]
  }
  expect(listed.agents.length, 'k8s_sat agents, one per spent token').toBe(spent)
}

async function clientFor(dataDir: string): Promise<Agent> {
  return new Agent({
    connect: { ca: await readFile(join(dataDir, 'ca', 'bundle.pem'), 'utf8') },
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  })
}

/** Waits until `condition` holds; on timeout, says what the load got last, and how the server ended if it did. */
async function waitForLoad(
  load: Load,
  server: ServerProcess,
  what: string,
  condition: () => boolean,
): Promise<void> {
  await vi.waitUntil(condition, { timeout: 60_000, interval: 20 }).catch(() => {
    const last = load.sent.slice(-12).map((item) => `${item.status ?? 'no answer'} ${item.code ?? ''}`)
    const { exitCode, signalCode } = server.child
    const ended =
      exitCode === null && signalCode === null
        ? ''
        : `\nthe server exited (${exitCode ?? signalCode}); its last output:\n${server.output().slice(-4000)}`
    throw new Error(`timed out waiting for ${what}; the last answers: ${last.join(', ')}${ended}`)
  })
}

/** SIGKILLs `server` once the load has had `successes` answers, while requests are in flight. */
async function killUnderLoad(server: ServerProcess, load: Load, successes: number): Promise<void> {
  await vi.waitUntil(() => load.successes >= successes, { timeout: 60_000, interval: 20 })
  await server.kill()
}

describe('the server killed with SIGKILL under load, and restarted', () => {
  for (const datastore of ['sqlite3', 'postgres'] as const) {
    it(`on ${datastore === 'sqlite3' ? 'SQLite' : 'PostgreSQL'}: nothing lost, nothing half-recorded`, {
      timeout: PROCESS_TEST_MS,
    }, async () => {
      const dataStore =
        datastore === 'sqlite3'
          ? 'database_type = "sqlite3"'
          : `database_type = "postgres"\nconnection_string = "${await postgres.createDatabase()}"`
      const installation = await installServer(`kill-${datastore}`, dataStore)
      let server = await spawnServer(installation.configFile)
      const dispatcher = await clientFor(installation.dataDir)
      try {
        const load = new Load([installation.url], dispatcher)
        await killUnderLoad(server, load, 6)
        server = await spawnServer(installation.configFile)
        // The restarted server answers the load again, on the same CA and records.
        const answeredBefore = load.successes
        await vi.waitUntil(() => load.successes > answeredBefore + 2, { timeout: 60_000, interval: 20 })
        const sent = await load.stop()
        expect(sent.some((item) => item.status === undefined)).toBe(true)
        await expectInvariants(dispatcher, installation.url, sent)
      } finally {
        await dispatcher.close()
        await server.kill()
      }
    })
  }
})

describe('two servers on one PostgreSQL', () => {
  it('with one killed under load: the other keeps attesting, and sees every record', {
    timeout: PROCESS_TEST_MS,
  }, async () => {
    const connection = `database_type = "postgres"\nconnection_string = "${await postgres.createDatabase()}"`
    const first = await installServer('pair-a', connection)
    const a = await spawnServer(first.configFile)
    // The second server shares the first one's CA (one data_dir's CA, as a replica set shares a volume).
    const second = await installServer('pair-b', connection, first.dataDir)
    const b = await spawnServer(second.configFile)
    const dispatcher = await clientFor(first.dataDir)
    try {
      const load = new Load([first.url, second.url], dispatcher)
      await killUnderLoad(a, load, 6)
      const answeredBefore = load.sent.filter((item) => item.status === 200).length
      await vi.waitUntil(() => load.successes > answeredBefore + 4, { timeout: 60_000, interval: 20 })
      const sent = await load.stop()
      expect(
        sent.filter((item) => item.status === 200 && item.spiffeId !== undefined).length,
      ).toBeGreaterThan(10)
      await expectInvariants(dispatcher, second.url, sent)
    } finally {
      await dispatcher.close()
      await a.kill()
      await b.kill()
    }
  })
})

describe('PostgreSQL stopped and restarted under load', () => {
  it('answers 503 while it is down and recovers by itself once it is back', {
    timeout: PROCESS_TEST_MS,
  }, async () => {
    // Its own directory under the system's temporary directory: the postgres user must enter it.
    const pgDir = await mkdtemp(join(tmpdir(), 'k8s-attest-pg-outage-'))
    const { stdout } = await execFileAsync('bash', [POSTGRES_SCRIPT, 'start', pgDir])
    const installation = await installServer(
      'postgres-outage',
      `database_type = "postgres"\nconnection_string = "${stdout.trim()}"`,
    )
    const server = await spawnServer(installation.configFile)
    const dispatcher = await clientFor(installation.dataDir)
    try {
      const load = new Load([installation.url], dispatcher)
      await vi.waitUntil(() => load.successes >= 4, { timeout: 60_000, interval: 20 })
      await execFileAsync('bash', [POSTGRES_SCRIPT, 'pause', pgDir])
      const atOutage = load.sent.length
      await waitForLoad(
        load,
        server,
        'refusals during the outage',
        () => load.sent.slice(atOutage).filter((item) => item.status === 503).length >= 2,
      )
      const during = load.sent
        .slice(atOutage)
        .filter((item) => item.status !== undefined && item.status !== 200)
      expect(new Set(during.map((item) => `${item.status} ${item.code}`))).toEqual(
        new Set(['503 ATT_ERR_NOT_READY']),
      )
      const ready = await request(`${installation.url}/ready`, { dispatcher })
      await ready.body.dump()
      expect(ready.statusCode).toBe(503)
      await execFileAsync('bash', [POSTGRES_SCRIPT, 'resume', pgDir])
      const atRecovery = load.sent.length
      await vi.waitUntil(
        () => load.sent.slice(atRecovery).filter((item) => item.status === 200).length >= 2,
        {
          timeout: 60_000,
          interval: 20,
        },
      )
      const sent = await load.stop()
      expect(server.child.exitCode).toBeNull()
      await expectInvariants(dispatcher, installation.url, sent)
    } finally {
      await dispatcher.close()
      await server.kill()
      await execFileAsync('bash', [POSTGRES_SCRIPT, 'stop', pgDir]).catch(() => undefined)
    }
  })
})
