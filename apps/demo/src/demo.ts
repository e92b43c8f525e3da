import { join } from 'node:path'
import type { AgentView } from '@k8s-attest/core'
import { installAgent, type RunningAgent, startAgent } from './system/agent-process.ts'
import { type AgentNode, startTestCluster, type TestCluster } from './system/cluster.ts'
import { eventually } from './system/eventually.ts'
import {
  installServer,
  type RunningServer,
  type ServerInstallation,
  startServer,
} from './system/server-process.ts'

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** A directory of its own for configs, tokens, data and logs; created if missing. */
  readonly workDir: string
  /** The agents' SVID lifetime: short, so the demo shows rotation. @default "2m" */
  readonly agentTtl?: string
  /** Progress lines for the person watching. @default no output */
  readonly say?: (line: string) => void
}

/** One demo agent: the node it runs on and where its files are. */
export interface DemoAgent {
  readonly node: AgentNode
  readonly dir: string
  readonly logPath: string
}

/** A running demo. */
export interface Demo {
  readonly serverUrl: string
  /** Where the server's configuration, CA bundle, admin token and log are (for the admin CLI). */
  readonly server: ServerInstallation
  readonly trustDomain: string
  /** The server's name for the embedded cluster, part of every agent's SPIFFE ID. */
  readonly clusterName: string
  readonly workDir: string
  readonly agents: readonly DemoAgent[]
  /** The agents the server has recorded, through its admin API. */
  listAgents(): Promise<AgentView[]>
  /** Waits until the server has recorded every agent (throws after `timeoutMs`, default 30 s). */
  waitForAgents(timeoutMs?: number): Promise<AgentView[]>
  /** Stops agents, server and cluster, in that order. */
  stop(): Promise<void>
}

const TRUST_DOMAIN = 'demo.k8s-attest.test'
const CLUSTER = 'demo'

/**
 * The demo: an embedded Kubernetes cluster (three nodes, an agent pod on each), the k8s-attest
 * server configured for it with its own RBAC-limited service account, and one agent process
 * per node holding a projected, pod-bound token in a kubelet-style volume. Each step is one
 * building block of `./system/`, which the system tests compose the same way.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const say = options.say ?? (() => {})
  const cluster = await startTestCluster()
  let server: RunningServer | undefined
  const running: RunningAgent[] = []
  const stop = async () => {
    await Promise.all(running.map((agent) => agent.stop()))
    await server?.stop()
    await cluster.stop()
  }
  try {
    say(`cluster   ${cluster.api.url} (${cluster.seededNodes.length} nodes, namespace ${cluster.namespace})`)
    server = await startServer(await installDemoServer(cluster, options))
    const { url, logPath, bundlePath } = server.installation
    say(`server    ${url} (logs: ${logPath})`)

    const agents: DemoAgent[] = []
    for (const node of cluster.seededNodes) {
      const agent = await installAgent({
        dir: join(options.workDir, 'agents', node.nodeName),
        trustDomain: TRUST_DOMAIN,
        serverPort: server.installation.port,
        trustBundlePath: bundlePath,
        attestor: 'k8s_psat',
        cluster: CLUSTER,
        token: cluster.issueProjectedToken(node),
      })
      running.push(await startAgent(agent))
      agents.push({ node, dir: agent.dir, logPath: agent.logPath })
      say(`agent     ${node.nodeName} (pod ${cluster.namespace}/${node.podName}, logs: ${agent.logPath})`)
    }

    const { admin } = server
    return {
      serverUrl: url,
      server: server.installation,
      trustDomain: TRUST_DOMAIN,
      clusterName: CLUSTER,
      workDir: options.workDir,
      agents,
      listAgents: () => admin.list(),
      waitForAgents: (timeoutMs = 30_000) =>
        eventually(
          async () => {
            const ended = running.find((agent) => agent.process.exitStatus() !== undefined)
            if (ended !== undefined) {
              throw new Error(`an agent exited with ${ended.process.exitStatus()}\n${await ended.log.tail()}`)
            }
            const recorded = await admin.list()
            return recorded.length >= agents.length ? recorded : undefined
          },
          { what: `all ${agents.length} agents to attest`, timeoutMs, intervalMs: 250 },
        ),
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/** The demo server: k8s_psat for the embedded cluster, through the server's own service account. */
async function installDemoServer(cluster: TestCluster, options: DemoOptions) {
  const dir = join(options.workDir, 'server')
  return installServer({
    dir,
    trustDomain: TRUST_DOMAIN,
    agentTtl: options.agentTtl ?? '2m',
    psatClusters: [
      { name: CLUSTER, kubeconfigPath: await cluster.writeServerKubeconfig(join(dir, 'kubeconfig')) },
    ],
  })
}
