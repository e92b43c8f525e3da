import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { captureLogLine } from '../../../scripts/log-audit/captured-logs.ts'
import { type App, buildApp } from '../src/app.ts'
import { CertificateAuthority } from '../src/ca/certificate-authority.ts'
import type { AgentStore } from '../src/datastore/agent-store.ts'
import { openAgentStore } from '../src/datastore/open-agent-store.ts'
import { createLogger } from '../src/logging/logger.ts'
import type { FakeClusterClient } from './fake-cluster-client.ts'
import type { KubeWorld } from './kube-world.ts'
import { type HarnessOptions, harnessConfig } from './server-harness.ts'

/** A server app over fakes, for `inject()` tests: no port, no Kubernetes API. */
export interface UnitApp {
  readonly app: App
  readonly store: AgentStore
  readonly ca: CertificateAuthority
  readonly logLines: string[]
  close(): Promise<void>
}

/**
 * Builds the app with a {@link FakeClusterClient} per cluster (k8s_psat `demo`, k8s_sat
 * `legacy` in TokenReview mode), a SQLite store and a CA in a temporary data_dir.
 */
export async function buildUnitApp(
  clients: { readonly psat: FakeClusterClient; readonly sat: FakeClusterClient },
  options: {
    readonly randomUuid?: () => string
    readonly rateLimit?: HarnessOptions['rateLimit']
    /** Where log lines go instead of `logLines` (a long fuzz run cannot keep them all). */
    readonly logSink?: (line: string) => void
    /** The dashboard's built files; default the real build output. */
    readonly dashboardAssetsDir?: string
  } = {},
): Promise<UnitApp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'k8s-attest-unit-'))
  // harnessConfig only reads kubeconfigPath from the worlds; the fakes never use it.
  const world = { kubeconfigPath: '/nonexistent/kubeconfig' } as KubeWorld
  const config = harnessConfig(
    {
      clusters: { psat: { demo: { world } }, satReview: { legacy: world } },
      ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
    },
    dataDir,
  )
  const logLines: string[] = []
  const logger = createLogger({
    level: 'info',
    destination: {
      write: (line: string) => {
        captureLogLine('server', line)
        if (options.logSink === undefined) logLines.push(line)
        else options.logSink(line)
      },
    },
  })
  const store = await openAgentStore({
    databaseType: 'sqlite3',
    connectionString: join(dataDir, 'datastore.sqlite3'),
  })
  const ca = await CertificateAuthority.open({
    dataDir,
    trustDomain: 'example.org',
    caTtlMs: 86_400_000,
    agentTtlMs: 3_600_000,
  })
  const app = await buildApp(config, {
    store,
    ca,
    logger,
    clusterClients: {
      k8sPsat: new Map([['demo', clients.psat]]),
      k8sSat: new Map([['legacy', clients.sat]]),
    },
    ...(options.randomUuid === undefined ? {} : { randomUuid: options.randomUuid }),
    ...(options.dashboardAssetsDir === undefined ? {} : { dashboardAssetsDir: options.dashboardAssetsDir }),
  })
  return {
    app,
    store,
    ca,
    logLines,
    async close() {
      await app.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}
