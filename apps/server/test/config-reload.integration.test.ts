import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AdminClient } from '@k8s-attest/admin-client'
import { isAttestError } from '@k8s-attest/core'
import { Agent, request } from 'undici'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { buildApp } from '../src/app.ts'
import { CertificateAuthority } from '../src/ca/certificate-authority.ts'
import { runCli } from '../src/cli/cli.ts'
import { loadServerConfig } from '../src/config/load-server-config.ts'
import { openAgentStore } from '../src/datastore/open-agent-store.ts'
import { createClusterClients } from '../src/kubernetes/cluster-clients.ts'
import { createLogger } from '../src/logging/logger.ts'
import { captureIo } from './capture-io.ts'
import { expectProblem } from './expect-problem.ts'
import { KubeWorld } from './kube-world.ts'
import { ADMIN_TOKEN, newAgentKey, RunningServer } from './server-harness.ts'
import { childLog } from './server-process.ts'

/*
 * Configuration reload without restart: the server is built from a real configuration file
 * through the one loader, the file is rewritten, and `POST /v1/admin/reload` (or SIGHUP, for
 * the process) applies it. Clusters are backed by one Kubernetes test API under several names.
 */

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` }

let world: KubeWorld
let dir: string

beforeAll(async () => {
  world = await KubeWorld.start()
  dir = await mkdtemp(join(tmpdir(), 'k8s-attest-reload-'))
  await writeFile(join(dir, 'admin-token'), ADMIN_TOKEN)
})

afterAll(async () => {
  await world?.stop()
  await rm(dir, { recursive: true, force: true })
})

interface ClusterSpec {
  readonly allow?: readonly string[]
}

/** A server configuration with these k8s_psat clusters, all on the test world. */
function configText(clusters: Record<string, ClusterSpec>, server = 'bind_port = 0'): string {
  const entries = Object.entries(clusters)
    .map(
      ([name, spec]) => `        "${name}" = {
          service_account_allow_list = ${JSON.stringify(spec.allow ?? ['spire:spire-agent'])}
          kube_config_file = "${world.kubeconfigPath}"
        }`,
    )
    .join('\n')
  return `server {
  trust_domain = "example.org"
  bind_address = "127.0.0.1"
  data_dir = "./data"
  ${server}
  admin {
    bearer_token_file = "admin-token"
  }
  rate_limit {
    enabled = false
  }
}
plugins {
  DataStore "sql" {
    plugin_data { database_type = "sqlite3" }
  }
  NodeAttestor "k8s_psat" {
    plugin_data {
      clusters = {
${entries}
      }
    }
  }
}
`
}

/** Builds the server as `run` does, from the file, with the loader and client factory for reloads. */
async function startFromFile(file: string): Promise<RunningServer> {
  const config = await loadServerConfig(file)
  const logLines: string[] = []
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => void logLines.push(line) },
  })
  const store = await openAgentStore({ ...config.dataStore, logger })
  const ca = await CertificateAuthority.open({
    dataDir: config.dataDir,
    trustDomain: config.trustDomain,
    caTtlMs: config.caTtlMs,
    agentTtlMs: config.agentTtlMs,
  })
  const app = await buildApp(config, {
    store,
    ca,
    logger,
    clusterClients: createClusterClients(config.nodeAttestors),
    reload: { loadConfig: () => loadServerConfig(file), createClusterClients },
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return new RunningServer(app, store, ca, config.dataDir, false, logLines)
}

function reloadLogLines(server: RunningServer): Record<string, unknown>[] {
  return server.logLines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.check === 'config_reload')
}

async function attestNewPod(server: RunningServer, cluster: string, serviceAccount?: string) {
  const pod = world.newAgentPod(serviceAccount === undefined ? {} : { serviceAccount })
  return server.attest('k8s_psat', cluster, pod.token, (await newAgentKey()).csrPem)
}

describe('POST /v1/admin/reload', () => {
  let file: string
  let server: RunningServer

  beforeEach(async () => {
    const caseDir = await mkdtemp(join(dir, 'case-'))
    await writeFile(join(caseDir, 'admin-token'), ADMIN_TOKEN)
    file = join(caseDir, 'server.conf')
    await writeFile(file, configText({ demo: {} }))
    server = await startFromFile(file)
  })

  afterEach(async () => {
    await server?.close()
  })

  it('adds a cluster: the next attestation for it succeeds, and the change is logged once', async () => {
    expectProblem(await attestNewPod(server, 'second'), 400, 'ATT_ERR_UNKNOWN_CLUSTER')
    await writeFile(file, configText({ demo: {}, second: {} }))
    const reloaded = await server.request('POST', '/v1/admin/reload', { headers: ADMIN })
    expect(reloaded).toMatchObject({
      status: 200,
      body: {
        config_file: file,
        k8s_psat: { added: ['second'], changed: [], removed: [] },
        k8s_sat: { added: [], changed: [], removed: [] },
      },
    })
    expect((await attestNewPod(server, 'second')).status).toBe(200)
    expect((await attestNewPod(server, 'demo')).status).toBe(200)
    const logged = reloadLogLines(server)
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatchObject({
      level: 'info',
      msg: 'configuration reloaded',
      k8s_psat: { added: ['second'] },
    })
  })

  it('changes an allow-list: a service account newly allowed attests, one no longer allowed is refused', async () => {
    expectProblem(await attestNewPod(server, 'demo', 'intruder'), 403, 'ATT_ERR_SA_NOT_ALLOWED')
    await writeFile(file, configText({ demo: { allow: ['spire:intruder'] } }))
    const reloaded = await server.request('POST', '/v1/admin/reload', { headers: ADMIN })
    expect(reloaded.body).toMatchObject({ k8s_psat: { added: [], changed: ['demo'], removed: [] } })
    expect((await attestNewPod(server, 'demo', 'intruder')).status).toBe(200)
    expectProblem(await attestNewPod(server, 'demo'), 403, 'ATT_ERR_SA_NOT_ALLOWED')
  })

  it('removes a cluster: its next attestation is refused as an unknown cluster', async () => {
    await writeFile(file, configText({ demo: {}, second: {} }))
    await server.request('POST', '/v1/admin/reload', { headers: ADMIN })
    await writeFile(file, configText({ second: {} }))
    const reloaded = await server.request('POST', '/v1/admin/reload', { headers: ADMIN })
    expect(reloaded.body).toMatchObject({ k8s_psat: { added: [], changed: [], removed: ['demo'] } })
    const refused = expectProblem(await attestNewPod(server, 'demo'), 400, 'ATT_ERR_UNKNOWN_CLUSTER')
    expect(refused.expected).toBe('second')
    expect((await attestNewPod(server, 'second')).status).toBe(200)
  })

  it('refuses an invalid file as a whole, listing every problem; the running configuration stays', async () => {
    // One good change (a new cluster) next to two problems: nothing of it may be applied.
    await writeFile(
      file,
      configText({ demo: { allow: ['no-colon'] }, second: {} }).replace('trust_domain', 'trust_domian'),
    )
    const refused = await server.request('POST', '/v1/admin/reload', { headers: ADMIN })
    const problem = expectProblem(refused, 409, 'ATT_ERR_CONFIG_RELOAD_REFUSED')
    expect(problem).toMatchObject({ check: 'config_valid', value: file })
    expect(problem.detail).toContain('trust_domian')
    expect(problem.detail).toContain('service_account_allow_list')
    expect(problem.detail).toContain('the running configuration stays')
    expect((await attestNewPod(server, 'demo')).status).toBe(200)
    expectProblem(await attestNewPod(server, 'second'), 400, 'ATT_ERR_UNKNOWN_CLUSTER')
    const logged = reloadLogLines(server)
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatchObject({ level: 'error' })
  })

  it('refuses a change of a key that needs a restart, naming it; the running configuration stays', async () => {
    await writeFile(file, configText({ demo: {}, second: {} }, 'bind_port = 8443\nca_ttl = "48h"'))
    const refused = await server.request('POST', '/v1/admin/reload', { headers: ADMIN })
    const problem = expectProblem(refused, 409, 'ATT_ERR_CONFIG_RELOAD_REFUSED')
    expect(problem).toMatchObject({ check: 'config_reloadable', value: 'server.bind_port, server.ca_ttl' })
    expect(problem.detail).toContain('need a restart to change: server.bind_port, server.ca_ttl')
    expectProblem(await attestNewPod(server, 'second'), 400, 'ATT_ERR_UNKNOWN_CLUSTER')
  })

  it('lets an attestation that started before the reload finish on the clusters it started with', async () => {
    await writeFile(file, configText({ demo: {}, second: {} }))
    await server.request('POST', '/v1/admin/reload', { headers: ADMIN })
    const before = server.app.attestation.clusters
    const hang = world.api.faults.inject({ verb: 'create', resource: 'tokenreviews', hang: true, times: 1 })
    const inFlight = attestNewPod(server, 'demo')
    await vi.waitUntil(() => hang.hits === 1)
    // Removes the very cluster the running attestation is using.
    await writeFile(file, configText({ second: {} }))
    expect((await server.request('POST', '/v1/admin/reload', { headers: ADMIN })).status).toBe(200)
    expect(server.app.attestation.clusters).not.toBe(before)
    expect(before.inFlight).toBe(1)
    hang.remove()
    expect((await inFlight).status).toBe(200)
    // The replaced clusters close once their last attestation is done.
    await before.retire()
    expect(before.inFlight).toBe(0)
    expectProblem(await attestNewPod(server, 'demo'), 400, 'ATT_ERR_UNKNOWN_CLUSTER')
  })

  it('answers a reload with nothing changed, and logs it once', async () => {
    const reloaded = await server.request('POST', '/v1/admin/reload', { headers: ADMIN })
    expect(reloaded.body).toMatchObject({ k8s_psat: { added: [], changed: [], removed: [] } })
    expect(reloadLogLines(server)).toEqual([
      expect.objectContaining({ msg: 'configuration reloaded: no change' }),
    ])
  })

  it('refuses callers without the admin credential', async () => {
    await writeFile(file, configText({ demo: {}, second: {} }))
    expectProblem(await server.request('POST', '/v1/admin/reload'), 401, 'ATT_ERR_UNAUTHENTICATED')
    expectProblem(
      await server.request('POST', '/v1/admin/reload', { headers: { authorization: 'Bearer wrong' } }),
      401,
      'ATT_ERR_UNAUTHENTICATED',
    )
    expectProblem(await attestNewPod(server, 'second'), 400, 'ATT_ERR_UNKNOWN_CLUSTER')
  })

  describe('AdminClient.reload and k8s-attest-server reload', () => {
    async function cli(...args: string[]) {
      const captured = captureIo()
      const status = await runCli(args, captured.io)
      return { status, stdout: captured.stdout(), stderr: captured.stderr() }
    }

    const connection = () => [
      '-serverAddress',
      server.url.replace('https://', ''),
      '-trustBundle',
      join(server.dataDir, 'ca', 'bundle.pem'),
      '-tokenFile',
      join(dirname(file), 'admin-token'),
    ]

    it('the client answers what changed, and throws the refusal with its check and every problem', async () => {
      const client = AdminClient.connect({
        url: server.url,
        trustBundlePem: server.ca.bundle().pem,
        credential: { token: ADMIN_TOKEN },
      })
      try {
        await writeFile(file, configText({ demo: {}, second: {} }))
        expect(await client.reload()).toEqual({
          config_file: file,
          k8s_psat: { added: ['second'], changed: [], removed: [] },
          k8s_sat: { added: [], changed: [], removed: [] },
        })
        expect((await attestNewPod(server, 'second')).status).toBe(200)

        await writeFile(
          file,
          configText({ demo: { allow: ['no-colon'] } }).replace('trust_domain', 'trust_domian'),
        )
        const refused = await client.reload().then(
          () => undefined,
          (error: unknown) => error,
        )
        if (!isAttestError(refused)) throw new Error(`expected a refusal, got ${String(refused)}`)
        expect(refused.code).toBe('ATT_ERR_CONFIG_RELOAD_REFUSED')
        expect(refused.details).toMatchObject({ check: 'config_valid', value: file })
        expect(refused.message).toContain('trust_domian')
        expect(refused.message).toContain('service_account_allow_list')
        expect((await attestNewPod(server, 'second')).status).toBe(200)
      } finally {
        await client.close()
      }
    })

    it('the CLI prints what changed (pretty and JSON), exits 0, and the change applies', async () => {
      await writeFile(file, configText({ demo: { allow: ['spire:intruder'] }, second: {} }))
      expect(await cli('reload', ...connection())).toEqual({
        status: 0,
        stdout: [
          `Configuration reloaded from ${file}`,
          'k8s_psat clusters added   : second',
          'k8s_psat clusters changed : demo',
          '',
        ].join('\n'),
        stderr: '',
      })
      expect((await attestNewPod(server, 'demo', 'intruder')).status).toBe(200)
      const again = await cli('reload', ...connection(), '-output', 'json')
      expect(again.status).toBe(0)
      expect(JSON.parse(again.stdout)).toMatchObject({ k8s_psat: { added: [], changed: [], removed: [] } })
      expect((await cli('reload', ...connection())).stdout).toBe(
        `Configuration reloaded from ${file}\nNo cluster changed\n`,
      )
    })

    it('the CLI prints a refused reload with the key that needs a restart and exits 1; bad usage exits 2', async () => {
      await writeFile(file, configText({ demo: {}, second: {} }, 'bind_port = 8443'))
      const refused = await cli('reload', ...connection())
      expect(refused.status).toBe(1)
      expect(refused.stdout).toBe('')
      expect(refused.stderr).toMatch(
        /^Error: reload the configuration: .*server\.bind_port.*\(ATT_ERR_CONFIG_RELOAD_REFUSED, HTTP 409\)\n$/s,
      )
      expectProblem(await attestNewPod(server, 'second'), 400, 'ATT_ERR_UNKNOWN_CLUSTER')

      const wrongToken = join(dirname(file), 'wrong-token')
      await writeFile(wrongToken, 'nope')
      const unauthenticated = await cli('reload', ...connection().slice(0, 4), '-tokenFile', wrongToken)
      expect(unauthenticated.status).toBe(1)
      expect(unauthenticated.stderr).toContain('ATT_ERR_UNAUTHENTICATED, HTTP 401')

      const extra = await cli('reload', ...connection(), 'now')
      expect(extra.status).toBe(2)
      expect(extra.stderr).toContain('reload takes no arguments, got "now"')
      expect(extra.stderr).toContain('-serverAddress')
    })
  })
})

describe('SIGHUP', () => {
  it('reloads the configuration of a running server process, which keeps running', async () => {
    const caseDir = await mkdtemp(join(dir, 'sighup-'))
    await writeFile(join(caseDir, 'admin-token'), ADMIN_TOKEN)
    const file = join(caseDir, 'server.conf')
    await writeFile(file, configText({ demo: {} }))
    const child = spawn(process.execPath, ['--conditions=@k8s-attest/source', MAIN, 'run', '-config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const log = childLog(child)
    try {
      const url = await log.waitFor(/Server listening at (https:\/\/127\.0\.0\.1:\d+)/)
      const dispatcher = new Agent({
        connect: { ca: await readFile(join(caseDir, 'data', 'ca', 'bundle.pem'), 'utf8') },
      })
      const attest = async (cluster: string) => {
        const pod = world.newAgentPod()
        const response = await request(`${url}/v1/attest`, {
          method: 'POST',
          dispatcher,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            attestation: { type: 'k8s_psat', payload: { cluster, token: pod.token } },
            csr: (await newAgentKey()).csrPem,
          }),
        })
        await response.body.dump()
        return response.statusCode
      }
      expect(await attest('second')).toBe(400)

      await writeFile(file, configText({ demo: {}, second: {} }))
      child.kill('SIGHUP')
      await log.waitFor(/"msg":"(configuration reloaded)"/)
      expect(await attest('second')).toBe(200)

      await writeFile(file, configText({ demo: {} }, 'bind_port = 0\nlog_level = "DEBUG"'))
      child.kill('SIGHUP')
      await log.waitFor(
        /"msg":"configuration reload refused: this key needs a restart to change: (server\.log_level)/,
      )
      expect(await attest('second')).toBe(200)
      expect(child.exitCode).toBeNull()
      await dispatcher.close()
      child.kill('SIGTERM')
      const [code] = (await once(child, 'exit')) as [number | null]
      expect(code).toBe(0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })
})
