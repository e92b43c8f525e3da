import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { type AgentListResponse, WIRE_PATHS } from '@k8s-attest/core'
import { type KubeTestApi, seedDemoCluster, startKubeTestApi } from '@k8s-attest/kube-test-api'
import { Agent, request } from 'undici'
import { type ChildHandle, startChild } from './child-process.ts'
import { renderAgentConfig, renderServerConfig } from './demo-files.ts'

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** A directory of its own for configs, tokens, data and logs; created if missing. */
  readonly workDir: string
  /** The agents' SVID lifetime: short, so the demo shows rotation. @default "2m" */
  readonly agentTtl?: string
  /** Progress lines for the person watching. @default no output */
  readonly say?: (line: string) => void
}

/** A running demo. */
export interface Demo {
  readonly serverUrl: string
  readonly trustDomain: string
  readonly workDir: string
  readonly agentCount: number
  /** The agents the server has recorded, through its admin API. */
  listAgents(): Promise<AgentListResponse['agents']>
  /** Waits until the server has recorded every agent (throws after `timeoutMs`). */
  waitForAgents(timeoutMs?: number): Promise<AgentListResponse['agents']>
  /** Stops agents, server and cluster, in that order. */
  stop(): Promise<void>
}

const TRUST_DOMAIN = 'demo.k8s-attest.test'
const CLUSTER = 'demo'
/** The audience SPIRE's k8s_psat manifests project for the agent token. */
const AGENT_TOKEN_AUDIENCE = 'spire-server'
/** As in SPIRE's manifests; kubelet would refresh it at 80 % of its life. */
const AGENT_TOKEN_SECONDS = 7200

/**
 * The demo: an embedded Kubernetes cluster (the project's Kubernetes test API, seeded with a
 * `spire` namespace, three nodes and an agent pod on each), the k8s-attest server configured
 * for it with its own RBAC-limited service account, and one agent process per node holding a
 * projected, pod-bound token — then waits for the server to record them.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const say = options.say ?? (() => {})
  const dir = (name: string) => join(options.workDir, name)
  await mkdir(dir('logs'), { recursive: true })

  const cluster = await startKubeTestApi()
  const children: ChildHandle[] = []
  const stop = async () => {
    await Promise.all(children.filter((child) => child.name !== 'server').map((child) => child.stop()))
    await Promise.all(children.filter((child) => child.name === 'server').map((child) => child.stop()))
    await cluster.stop()
  }
  try {
    const seed = seedDemoCluster(cluster)
    say(`cluster   ${cluster.url} (${seed.nodes.length} nodes, namespace ${seed.namespace})`)

    const kubeconfigPath = await writeServerKubeconfig(cluster, seed.serverServiceAccount.name, dir('server'))
    const adminToken = randomBytes(32).toString('base64url')
    const adminTokenPath = dir('server/admin-token')
    await writeFile(adminTokenPath, `${adminToken}\n`, { mode: 0o600 })
    const port = await freePort()
    const dataDir = dir('server/data')
    const serverConfigPath = dir('server/server.conf')
    await writeFile(
      serverConfigPath,
      renderServerConfig({
        trustDomain: TRUST_DOMAIN,
        cluster: CLUSTER,
        port,
        dataDir,
        kubeconfigPath,
        adminTokenPath,
        agentTtl: options.agentTtl ?? '2m',
      }),
    )
    children.push(
      await startChild({
        name: 'server',
        entry: import.meta.resolve('@k8s-attest/server/main'),
        args: ['run', '-config', serverConfigPath],
        logPath: dir('logs/server.log'),
      }),
    )
    const serverUrl = `https://127.0.0.1:${port}`
    const bundlePath = join(dataDir, 'ca', 'bundle.pem')
    const dispatcher = await waitForServer(serverUrl, bundlePath, children[0] as ChildHandle)
    say(`server    ${serverUrl} (logs: ${dir('logs/server.log')})`)

    for (const pod of seed.agentPods) {
      const node = String((pod.object.spec as { nodeName?: unknown } | undefined)?.nodeName ?? pod.name)
      const agentDir = dir(`agents/${node}`)
      await mkdir(agentDir, { recursive: true })
      const tokenPath = join(agentDir, 'token')
      const { token } = cluster.requestToken({
        namespace: seed.namespace,
        serviceAccount: seed.agentServiceAccount.name,
        audiences: [AGENT_TOKEN_AUDIENCE],
        expirationSeconds: AGENT_TOKEN_SECONDS,
        boundObject: { kind: 'Pod', name: pod.name, uid: pod.uid },
      })
      await writeFile(tokenPath, token, { mode: 0o600 })
      const configPath = join(agentDir, 'agent.conf')
      await writeFile(
        configPath,
        renderAgentConfig({
          trustDomain: TRUST_DOMAIN,
          cluster: CLUSTER,
          serverPort: port,
          dataDir: join(agentDir, 'data'),
          trustBundlePath: bundlePath,
          tokenPath,
        }),
      )
      children.push(
        await startChild({
          name: `agent ${node}`,
          entry: import.meta.resolve('@k8s-attest/agent/main'),
          args: ['run', '-config', configPath],
          logPath: dir(`logs/agent-${node}.log`),
        }),
      )
      say(`agent     ${node} (pod ${seed.namespace}/${pod.name}, logs: ${dir(`logs/agent-${node}.log`)})`)
    }

    const listAgents = async () => {
      const response = await request(`${serverUrl}${WIRE_PATHS.adminAgents}`, {
        dispatcher,
        headers: { authorization: `Bearer ${adminToken}` },
      })
      const body = await response.body.text()
      if (response.statusCode !== 200) {
        throw new Error(`the admin API answered ${response.statusCode}: ${body.slice(0, 300)}`)
      }
      return (JSON.parse(body) as AgentListResponse).agents
    }
    const agentCount = seed.agentPods.length
    return {
      serverUrl,
      trustDomain: TRUST_DOMAIN,
      workDir: options.workDir,
      agentCount,
      listAgents,
      async waitForAgents(timeoutMs = 30_000) {
        const deadline = Date.now() + timeoutMs
        for (;;) {
          const agents = await listAgents()
          if (agents.length >= agentCount) return agents
          const exited = await firstExited(children)
          if (exited !== undefined) {
            throw new Error(`${exited.name} exited with ${exited.code}; see ${exited.logPath}`)
          }
          if (Date.now() > deadline) {
            throw new Error(`${agents.length} of ${agentCount} agents attested after ${timeoutMs} ms`)
          }
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
      },
      async stop() {
        await dispatcher.close()
        await stop()
      },
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/**
 * A kubeconfig for the server's own service account, holding a token issued by TokenRequest:
 * the server reaches the cluster with exactly the RBAC it would have in a real one.
 */
async function writeServerKubeconfig(cluster: KubeTestApi, serviceAccount: string, dir: string) {
  await mkdir(dir, { recursive: true })
  const { token } = cluster.requestToken({ namespace: 'spire', serviceAccount, expirationSeconds: 86_400 })
  return cluster.writeKubeconfig({
    identity: { name: `system:serviceaccount:spire:${serviceAccount}`, token },
    path: join(dir, 'kubeconfig'),
  })
}

/** Waits for the server's CA bundle and `/ready`, failing early if the server exits. */
async function waitForServer(url: string, bundlePath: string, server: ChildHandle): Promise<Agent> {
  const deadline = Date.now() + 30_000
  let lastProblem = 'no answer yet'
  for (;;) {
    const exited = await firstExited([server])
    if (exited !== undefined) throw new Error(`the server exited with ${exited.code}; see ${server.logPath}`)
    if (Date.now() > deadline)
      throw new Error(`the server is not ready after 30 s (${lastProblem}); see ${server.logPath}`)
    const ca = await readFile(bundlePath, 'utf8').catch(() => undefined)
    if (ca !== undefined) {
      const dispatcher = new Agent({ connect: { ca } })
      try {
        const response = await request(`${url}/ready`, { dispatcher })
        lastProblem = `/ready answered ${response.statusCode}: ${await response.body.text()}`
        if (response.statusCode === 200) return dispatcher
      } catch (error) {
        lastProblem = error instanceof Error ? error.message : String(error)
      }
      await dispatcher.close()
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

async function firstExited(children: readonly ChildHandle[]) {
  const pending = Symbol('pending')
  for (const child of children) {
    const code = await Promise.race([child.exited, Promise.resolve(pending)])
    if (code !== pending) return { name: child.name, code, logPath: child.logPath }
  }
  return undefined
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no TCP port could be reserved')
  return address.port
}
