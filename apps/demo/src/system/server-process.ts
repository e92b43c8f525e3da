import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AdminClient } from '@k8s-attest/admin-client'
import { Agent, request } from 'undici'
import { type AppCode, appEntry, type ChildHandle, type ExitStatus, startChild } from '../child-process.ts'
import { eventually } from './eventually.ts'
import { freePort } from './free-port.ts'
import { JsonLog } from './json-log.ts'
import { type MetricSample, parsePrometheusText } from './prometheus-text.ts'
import {
  type DatastoreSpec,
  type PsatClusterSpec,
  renderServerConfig,
  type SatClusterSpec,
} from './server-config.ts'

/** Options of {@link installServer}. */
export interface ServerInstallOptions {
  /** A directory of the server's own: config, admin token, data_dir, log. Created if missing. */
  readonly dir: string
  readonly trustDomain: string
  /** At least one of `psatClusters` and `satClusters`. */
  readonly psatClusters?: readonly PsatClusterSpec[]
  readonly satClusters?: readonly SatClusterSpec[]
  /** The agents' SVID lifetime; short, so rotations happen while someone watches. @default "1m" (the server's minimum) */
  readonly agentTtl?: string
  /** The agent store; absent: SQLite in data_dir. */
  readonly datastore?: DatastoreSpec
  /** `server.workers`. Absent: one process. */
  readonly workers?: number
}

/**
 * A server installed on disk: its configuration, admin token and data_dir, and the port it
 * listens on. It outlives its processes: a restart runs on the same data_dir (same CA, same
 * agent records) and the same port, so agents find it again.
 */
export interface ServerInstallation {
  readonly dir: string
  readonly trustDomain: string
  readonly configPath: string
  readonly dataDir: string
  /** The server's CA bundle (PEM), what agents get as `trust_bundle_path`; written on first start. */
  readonly bundlePath: string
  readonly adminTokenPath: string
  /** The admin API's bearer token, as written to `adminTokenPath`. */
  readonly adminToken: string
  /** Standard output and error of every run, appended. */
  readonly logPath: string
  readonly port: number
  /** `https://127.0.0.1:<port>`. */
  readonly url: string
  /** `http://127.0.0.1:<metrics port>/metrics`: the server's Prometheus listener (its telemetry block). */
  readonly metricsUrl: string
}

/** Writes server.conf and the admin token into `options.dir`, and picks a free port. */
export async function installServer(options: ServerInstallOptions): Promise<ServerInstallation> {
  const { dir, trustDomain } = options
  await mkdir(dir, { recursive: true })
  const port = await freePort()
  const metricsPort = await freePort()
  const dataDir = join(dir, 'data')
  const adminTokenPath = join(dir, 'admin-token')
  const adminToken = randomBytes(32).toString('base64url')
  await writeFile(adminTokenPath, `${adminToken}\n`, { mode: 0o600 })
  const configPath = join(dir, 'server.conf')
  await writeFile(
    configPath,
    renderServerConfig({
      trustDomain,
      port,
      metricsPort,
      dataDir,
      adminTokenPath,
      agentTtl: options.agentTtl ?? '1m',
      ...(options.psatClusters === undefined ? {} : { psatClusters: options.psatClusters }),
      ...(options.satClusters === undefined ? {} : { satClusters: options.satClusters }),
      ...(options.datastore === undefined ? {} : { datastore: options.datastore }),
      ...(options.workers === undefined ? {} : { workers: options.workers }),
    }),
  )
  return {
    dir,
    trustDomain,
    configPath,
    dataDir,
    bundlePath: join(dataDir, 'ca', 'bundle.pem'),
    adminTokenPath,
    adminToken,
    logPath: join(dir, 'server.log'),
    port,
    url: `https://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
  }
}

/** A running `k8s-attest-server run` process, ready to attest. */
export interface RunningServer {
  readonly installation: ServerInstallation
  readonly process: ChildHandle
  /** This run's part of the log. */
  readonly log: JsonLog
  /** The admin API, trusting the server's bundle. */
  readonly admin: AdminClient
  /** A scrape of `GET /metrics`. */
  metrics(): Promise<MetricSample[]>
  /** SIGTERM (graceful close), then the exit status; calling it again returns the same. */
  stop(): Promise<ExitStatus>
}

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** How long the server may take to answer `/ready` with 200. @default 30_000 */
  readonly readyTimeoutMs?: number
  /**
   * Runs the server with `node --cpu-prof` writing its `.cpuprofile` into this directory when it
   * exits (on `stop()`), to see where its CPU goes under load (docs/performance.md, "Profiling
   * the server"). @default undefined (not profiled)
   */
  readonly cpuProfileDir?: string | undefined
  /** Node options for the server process (the benchmark's `--import` probes); default none. */
  readonly nodeFlags?: readonly string[]
  /** Added to the server's environment; default none. */
  readonly env?: Readonly<Record<string, string>>
  /**
   * Which of the server's code runs (default `'source'`). Memory figures are held to what the
   * image runs (`{ deployed }`): type stripping keeps its own compiler and every module's source
   * resident, and the workspace build loads every file of every library.
   */
  readonly code?: AppCode
}

const SERVER_MAIN = import.meta.resolve('@k8s-attest/server/main')
const SERVER_BIN = new URL('../../../server/bin/k8s-attest-server.js', import.meta.url).href

/**
 * Starts `k8s-attest-server run -config <installation>/server.conf` (the real CLI, from
 * from source unless `options.code` says otherwise) and waits until it has written its CA bundle and `/ready` answers 200, which means
 * its datastore works and every cluster granted the RBAC permissions attestation needs.
 *
 * @throws {Error} if the process exits first or is not ready in time; the message ends with
 *   the log's tail.
 */
export async function startServer(
  installation: ServerInstallation,
  options: StartServerOptions = {},
): Promise<RunningServer> {
  const log = await JsonLog.fromEnd(installation.logPath)
  const child = await startChild({
    name: `server ${installation.url}`,
    ...appEntry(options.code ?? 'source', SERVER_MAIN, SERVER_BIN),
    args: ['run', '-config', installation.configPath],
    logPath: installation.logPath,
    nodeFlags: [
      ...(options.nodeFlags ?? []),
      ...(options.cpuProfileDir === undefined
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`]),
    ],
    ...(options.env === undefined ? {} : { env: options.env }),
  })
  try {
    const dispatcher = await waitUntilReady(installation, child, log, options.readyTimeoutMs ?? 30_000)
    const admin = new AdminClient({ url: installation.url, dispatcher, token: installation.adminToken })
    let stopped: Promise<ExitStatus> | undefined
    return {
      installation,
      process: child,
      log,
      admin,
      async metrics() {
        const response = await request(installation.metricsUrl)
        const text = await response.body.text()
        if (response.statusCode !== 200) throw new Error(`/metrics answered ${response.statusCode}: ${text}`)
        return parsePrometheusText(text)
      },
      stop() {
        stopped ??= dispatcher.close().then(() => child.stop())
        return stopped
      },
    }
  } catch (error) {
    await child.stop()
    throw error
  }
}

/**
 * Polls for the bundle, then `/ready`, with a dispatcher that trusts only that bundle (the
 * server's certificate is checked exactly as an operator's client would check it).
 */
async function waitUntilReady(
  installation: ServerInstallation,
  child: ChildHandle,
  log: JsonLog,
  timeoutMs: number,
): Promise<Agent> {
  let lastProblem = 'no CA bundle written yet'
  let dispatcher: Agent | undefined
  try {
    return await eventually(
      async () => {
        const status = child.exitStatus()
        if (status !== undefined) {
          throw new Error(`the server exited with ${status} before it was ready\n${await log.tail()}`)
        }
        if (dispatcher === undefined) {
          const ca = await readFile(installation.bundlePath, 'utf8').catch((error: NodeJS.ErrnoException) => {
            if (error.code === 'ENOENT') return undefined
            throw error
          })
          if (ca === undefined) return undefined
          dispatcher = new Agent({
            connect: { ca, timeout: 5_000 },
            headersTimeout: 5_000,
            bodyTimeout: 5_000,
          })
        }
        try {
          const response = await request(`${installation.url}/ready`, { dispatcher })
          const body = await response.body.text()
          lastProblem = `/ready answered ${response.statusCode}: ${body}`
          return response.statusCode === 200 ? dispatcher : undefined
        } catch (error) {
          // Not listening yet: the next poll asks again; the reason goes into the timeout message.
          lastProblem = error instanceof Error ? error.message : String(error)
          return undefined
        }
      },
      {
        what: `${installation.url}/ready to answer 200`,
        timeoutMs,
        describe: async () => `last problem: ${lastProblem}\n${await log.tail()}`,
      },
    )
  } catch (error) {
    await dispatcher?.close()
    throw error
  }
}
