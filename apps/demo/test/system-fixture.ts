import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { captureLogFile, recordSecret } from '../../../scripts/log-audit/captured-logs.ts'
import {
  type AgentInstallation,
  type AgentInstallOptions,
  installAgent,
  type RunningAgent,
  startAgent,
} from '../src/system/agent-process.ts'
import { type AgentNode, startTestCluster, type TestCluster } from '../src/system/cluster.ts'
import {
  installServer,
  type RunningServer,
  type ServerInstallation,
  startServer,
} from '../src/system/server-process.ts'

/** What a server of the system tests attests: cluster names per attestor, all backed by the one test cluster. */
export interface ServerClusters {
  readonly psat?: readonly string[]
  readonly sat?: readonly string[]
}

/** Options of {@link SystemFixture.installAgent}. */
export type AgentOptions = Omit<
  AgentInstallOptions,
  'dir' | 'trustDomain' | 'serverPort' | 'trustBundlePath'
> & {
  readonly server: ServerInstallation
  /** @default the server's own bundle */
  readonly trustBundlePath?: string
}

/**
 * The system under test, assembled from the demo's building blocks: one Kubernetes test
 * cluster, any number of real server and agent processes, each in a directory of its own under
 * one work directory. Tracks every process it starts and stops them all (agents first) in
 * {@link SystemFixture.stop}; the work directory is removed unless a test failed.
 */
export class SystemFixture {
  readonly workDir: string
  readonly trustDomain: string
  readonly cluster: TestCluster
  readonly #kubeconfigPath: string
  readonly #servers: RunningServer[] = []
  readonly #agents: RunningAgent[] = []
  #keepWorkDir = false

  private constructor(workDir: string, trustDomain: string, cluster: TestCluster, kubeconfigPath: string) {
    this.workDir = workDir
    this.trustDomain = trustDomain
    this.cluster = cluster
    this.#kubeconfigPath = kubeconfigPath
  }

  /** Starts the test cluster and writes the servers' kubeconfig (their own service account). */
  static async start(trustDomain: string): Promise<SystemFixture> {
    const workDir = await mkdtemp(join(tmpdir(), 'k8s-attest-system-'))
    const cluster = await startTestCluster()
    const kubeconfigPath = await cluster.writeServerKubeconfig(join(workDir, 'server-kubeconfig'))
    return new SystemFixture(workDir, trustDomain, cluster, kubeconfigPath)
  }

  /** Installs a server in `<workDir>/servers/<name>` for the named clusters. */
  async installServer(name: string, clusters: ServerClusters): Promise<ServerInstallation> {
    const kubeconfigPath = this.#kubeconfigPath
    const installation = await installServer({
      dir: join(this.workDir, 'servers', name),
      trustDomain: this.trustDomain,
      agentTtl: '1m',
      psatClusters: (clusters.psat ?? []).map((cluster) => ({ name: cluster, kubeconfigPath })),
      satClusters: (clusters.sat ?? []).map((cluster) => ({ name: cluster, kubeconfigPath })),
    })
    recordSecret(installation.adminToken)
    return installation
  }

  /** Starts (or restarts) an installed server and waits until it is ready. */
  async startServer(installation: ServerInstallation): Promise<RunningServer> {
    const server = await startServer(installation)
    this.#servers.push(server)
    return server
  }

  /** Installs an agent in `<workDir>/agents/<name>`, talking to `options.server`. */
  installAgent(name: string, options: AgentOptions): Promise<AgentInstallation> {
    const { server, trustBundlePath, ...rest } = options
    return installAgent({
      ...rest,
      dir: join(this.workDir, 'agents', name),
      trustDomain: this.trustDomain,
      serverPort: server.port,
      trustBundlePath: trustBundlePath ?? server.bundlePath,
    })
  }

  /** Starts (or restarts) an installed agent. */
  async startAgent(installation: AgentInstallation): Promise<RunningAgent> {
    const agent = await startAgent(installation)
    this.#agents.push(agent)
    return agent
  }

  /** The k8s_psat SPIFFE ID of the agent on `node`: `spiffe://<td>/spire/agent/k8s_psat/<cluster>/<node UID>`. */
  psatAgentId(cluster: string, node: AgentNode): string {
    return `spiffe://${this.trustDomain}/spire/agent/k8s_psat/${cluster}/${node.nodeUid}`
  }

  /** Every log file written so far, servers' and agents'. */
  async logFiles(): Promise<string[]> {
    const entries = await readdir(this.workDir, { recursive: true, withFileTypes: true })
    return entries
      .filter((entry) => entry.isFile() && entry.name.endsWith('.log'))
      .map((entry) => join(entry.parentPath, entry.name))
  }

  /** Keeps the work directory (configs, data, logs) for a look after a failure. */
  keepWorkDir(): void {
    this.#keepWorkDir = true
  }

  /** Stops every agent, then every server, then the cluster; removes the work directory unless kept. */
  async stop(): Promise<void> {
    await Promise.all(this.#agents.map((agent) => agent.stop()))
    await Promise.all(this.#servers.map((server) => server.stop()))
    await this.cluster.stop()
    // Every process's log goes to the suite-wide log audit before the directory is removed.
    for (const file of await this.logFiles()) captureLogFile('system', file)
    if (this.#keepWorkDir) {
      process.stderr.write(`system test files kept in ${this.workDir}\n`)
    } else {
      await rm(this.workDir, { recursive: true, force: true })
    }
  }
}
