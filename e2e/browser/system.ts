import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { request } from 'node:https'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/*
 * The system under test, as processes: the Kubernetes test API (its own main.ts, seeded like the
 * demo), the k8s-attest server and one agent per node (their CLIs), all on 127.0.0.1. Nothing
 * here imports the apps: they are driven as an operator drives them, through configuration
 * files, the Kubernetes API and their command lines.
 */

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const ENTRIES = {
  kubeTestApi: join(REPO, 'packages/kube-test-api/src/main.ts'),
  server: join(REPO, 'apps/server/src/main.ts'),
  agent: join(REPO, 'apps/agent/src/main.ts'),
} as const
const NAMESPACE = 'spire'
const AGENT_ACCOUNT = 'spire-agent'
const SERVER_ACCOUNT = 'spire-server'
const TRUST_DOMAIN = 'e2e.k8s-attest.test'
const CLUSTER = 'demo'

/** Polls `probe` until it returns a value other than `undefined`, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last })
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** A child process whose output goes to a log file. */
class Child {
  readonly #process: ChildProcess
  readonly exited: Promise<number | null>
  #output = ''

  constructor(entry: string, args: readonly string[], logPath: string) {
    this.#process = spawn(process.execPath, ['--conditions=@k8s-attest/source', entry, ...args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const log = createWriteStream(logPath)
    for (const stream of [this.#process.stdout, this.#process.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        this.#output += chunk.toString()
        log.write(chunk)
      })
    }
    this.exited = once(this.#process, 'exit').then(([code]) => {
      log.end()
      return code as number | null
    })
  }

  get output(): string {
    return this.#output
  }

  get running(): boolean {
    return this.#process.exitCode === null && this.#process.signalCode === null
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.#process.kill('SIGTERM')
    const timer = setTimeout(() => this.#process.kill('SIGKILL'), 10_000)
    await this.exited
    clearTimeout(timer)
  }
}

/** The Kubernetes API over HTTPS with the admin kubeconfig the test API wrote. */
class KubeApi {
  readonly server: string
  readonly caPem: string
  readonly #token: string

  constructor(kubeconfig: string) {
    // The test API writes this file itself, in one fixed layout; three fields are all it takes.
    const field = (name: string) => {
      const value = new RegExp(`${name}: "?([^"\\s]+)"?`).exec(kubeconfig)?.[1]
      if (value === undefined) throw new Error(`the admin kubeconfig has no ${name}`)
      return value
    }
    this.server = field('server')
    this.caPem = Buffer.from(field('certificate-authority-data'), 'base64').toString()
    this.#token = field('token')
  }

  // biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are read field by field in tests.
  call(method: string, path: string, body?: unknown): Promise<any> {
    return httpsJson(new URL(path, this.server), this.caPem, method, {
      headers: { authorization: `Bearer ${this.#token}` },
      body,
    }).then(({ status, json }) => {
      if (status >= 300) throw new Error(`${method} ${path}: HTTP ${status} ${JSON.stringify(json)}`)
      return json
    })
  }

  async tokenFor(serviceAccount: string, spec: Record<string, unknown>): Promise<string> {
    const review = await this.call(
      'POST',
      `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/${serviceAccount}/token`,
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec,
      },
    )
    return review.status.token as string
  }
}

/** One JSON request over HTTPS trusting `caPem`. */
export function httpsJson(
  url: URL,
  caPem: string,
  method: string,
  options: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method,
        ca: caPem,
        headers: { accept: 'application/json', 'content-type': 'application/json', ...options.headers },
      },
      (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          text += chunk
        })
        response.on('end', () => {
          let json: unknown
          try {
            json = text === '' ? undefined : JSON.parse(text)
          } catch {
            json = text
          }
          resolve({ status: response.statusCode ?? 0, json })
        })
      },
    )
    outgoing.on('error', reject)
    outgoing.end(options.body === undefined ? undefined : JSON.stringify(options.body))
  })
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** An agent process on one node. */
export interface RunningAgent {
  readonly nodeName: string
  readonly process: Child
}

/** The whole system; {@link startSystem} starts it. */
export class System {
  readonly dir: string
  readonly url: string
  readonly adminToken: string
  readonly agents = new Map<string, RunningAgent>()
  readonly #kube: KubeApi
  readonly #children: Child[]
  readonly #bundlePath: string
  readonly #port: number

  constructor(fields: {
    dir: string
    port: number
    adminToken: string
    kube: KubeApi
    children: Child[]
    bundlePath: string
  }) {
    this.dir = fields.dir
    this.#port = fields.port
    this.url = `https://127.0.0.1:${fields.port}`
    this.adminToken = fields.adminToken
    this.#kube = fields.kube
    this.#children = fields.children
    this.#bundlePath = fields.bundlePath
  }

  /** The admin API with the bearer token (for checks the browser does not make). */
  async admin(method: string, path: string): Promise<{ status: number; json: unknown }> {
    return httpsJson(new URL(path, this.url), await readFile(this.#bundlePath, 'utf8'), method, {
      headers: { authorization: `Bearer ${this.adminToken}` },
    })
  }

  /** Starts an agent for the agent pod on each node (as its DaemonSet pod would run). */
  async startAgentsOnEveryNode(): Promise<void> {
    const pods = await this.#kube.call('GET', `/api/v1/namespaces/${NAMESPACE}/pods`)
    for (const pod of pods.items) {
      await this.#startAgent(pod.spec.nodeName, pod.metadata.name, pod.metadata.uid)
    }
  }

  /** Adds a node and an agent pod on it, as a scale-up and the DaemonSet would, and starts its agent. */
  async addNode(nodeName: string): Promise<void> {
    await this.#kube.call('POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: nodeName, labels: { 'topology.kubernetes.io/zone': `zone-of-${nodeName}` } },
    })
    const pod = await this.#kube.call('POST', `/api/v1/namespaces/${NAMESPACE}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${nodeName}-agent`, labels: { app: 'spire-agent' } },
      spec: {
        serviceAccountName: AGENT_ACCOUNT,
        nodeName,
        containers: [{ name: 'spire-agent', image: 'k8s-attest-agent' }],
      },
    })
    await this.#startAgent(nodeName, pod.metadata.name, pod.metadata.uid)
  }

  async stop(): Promise<void> {
    const agents = [...this.agents.values()].map((agent) => agent.process)
    await Promise.all(agents.map((child) => child.stop()))
    for (const child of [...this.#children].reverse()) await child.stop()
  }

  async #startAgent(nodeName: string, podName: string, podUid: string): Promise<void> {
    const dir = join(this.dir, 'agents', nodeName)
    await mkdir(join(dir, 'data'), { recursive: true })
    const token = await this.#kube.tokenFor(AGENT_ACCOUNT, {
      audiences: ['spire-server'],
      expirationSeconds: 7200,
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: podName, uid: podUid },
    })
    await writeFile(join(dir, 'token'), token, { mode: 0o600 })
    await writeFile(
      join(dir, 'agent.conf'),
      `agent {
  trust_domain      = "${TRUST_DOMAIN}"
  server_address    = "127.0.0.1"
  server_port       = ${this.#port}
  data_dir          = "${join(dir, 'data')}"
  trust_bundle_path = "${this.#bundlePath}"
  log_level         = "INFO"
  retry_initial_interval = "1s"
  retry_max_interval     = "2s"
}

plugins {
  NodeAttestor "k8s_psat" {
    plugin_data {
      cluster    = "${CLUSTER}"
      token_path = "${join(dir, 'token')}"
    }
  }
}
`,
    )
    const child = new Child(
      ENTRIES.agent,
      ['run', '-config', join(dir, 'agent.conf')],
      join(dir, 'agent.log'),
    )
    this.agents.set(nodeName, { nodeName, process: child })
  }
}

/**
 * Starts the test API, the server (agent SVIDs of one minute, so agents re-attest every 30 s),
 * and an agent on each of the seeded nodes. Every file and log is in `dir`.
 */
export async function startSystem(dir: string): Promise<System> {
  await mkdir(dir, { recursive: true })
  const children: Child[] = []
  try {
    const kubeconfigPath = join(dir, 'admin.kubeconfig')
    const api = new Child(
      ENTRIES.kubeTestApi,
      ['--seed', 'demo', '--kubeconfig', kubeconfigPath],
      join(dir, 'kube-test-api.log'),
    )
    children.push(api)
    await eventually('the Kubernetes test API', async () => {
      if (!api.running) throw new Error(`the test API exited:\n${api.output}`)
      return api.output.includes('kubeconfig: ') ? true : undefined
    })
    const kube = new KubeApi(await readFile(kubeconfigPath, 'utf8'))

    const serverToken = await kube.tokenFor(SERVER_ACCOUNT, { expirationSeconds: 86_400 })
    const serverKubeconfig = join(dir, 'server.kubeconfig')
    await writeFile(
      serverKubeconfig,
      `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: "${kube.server}"
    certificate-authority-data: "${Buffer.from(kube.caPem).toString('base64')}"
users:
- name: spire-server
  user:
    token: "${serverToken}"
contexts:
- name: test
  context: { cluster: test, user: spire-server }
current-context: test
`,
      { mode: 0o600 },
    )
    const adminToken = randomBytes(32).toString('hex')
    await writeFile(join(dir, 'admin-token'), `${adminToken}\n`, { mode: 0o600 })
    const port = await freePort()
    const dataDir = join(dir, 'server-data')
    await writeFile(
      join(dir, 'server.conf'),
      `server {
  trust_domain = "${TRUST_DOMAIN}"
  bind_address = "127.0.0.1"
  bind_port    = ${port}
  data_dir     = "${dataDir}"
  agent_ttl    = "1m"
  log_level    = "INFO"
  dns_names    = ["localhost"]
  admin {
    bearer_token_file = "${join(dir, 'admin-token')}"
  }
  rate_limit {
    enabled = false
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
        "${CLUSTER}" = {
          service_account_allow_list = ["${NAMESPACE}:${AGENT_ACCOUNT}"]
          kube_config_file           = "${serverKubeconfig}"
          allowed_node_label_keys    = ["topology.kubernetes.io/zone"]
          allowed_pod_label_keys     = ["app"]
        }
      }
    }
  }
}
`,
    )
    const server = new Child(
      ENTRIES.server,
      ['run', '-config', join(dir, 'server.conf')],
      join(dir, 'server.log'),
    )
    children.push(server)
    const bundlePath = join(dataDir, 'ca', 'bundle.pem')
    await eventually('the server to be ready', async () => {
      if (!server.running) throw new Error(`the server exited:\n${server.output}`)
      const bundle = await readFile(bundlePath, 'utf8')
      const ready = await httpsJson(new URL(`https://127.0.0.1:${port}/ready`), bundle, 'GET')
      return ready.status === 200 ? true : undefined
    })
    const system = new System({ dir, port, adminToken, kube, children, bundlePath })
    await system.startAgentsOnEveryNode()
    return system
  } catch (error) {
    for (const child of children.reverse()) await child.stop()
    throw error
  }
}
