import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { DemoCluster } from '../demo-cluster.ts'
import type { DatastoreSpec, PsatClusterSpec } from '../system/server-config.ts'
import {
  installServer,
  type RunningServer,
  type ServerInstallation,
  startServer,
} from '../system/server-process.ts'
import type { ServerProcessOptions } from './command-line.ts'
import { codeToRun } from './image-build.ts'
import { imageEnvironment, SERVER_IMAGE_NODE_FLAGS } from './image-node-flags.ts'
import { FreshTlsClient } from './load-series.ts'

/** The trust domain of every bench server. */
export const BENCH_TRUST_DOMAIN = 'bench.k8s-attest.test'
/** The k8s_psat cluster name the bench's agents attest with. */
export const BENCH_CLUSTER = 'bench'

/** A running bench server and a client that opens a fresh TLS connection per request. */
export interface BenchServer {
  readonly installation: ServerInstallation
  readonly server: RunningServer
  readonly pid: number
  readonly client: FreshTlsClient
  /** The admin API's `authorization` header. */
  readonly adminHeaders: Readonly<Record<string, string>>
}

/**
 * Installs a server in `dir` (k8s_psat for `cluster`, through the server's own service account
 * with only the RBAC it needs; TokenReview or, with `tokenVerification: 'jwks'`, JWKS mode),
 * lets `beforeStart` fill its datastore, then starts the real CLI as a child process, as the
 * image runs it (the bundle of the workspace's build: needs `pnpm build`; the image's V8 options
 * and environment), and waits until it is ready.
 */
export async function startBenchServer(
  dir: string,
  cluster: DemoCluster,
  options: {
    readonly datastore?: DatastoreSpec
    /** How the cluster's tokens are verified; the server's default (TokenReview) when absent. */
    readonly tokenVerification?: PsatClusterSpec['tokenVerification']
    readonly beforeStart?: (installation: ServerInstallation) => Promise<void>
    /** Runs the server with `node --cpu-prof` into this directory (docs/performance.md, "Profiling the server"). */
    readonly cpuProfileDir?: string | undefined
    /**
     * The server's V8 options and which of its code runs (a bench's `--server-v8-flags` and
     * `--server-code`). @default the image's V8 options and bundle
     */
    readonly serverProcess?: ServerProcessOptions
    /** More Node options and environment for the server process (the heap probe's, say). */
    readonly nodeFlags?: readonly string[]
    readonly env?: Readonly<Record<string, string>>
    /** `server.workers`; the server's default (one process) when absent. */
    readonly workers?: number
    /** How long the server may take to be ready. @default startServer's */
    readonly readyTimeoutMs?: number
  } = {},
): Promise<BenchServer> {
  const installation = await installServer({
    dir,
    trustDomain: BENCH_TRUST_DOMAIN,
    agentTtl: '1h',
    psatClusters: [
      {
        name: BENCH_CLUSTER,
        kubeconfigPath: await cluster.writeServerKubeconfig(join(dir, 'kubeconfig')),
        serviceAccountAllowList: [cluster.agentServiceAccount],
        ...(options.tokenVerification === undefined ? {} : { tokenVerification: options.tokenVerification }),
      },
    ],
    ...(options.datastore === undefined ? {} : { datastore: options.datastore }),
    ...(options.workers === undefined ? {} : { workers: options.workers }),
  })
  await options.beforeStart?.(installation)
  const server = await startServer(installation, {
    code: await codeToRun('@k8s-attest/server', options.serverProcess?.serverCode ?? 'image'),
    cpuProfileDir: options.cpuProfileDir,
    ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
    nodeFlags: [
      ...(options.serverProcess?.serverV8Flags ?? SERVER_IMAGE_NODE_FLAGS),
      ...(options.nodeFlags ?? []),
    ],
    env: { ...imageEnvironment(), ...options.env },
  })
  return {
    installation,
    server,
    pid: server.process.pid,
    client: new FreshTlsClient(installation.url, await readFile(installation.bundlePath, 'utf8')),
    adminHeaders: { authorization: `Bearer ${installation.adminToken}` },
  }
}
