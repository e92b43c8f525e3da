import { join } from 'node:path'
import type { AgentView } from '@k8s-attest/core'
import { type DemoCluster, embeddedCluster } from './demo-cluster.ts'
import {
  type AgentInstallation,
  installAgent,
  type RunningAgent,
  startAgent,
} from './system/agent-process.ts'
import { AGENT_TOKEN_SECONDS, type AgentNode, startTestCluster } from './system/cluster.ts'
import { eventually } from './system/eventually.ts'
import {
  installServer,
  type RunningServer,
  type ServerInstallation,
  startServer,
} from './system/server-process.ts'
import { readStoredSvid } from './system/stored-svid.ts'

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** A directory of its own for configs, tokens, data and logs; created if missing. */
  readonly workDir: string
  /** The agents' SVID lifetime: short, so the demo shows rotation. @default "2m" */
  readonly agentTtl?: string
  /** Progress lines for the person watching. @default no output */
  readonly say?: (line: string) => void
  /**
   * The cluster to run against. @default the embedded Kubernetes test API, started here and
   * stopped with the demo; give a {@link DemoCluster} (e.g. from `connectCluster()`) to use
   * another one — the demo stops it too.
   */
  readonly cluster?: DemoCluster
}

/** One demo agent: the node it runs on, where its files are, and whether its process still runs. */
export interface DemoAgent {
  readonly node: AgentNode
  readonly dir: string
  readonly logPath: string
  readonly installation: AgentInstallation
  /** The agent process's pid. */
  readonly pid: number
  /** How the agent process ended, or `undefined` while it runs. */
  exitStatus(): number | NodeJS.Signals | undefined
}

/** What happened to the server process while the demo ran, for the person watching. */
export type ServerEvent =
  | { readonly kind: 'exited'; readonly status: number | NodeJS.Signals; readonly logPath: string }
  | { readonly kind: 'restarted'; readonly pid: number }
  | { readonly kind: 'restart-failed'; readonly reason: string; readonly retryInMs: number }

/** A running demo. */
export interface Demo {
  readonly serverUrl: string
  /** The dashboard the server serves, for a browser. */
  readonly dashboardUrl: string
  /** Where the server's configuration, CA bundle, admin token and log are (for the admin CLI). */
  readonly server: ServerInstallation
  readonly trustDomain: string
  /** The server's name for the cluster, part of every agent's SPIFFE ID. */
  readonly clusterName: string
  readonly workDir: string
  readonly agents: readonly DemoAgent[]
  /** The server process's pid (a new one after a restart). */
  serverPid(): number
  /** The agents the server has recorded, through its admin API. */
  listAgents(): Promise<AgentView[]>
  /** Waits until the server has recorded every agent (throws after `timeoutMs`, default 30 s). */
  waitForAgents(timeoutMs?: number): Promise<AgentView[]>
  /**
   * Calls `listener` on what happens to the server process: should it die, the demo says so and
   * starts it again on the same data_dir and port (the agents find it again), rather than
   * taking everything down.
   */
  onServerEvent(listener: (event: ServerEvent) => void): void
  /** Stops agents, server and cluster, in that order. */
  stop(): Promise<void>
}

const TRUST_DOMAIN = 'demo.k8s-attest.test'
const CLUSTER = 'demo'
/** Kubelet refreshes a projected token at 80 % of its lifetime; so does the demo. */
const TOKEN_REFRESH_MS = AGENT_TOKEN_SECONDS * 800
/** Pauses between attempts to restart a server that will not come back, growing to the last. */
const RESTART_DELAYS_MS = [1_000, 2_000, 5_000, 10_000] as const

/**
 * The demo: a Kubernetes cluster (by default the embedded one: three nodes, an agent pod on
 * each), the k8s-attest server configured for it with its own RBAC-limited service account, and
 * one agent process per node holding a projected, pod-bound token in a kubelet-style volume.
 * Each step is one building block of `./system/`, which the system tests compose the same way.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const say = options.say ?? (() => {})
  const cluster = options.cluster ?? embeddedCluster(await startTestCluster())
  let server: RunningServer | undefined
  let stopping = false
  const running: RunningAgent[] = []
  const timers: NodeJS.Timeout[] = []
  const listeners: ((event: ServerEvent) => void)[] = []
  const stop = async () => {
    stopping = true
    for (const timer of timers) clearTimeout(timer)
    await Promise.all(running.map((agent) => agent.stop()))
    await server?.stop()
    await cluster.stop()
  }
  try {
    say(`cluster   ${cluster.description}`)
    const installation = await installDemoServer(cluster, options)
    server = await startServer(installation)
    say(`server    ${installation.url} (pid ${server.process.pid}, log ${installation.logPath})`)

    const agents: DemoAgent[] = []
    for (const node of cluster.agentNodes) {
      const agentInstallation = await installAgent({
        dir: join(options.workDir, 'agents', node.nodeName),
        trustDomain: TRUST_DOMAIN,
        serverPort: installation.port,
        trustBundlePath: installation.bundlePath,
        attestor: 'k8s_psat',
        cluster: CLUSTER,
        token: await cluster.issueAgentToken(node),
      })
      const agent = await startAgent(agentInstallation)
      running.push(agent)
      agents.push({
        node,
        dir: agentInstallation.dir,
        logPath: agentInstallation.logPath,
        installation: agentInstallation,
        pid: agent.process.pid,
        exitStatus: () => agent.process.exitStatus(),
      })
      say(`agent     ${node.nodeName} (pid ${agent.process.pid}, pod ${cluster.namespace}/${node.podName})`)
    }

    // Kubelet rewrites each projected token before it expires; without this a demo left running
    // for two hours would find its agents' tokens refused.
    const refreshTokens = () => {
      void Promise.all(
        agents.map(async (agent) =>
          agent.installation.tokens.write(await cluster.issueAgentToken(agent.node)),
        ),
      ).catch((error: unknown) => say(`could not refresh the agents' tokens: ${String(error)}`))
    }
    timers.push(setInterval(refreshTokens, TOKEN_REFRESH_MS).unref())

    const emit = (event: ServerEvent) => {
      for (const listener of listeners) listener(event)
    }
    const superviseServer = (current: RunningServer) => {
      void current.process.exited.then((status) => {
        if (stopping) return
        emit({ kind: 'exited', status, logPath: installation.logPath })
        void restartServer(0)
      })
    }
    const restartServer = async (attempt: number): Promise<void> => {
      if (stopping) return
      try {
        const restarted = await startServer(installation)
        if (stopping) {
          await restarted.stop()
          return
        }
        server = restarted
        emit({ kind: 'restarted', pid: restarted.process.pid })
        superviseServer(restarted)
      } catch (error) {
        const retryInMs = RESTART_DELAYS_MS[Math.min(attempt, RESTART_DELAYS_MS.length - 1)] as number
        emit({ kind: 'restart-failed', reason: firstLine(error), retryInMs })
        timers.push(setTimeout(() => void restartServer(attempt + 1), retryInMs))
      }
    }
    superviseServer(server)

    const current = () => {
      if (server === undefined) throw new Error('the demo has no server')
      return server
    }
    return {
      serverUrl: installation.url,
      dashboardUrl: `${installation.url}/dashboard/`,
      server: installation,
      trustDomain: TRUST_DOMAIN,
      clusterName: CLUSTER,
      workDir: options.workDir,
      agents,
      serverPid: () => current().process.pid,
      listAgents: () => current().admin.list(),
      waitForAgents: (timeoutMs = 30_000) =>
        eventually(
          async () => {
            const ended = running.find((agent) => agent.process.exitStatus() !== undefined)
            if (ended !== undefined) {
              throw new Error(`an agent exited with ${ended.process.exitStatus()}\n${await ended.log.tail()}`)
            }
            // The agents' own files first, so the wait costs the server (and its access log) one
            // call rather than one every poll; an agent stores its SVID after being recorded.
            const stored = await Promise.all(
              agents.map((agent) => readStoredSvid(agent.installation.dataDir).catch(() => undefined)),
            )
            if (stored.some((svid) => svid === undefined)) return undefined
            const recorded = await current().admin.list()
            return recorded.length >= agents.length ? recorded : undefined
          },
          { what: `all ${agents.length} agents to attest`, timeoutMs, intervalMs: 250 },
        ),
      onServerEvent: (listener) => {
        listeners.push(listener)
      },
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/** The demo server: k8s_psat for the cluster, through the server's own service account. */
async function installDemoServer(cluster: DemoCluster, options: DemoOptions) {
  const dir = join(options.workDir, 'server')
  return installServer({
    dir,
    trustDomain: TRUST_DOMAIN,
    agentTtl: options.agentTtl ?? '2m',
    psatClusters: [
      {
        name: CLUSTER,
        kubeconfigPath: await cluster.writeServerKubeconfig(join(dir, 'kubeconfig')),
        serviceAccountAllowList: [cluster.agentServiceAccount],
      },
    ],
  })
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''
}
