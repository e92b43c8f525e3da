import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AttestorType, Secret } from '@k8s-attest/core'
import { Agent, request } from 'undici'
import { captureLogLine, recordSecret } from '../../../scripts/log-audit/captured-logs.ts'
import { type App, buildApp, type HousekeepingIntervals } from '../src/app.ts'
import { CertificateAuthority } from '../src/ca/certificate-authority.ts'
import { createTestCsr } from '../src/ca/test-support/csr.ts'
import {
  type DataStoreConfig,
  type ListenerConfig,
  type PsatClusterConfig,
  type RateLimitConfig,
  type SatClusterConfig,
  SERVER_CONFIG_DEFAULTS,
  type ServerConfig,
} from '../src/config/server-config.ts'
import type { AgentStore } from '../src/datastore/agent-store.ts'
import { openAgentStore } from '../src/datastore/open-agent-store.ts'
import { createClusterClients } from '../src/kubernetes/cluster-clients.ts'
import { createLogger } from '../src/logging/logger.ts'
import { ServerMetrics } from '../src/metrics/metrics.ts'
import type { KubeWorld } from './kube-world.ts'

export const TRUST_DOMAIN = 'example.org'
export const ADMIN_TOKEN = 'admin-token-0123456789abcdef0123456789abcdef'
export const ADMIN_ID = 'spiffe://example.org/admin'
recordSecret(ADMIN_TOKEN)

/** Which kube worlds back which configured clusters. */
export interface HarnessClusters {
  /** k8s_psat clusters: name → world (+ overrides of the cluster config). */
  readonly psat?: Readonly<
    Record<string, { world: KubeWorld; kubeconfigPath?: string; config?: Partial<PsatClusterConfig> }>
  >
  /** k8s_sat clusters in TokenReview mode. */
  readonly satReview?: Readonly<Record<string, KubeWorld>>
  /** k8s_sat clusters verifying locally with the world's signing key. */
  readonly satKeys?: Readonly<Record<string, KubeWorld>>
}

/** Options of {@link startServer}. */
export interface HarnessOptions {
  readonly clusters: HarnessClusters
  /** Reuse a data_dir (restart tests). Default: a new temporary one, removed on close. */
  readonly dataDir?: string
  /** Default: SQLite under data_dir. */
  readonly dataStore?: DataStoreConfig
  /** Default: disabled. */
  readonly rateLimit?: RateLimitConfig
  /** Timeouts and connection cap of the listener. Default: the configuration defaults. */
  readonly listener?: Partial<ListenerConfig>
  /** The CA's and the attestation checks' clock. Default: the wall clock. */
  readonly now?: () => Date
  /** Wraps the opened datastore (fault injection at the store boundary). Default: none. */
  readonly wrapStore?: (store: AgentStore) => AgentStore
  /** Housekeeping intervals. Default: the server's. */
  readonly intervals?: HousekeepingIntervals
}

/** An answer, parsed. */
export interface HarnessResponse {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: Record<string, unknown>
}

/** An agent's key and CSR, with its key as PEM for mTLS. */
export interface AgentKey {
  readonly csrPem: string
  readonly keyPem: string
}

/** A server built by `buildApp`, listening over TLS on 127.0.0.1:0. */
export class RunningServer {
  readonly app: App
  readonly store: AgentStore
  readonly ca: CertificateAuthority
  readonly url: string
  readonly dataDir: string
  /** Every JSON log line, parsed. */
  readonly logLines: string[]
  readonly #ownsDataDir: boolean
  readonly #agent: Agent

  constructor(
    app: App,
    store: AgentStore,
    ca: CertificateAuthority,
    dataDir: string,
    ownsDataDir: boolean,
    logLines: string[],
  ) {
    this.app = app
    this.store = store
    this.ca = ca
    const address = app.server.address()
    if (address === null || typeof address === 'string') throw new Error('server is not listening on TCP')
    this.url = `https://127.0.0.1:${address.port}`
    this.dataDir = dataDir
    this.logLines = logLines
    this.#ownsDataDir = ownsDataDir
    this.#agent = this.client()
  }

  /** An HTTPS client trusting the server's CA, optionally presenting a client certificate. */
  client(clientCertificate?: { cert: string; key: string }): Agent {
    return new Agent({
      connect: { ca: this.ca.bundle().pem, ...(clientCertificate ?? {}) },
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    })
  }

  async request(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; dispatcher?: Agent } = {},
  ): Promise<HarnessResponse> {
    const response = await request(`${this.url}${path}`, {
      method,
      dispatcher: options.dispatcher ?? this.#agent,
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    })
    const text = await response.body.text()
    const contentType = String(response.headers['content-type'] ?? '')
    const body = contentType.includes('json') ? (JSON.parse(text) as Record<string, unknown>) : { text }
    return { status: response.statusCode, headers: response.headers, body }
  }

  /** `POST /v1/attest`. */
  attest(type: AttestorType, cluster: string, token: string, csrPem: string): Promise<HarnessResponse> {
    return this.request('POST', '/v1/attest', {
      body: { attestation: { type, payload: { cluster, token } }, csr: csrPem },
    })
  }

  async agentCount(): Promise<number> {
    return (await this.store.listAgents({ pageSize: 1000 })).agents.length
  }

  async close(): Promise<void> {
    await this.#agent.close()
    await this.app.close()
    if (this.#ownsDataDir) await rm(this.dataDir, { recursive: true, force: true })
  }
}

/** A fresh agent key pair and CSR. */
export async function newAgentKey(options: { requestedUri?: string } = {}): Promise<AgentKey> {
  const csr = await createTestCsr(
    options.requestedUri === undefined
      ? {}
      : { requestedNames: [{ type: 'url', value: options.requestedUri }] },
  )
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', csr.keys.privateKey)).toString('base64')
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)?.join('\n')}\n-----END PRIVATE KEY-----\n`
  return { csrPem: csr.pem, keyPem }
}

/** The server configuration for the given clusters, as `loadServerConfig` would produce it. */
export function harnessConfig(options: HarnessOptions, dataDir: string): ServerConfig {
  const psat = new Map<string, PsatClusterConfig>()
  for (const [name, { world, kubeconfigPath, config }] of Object.entries(options.clusters.psat ?? {})) {
    psat.set(name, {
      name,
      serviceAccountAllowList: ['spire:spire-agent'],
      audience: ['spire-server'],
      kubeConfigFile: kubeconfigPath ?? world.kubeconfigPath,
      kubeApiTimeoutMs: 5_000,
      allowedNodeLabelKeys: ['topology.kubernetes.io/zone'],
      allowedPodLabelKeys: ['app'],
      usePodUidForAgentId: false,
      tokenVerification: 'tokenreview',
      ...config,
    })
  }
  const sat = new Map<string, SatClusterConfig>()
  for (const [name, world] of Object.entries(options.clusters.satReview ?? {})) {
    sat.set(name, {
      name,
      serviceAccountAllowList: ['spire:spire-agent'],
      validation: { kind: 'token-review', kubeConfigFile: world.kubeconfigPath, kubeApiTimeoutMs: 5_000 },
    })
  }
  for (const [name, world] of Object.entries(options.clusters.satKeys ?? {})) {
    sat.set(name, {
      name,
      serviceAccountAllowList: ['spire:spire-agent'],
      validation: {
        kind: 'service-account-keys',
        keyFile: 'sa.pub',
        keys: [publicKeyOf(world)],
        issuer: 'kubernetes/serviceaccount',
      },
    })
  }
  return {
    configFile: 'harness.conf',
    trustDomain: TRUST_DOMAIN,
    bindAddress: '127.0.0.1',
    bindPort: 0,
    dataDir,
    caTtlMs: 24 * 3_600_000,
    agentTtlMs: 3_600_000,
    logLevel: 'info',
    dnsNames: ['localhost'],
    admin: {
      bearerTokenFile: 'admin-token',
      bearerToken: new Secret(ADMIN_TOKEN),
      adminIds: [ADMIN_ID],
    },
    rateLimit: options.rateLimit ?? { enabled: false, attestationsPerSecond: 1 },
    listener: { ...SERVER_CONFIG_DEFAULTS.listener, ...options.listener },
    workers: 1,
    metrics: undefined,
    bundleNotifier: undefined,
    dataStore: options.dataStore ?? {
      databaseType: 'sqlite3',
      connectionString: join(dataDir, 'datastore.sqlite3'),
    },
    nodeAttestors: {
      k8sPsat: psat.size === 0 ? undefined : { clusters: psat },
      k8sSat: sat.size === 0 ? undefined : { clusters: sat },
    },
    warnings: [],
  }
}

/**
 * Builds the server the way `run` does — real datastore, CA in data_dir, `KubeClusterClient`s
 * from the worlds' kubeconfigs — and listens on 127.0.0.1:0 over TLS.
 */
export async function startServer(options: HarnessOptions): Promise<RunningServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'k8s-attest-server-')))
  const config = harnessConfig(options, dataDir)
  const logLines: string[] = []
  const logger = createLogger({
    level: 'info',
    destination: {
      write: (line: string) => {
        logLines.push(line)
        captureLogLine('server', line)
      },
    },
  })
  const metrics = new ServerMetrics()
  const opened = await openAgentStore({ ...config.dataStore, logger })
  const store = options.wrapStore?.(opened) ?? opened
  const ca = await CertificateAuthority.open({
    dataDir,
    trustDomain: config.trustDomain,
    caTtlMs: config.caTtlMs,
    agentTtlMs: config.agentTtlMs,
    ...(options.now === undefined ? {} : { now: options.now }),
  })
  const clusterClients = createClusterClients(config.nodeAttestors, {
    onCall: (cluster, call) => metrics.recordKubeApiCall(cluster, call),
  })
  const app = await buildApp(config, {
    store,
    ca,
    clusterClients,
    logger,
    metrics,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.intervals === undefined ? {} : { intervals: options.intervals }),
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return new RunningServer(app, store, ca, dataDir, options.dataDir === undefined, logLines)
}

function publicKeyOf(world: KubeWorld): KeyObject {
  return createPublicKey({ key: world.api.jwk as JsonWebKey, format: 'jwk' })
}
