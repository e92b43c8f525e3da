import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { type AddressInfo, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { runCli } from '../src/cli/cli.ts'
import { SESSION_COOKIE } from '../src/dashboard/dashboard-sessions.ts'
import { captureIo } from './capture-io.ts'
import { KubeWorld } from './kube-world.ts'
import { ADMIN_TOKEN, newAgentKey } from './server-harness.ts'
import { childLog, type ServerProcess, spawnServer } from './server-process.ts'

/*
 * `server { workers = 2 }`: the real `k8s-attest-server run` as a primary and two workers
 * sharing one port, against the Kubernetes test API. Whichever worker a connection lands on,
 * every attestation is recorded once, a dashboard session holds, the metrics add up, and
 * SIGTERM to the primary stops every process.
 */

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const AGENTS = 24
let world: KubeWorld
let dir: string
let configFile: string
let server: ServerProcess & { readonly url: string }
let trust: string

beforeAll(async () => {
  world = await KubeWorld.start()
  world.api.createObject(
    'configmaps',
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'spire-bundle' } },
    'spire',
  )
  dir = await mkdtemp(join(tmpdir(), 'k8s-attest-workers-'))
  await writeFile(join(dir, 'admin-token'), ADMIN_TOKEN)
  configFile = join(dir, 'server.conf')
  await writeFile(configFile, configText())
  server = await spawnServer(configFile)
  await eventually(() => logLines().filter((line) => line.msg === 'worker listening').length === 2)
  trust = await readFile(join(dir, 'data', 'ca', 'bundle.pem'), 'utf8')
}, 60_000)

afterAll(async () => {
  await server?.kill()
  await world?.stop()
  await rm(dir, { recursive: true, force: true })
})

function configText(): string {
  return `server {
  trust_domain = "example.org"
  bind_address = "127.0.0.1"
  bind_port = 0
  data_dir = "./data"
  workers = 2
  # Every request's "request completed" line names the worker that served it.
  log_level = "DEBUG"
  admin {
    bearer_token_file = "admin-token"
  }
  rate_limit {
    enabled = false
  }
}
telemetry {
  Prometheus {
    port = 0
  }
}
plugins {
  DataStore "sql" {
    plugin_data { database_type = "sqlite3" }
  }
  NodeAttestor "k8s_psat" {
    plugin_data {
      clusters = {
        "demo" = {
          service_account_allow_list = ["spire:spire-agent"]
          kube_config_file = "${world.kubeconfigPath}"
        }
      }
    }
  }
  Notifier "k8sbundle" {
    plugin_data { kube_config_file_path = "${world.kubeconfigPath}" }
  }
}
`
}

function logLines(): Record<string, unknown>[] {
  return server
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

async function eventually(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met; the server wrote:\n${server.output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** One request on a connection of its own, so that round-robin hands it to the next worker. */
async function onFreshConnection(
  path: string,
  options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
) {
  const dispatcher = new Agent({ connect: { ca: trust }, pipelining: 0 })
  try {
    const response = await request(`${server.url}${path}`, { dispatcher, ...options })
    const text = await response.body.text()
    return { status: response.statusCode, headers: response.headers, text }
  } finally {
    await dispatcher.close()
  }
}

it('attests agents concurrently through both workers, each recorded exactly once', async () => {
  const pods = Array.from({ length: AGENTS }, () => world.newAgentPod())
  const answers = await Promise.all(
    pods.map(async (pod) => {
      const body = JSON.stringify({
        attestation: { type: 'k8s_psat', payload: { cluster: 'demo', token: pod.token } },
        csr: (await newAgentKey()).csrPem,
      })
      return onFreshConnection('/v1/attest', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })
    }),
  )
  expect(answers.map((answer) => answer.status)).toEqual(pods.map(() => 200))
  const ids = answers.map((answer) => (JSON.parse(answer.text) as { spiffe_id: string }).spiffe_id)
  expect(new Set(ids).size).toBe(AGENTS)

  // A worker writes its line as it answers; the line crosses a pipe after the answer did.
  const attestedLines = () => logLines().filter((line) => line.msg === 'agent attested')
  await eventually(() => attestedLines().length >= AGENTS)
  const attested = attestedLines()
  expect(attested).toHaveLength(AGENTS)
  const byWorker = new Map<unknown, number>()
  for (const line of attested) byWorker.set(line.worker, (byWorker.get(line.worker) ?? 0) + 1)
  expect([...byWorker.keys()].sort()).toEqual([1, 2])

  const captured = captureIo()
  const status = await runCli(
    [
      'agent',
      'list',
      '-serverAddress',
      new URL(server.url).host,
      '-trustBundle',
      join(dir, 'data', 'ca', 'bundle.pem'),
      '-tokenFile',
      join(dir, 'admin-token'),
      '-output',
      'json',
    ],
    captured.io,
  )
  expect(status).toBe(0)
  const listed = (JSON.parse(captured.stdout()) as { spiffe_id: string }[]).map((agent) => agent.spiffe_id)
  expect(listed.sort()).toEqual([...ids].sort())

  // The primary serves /metrics from both workers' registries: the counters add up to what was
  // answered, and the agents gauge, which each worker reads from the one datastore, is not doubled.
  const metricsPort = logLines().find(
    (line) => typeof line.port === 'number' && line.worker === 'primary',
  )?.port
  const metrics = await (await request(`http://127.0.0.1:${String(metricsPort)}/metrics`)).body.text()
  const successes = metrics
    .split('\n')
    .filter((line) => line.startsWith('k8s_attest_attestations_total{') && line.includes('result="success"'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0)
  expect(successes).toBe(AGENTS)
  expect(metrics).toContain(`k8s_attest_agents{state="active"} ${AGENTS}`)
})

it('publishes the trust bundle from the primary, which maintains the CA, and from no worker', async () => {
  const published = () => logLines().filter((line) => line.msg === 'trust bundle published to ConfigMap')
  await eventually(() => published().length > 0)
  expect(published().map((line) => line.worker)).toEqual(['primary'])
  const configMap = world.api.getObject('configmaps', 'spire-bundle', 'spire').object as {
    data?: Record<string, string>
  }
  expect(configMap.data).toEqual({ 'bundle.crt': trust })
  // The primary's own counter is served with the workers' metrics.
  const metricsPort = logLines().find(
    (line) => typeof line.port === 'number' && line.worker === 'primary',
  )?.port
  const metrics = await (await request(`http://127.0.0.1:${String(metricsPort)}/metrics`)).body.text()
  expect(metrics).toContain('k8s_attest_bundle_notifier_rounds_total{outcome="published"} 1')
})

it('honours a dashboard session made through one worker on the other, and ends it everywhere', async () => {
  const signIn = await onFreshConnection('/dashboard/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
  })
  expect(signIn.status).toBe(303)
  const setCookie = String(signIn.headers['set-cookie'])
  const cookie = setCookie.slice(0, setCookie.indexOf(';'))
  expect(cookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true)

  const sessionViews = () =>
    logLines().filter((line) => line.msg === 'request completed' && line.url === '/dashboard/api/session')
  const views = await Promise.all(
    Array.from({ length: 8 }, () => onFreshConnection('/dashboard/api/session', { headers: { cookie } })),
  )
  expect(views.map((view) => view.status)).toEqual(views.map(() => 200))
  await eventually(() => sessionViews().length >= 8)
  expect(new Set(sessionViews().map((line) => line.worker))).toEqual(new Set([1, 2]))
  const csrf = new Set(views.map((view) => (JSON.parse(view.text) as { csrf_token: string }).csrf_token))
  expect(csrf.size).toBe(1)

  const signOut = await onFreshConnection('/dashboard/sign-out', {
    method: 'POST',
    headers: { cookie, 'x-csrf-token': [...csrf][0] as string, 'sec-fetch-site': 'same-origin' },
  })
  expect(signOut.status).toBe(204)
  const after = await Promise.all(
    Array.from({ length: 8 }, () => onFreshConnection('/dashboard/api/session', { headers: { cookie } })),
  )
  expect(after.map((view) => view.status)).toEqual(after.map(() => 401))
})

it('reloads every worker on SIGHUP to the primary, and on POST /v1/admin/reload through any one', async () => {
  const reloaded = () =>
    logLines().filter(
      (line) => line.check === 'config_reload' && line.msg === 'configuration reloaded: no change',
    )
  server.child.kill('SIGHUP')
  await eventually(() => reloaded().length === 2)
  expect(
    reloaded()
      .map((line) => line.worker)
      .sort(),
  ).toEqual([1, 2])

  const answer = await onFreshConnection('/v1/admin/reload', {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  })
  expect(answer.status).toBe(200)
  expect(
    reloaded()
      .map((line) => line.worker)
      .sort(),
  ).toEqual([1, 1, 2, 2])
})

it('stops with exit 1 when a worker cannot start (its port is taken)', async () => {
  const taken = createServer()
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
  const { port } = taken.address() as AddressInfo
  try {
    const file = join(dir, 'taken.conf')
    await writeFile(file, configText().replace('bind_port = 0', `bind_port = ${port}`))
    const child = spawn(process.execPath, ['--conditions=@k8s-attest/source', MAIN, 'run', '-config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const log = childLog(child)
    try {
      const [code] = await once(child, 'close')
      expect(code).toBe(1)
      expect(log.output()).toContain('EADDRINUSE')
      expect(log.output()).toContain('worker exited before it listened; stopping')
    } finally {
      // Should the primary not stop by itself, SIGTERM stops it and its workers.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    }
  } finally {
    await new Promise((resolve) => taken.close(resolve))
  }
}, 60_000)

it('restarts a worker that dies, reloads it once it listens, and stops every process on SIGTERM with exit 0', async () => {
  const pidsOf = () =>
    logLines()
      .filter((line) => line.msg === 'worker listening')
      .map((line) => line.pid as number)
  const [victim] = pidsOf()
  process.kill(victim as number, 'SIGKILL')
  await eventually(() => logLines().some((line) => line.msg === 'worker died; restarting it'))
  // SIGHUP while its successor starts: it may have read the file before the change, so it is
  // reloaded once it listens; the reload is not refused for want of it.
  const sawStarting = () =>
    logLines().some((line) => line.starting === 1 && line.reloaded === 1 && line.exited === 0)
  await eventually(() => {
    if (!sawStarting()) server.child.kill('SIGHUP')
    return sawStarting()
  })
  await eventually(() => pidsOf().length === 3)
  await eventually(() =>
    logLines().some((line) => line.msg === 'worker reloaded its configuration once it listened'),
  )
  expect(logLines().filter((line) => String(line.msg).startsWith('configuration reload refused'))).toEqual([])
  const ready = await onFreshConnection('/ready')
  expect(ready.status).toBe(200)

  // 'close': the exit status and every line the process wrote.
  const exited = once(server.child, 'close')
  server.child.kill('SIGTERM')
  const [code] = await exited
  expect(code).toBe(0)
  const stopped = logLines().filter((line) => line.msg === 'worker stopped')
  expect(stopped).toHaveLength(2)
  for (const pid of pidsOf())
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }))
}, 60_000)
