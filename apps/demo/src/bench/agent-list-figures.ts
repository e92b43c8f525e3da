import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { WIRE_PATHS } from '@k8s-attest/core'
import { type SeedAgent, seedAgents } from '@k8s-attest/server/seed-agents'
import type { DatastoreSpec } from '../system/server-config.ts'
import type { BenchContext } from './bench-context.ts'
import { createBenchDatabase } from './bench-postgres.ts'
import { BENCH_TRUST_DOMAIN, type BenchServer, startBenchServer } from './bench-server.ts'
import { againstTarget } from './figures.ts'
import { runAlternatingSeries } from './load-series.ts'

/*
 * `agent list` over many stored agents (target: p99 ≤ 20 ms at 100,000), on SQLite and on
 * PostgreSQL. The agents are written straight into a new server's datastore before it starts
 * (seedAgents: one transaction per batch), then the admin API's paged listing is timed over
 * HTTPS, one fresh TLS connection per request as one CLI call makes: the first page, pages
 * filtered by cluster, by selector and by ban, and a page halfway down the listing reached
 * through page tokens. The dashboard and the CLI both read pages of the default size (50).
 * Each page's series alternates in blocks with bare `GET /live` requests to the same server,
 * whose p99 is what a fresh TLS connection alone shows on this machine in the same minutes: on
 * 2 shared cores the tail of either is mostly handshakes and requests that wait for a core
 * (2026-12-07: of the twelve slowest of 600 first pages, half lost more time in the handshake
 * than in the server's answer), so the page's own share is the difference.
 */

/** Clusters the seeded agents spread over; a cluster filter matches a tenth of them. */
const CLUSTERS = 10
/** Zones (a node label selector); a zone filter matches a twentieth. */
const ZONES = 20
/** One agent in this many is banned. */
const BANNED_ONE_IN = 100
/** The page size that walks to the middle of the listing quickly (the server's maximum). */
const WALK_PAGE_SIZE = 1000

const LIST_TARGET_MS = 20

/** The agent list figures on SQLite and (unless --skip-postgres) PostgreSQL. */
export async function measureAgentList(context: BenchContext): Promise<void> {
  const { options, figures, workDir } = context
  if (options.listAgents === 0) return
  figures.say()
  figures.say(
    `agent list over ${options.listAgents.toLocaleString('en')} stored agents, ${options.listRequests} requests per series (in blocks alternating with as many bare GET /live), c1, page size 50:`,
  )
  await measureOn(context, 'SQLite', join(workDir, 'list-sqlite'))
  if (options.skipPostgres) {
    figures.say('  PostgreSQL: skipped (--skip-postgres)')
    return
  }
  const database = await createBenchDatabase(options.postgresUrl, join(workDir, 'postgres'))
  try {
    await measureOn(context, database.description, join(workDir, 'list-postgres'), {
      databaseType: 'postgres',
      connectionString: database.url,
    })
  } finally {
    await database.drop()
  }
}

async function measureOn(
  context: BenchContext,
  engine: string,
  dir: string,
  datastore?: DatastoreSpec,
): Promise<void> {
  const { options, figures, cluster } = context
  figures.say(`${engine}:`)
  let seedMs = 0
  const bench = await startBenchServer(dir, cluster.cluster, {
    ...(datastore === undefined ? {} : { datastore }),
    serverProcess: options,
    // As the main server's (bench.ts): each engine's server writes its own .cpuprofile there.
    cpuProfileDir: process.env.K8S_ATTEST_BENCH_CPU_PROF,
    async beforeStart(installation) {
      const started = performance.now()
      await seedAgents(
        datastore ?? {
          databaseType: 'sqlite3',
          connectionString: join(installation.dataDir, 'datastore.sqlite3'),
        },
        seededFleet(options.listAgents),
      )
      seedMs = performance.now() - started
    },
  })
  try {
    figures.record(
      '  agents seeded (agents/s)',
      `${options.listAgents.toLocaleString('en')} in ${(seedMs / 1000).toFixed(1)} s (${((options.listAgents * 1000) / seedMs).toFixed(0)}/s)`,
    )
    const deepToken = await pageTokenAt(bench, Math.floor(options.listAgents / 2))
    const pages: [string, string][] = [
      ['first page', ''],
      ['cluster filter (a tenth)', `cluster=${clusterName(3)}`],
      ['selector filter (a zone: a twentieth)', `selector=${encodeURIComponent(zoneSelector(7))}`],
      ['banned filter (1 %)', 'banned=true'],
      ...(deepToken === undefined
        ? []
        : ([['page at the middle, by page token', `page_token=${encodeURIComponent(deepToken)}`]] as [
            string,
            string,
          ][])),
    ]
    for (const [name, query] of pages) {
      const path = `${WIRE_PATHS.adminAgents}${query === '' ? '' : `?${query}`}`
      await bench.client.send('GET', path, undefined, bench.adminHeaders)
      const { page, bare } = await runAlternatingSeries(options.listRequests, 1, bench.pid, {
        page: () => bench.client.time('GET', path, undefined, bench.adminHeaders),
        bare: () => bench.client.time('GET', '/live'),
      })
      figures.record(
        `  ${name}: p50 / p99`,
        `${page.p50.toFixed(1)} / ${againstTarget(page.p99, LIST_TARGET_MS, ' ms')}, CPU ${page.cpuMsPerRequest.toFixed(2)} ms; bare GET /live ${bare.p50.toFixed(1)} / ${bare.p99.toFixed(1)} ms`,
      )
    }
  } finally {
    await bench.server.stop()
  }
}

/** The page token after the first `agents` agents, walked to in pages of {@link WALK_PAGE_SIZE}. */
async function pageTokenAt(bench: BenchServer, agents: number): Promise<string | undefined> {
  let token: string | undefined
  for (let seen = 0; seen < agents; ) {
    const size = Math.min(WALK_PAGE_SIZE, agents - seen)
    const query = `page_size=${size}${token === undefined ? '' : `&page_token=${encodeURIComponent(token)}`}`
    const { body } = await bench.client.send(
      'GET',
      `${WIRE_PATHS.adminAgents}?${query}`,
      undefined,
      bench.adminHeaders,
    )
    const page = JSON.parse(body) as { agents: unknown[]; next_page_token?: string }
    seen += page.agents.length
    token = page.next_page_token
    if (token === undefined) return undefined
  }
  return token
}

const clusterName = (index: number) => `cluster-${index}`
const zoneSelector = (zone: number) => `k8s_psat:agent_node_label:topology.kubernetes.io/zone:zone-${zone}`

/**
 * `count` agents as k8s_psat attestations would record them: random node UIDs (so the SPIFFE
 * ID order interleaves clusters, as real ones do), the usual selectors, a spread of times.
 */
function* seededFleet(count: number): Generator<SeedAgent> {
  const now = Date.now()
  for (let index = 0; index < count; index++) {
    const cluster = clusterName(index % CLUSTERS)
    const nodeUid = randomUUID()
    const node = `node-${index}`
    yield {
      spiffeId: `spiffe://${BENCH_TRUST_DOMAIN}/spire/agent/k8s_psat/${cluster}/${nodeUid}`,
      attestor: 'k8s_psat',
      cluster,
      selectors: [
        { type: 'k8s_psat', value: `cluster:${cluster}` },
        { type: 'k8s_psat', value: 'agent_ns:spire' },
        { type: 'k8s_psat', value: 'agent_sa:spire-agent' },
        { type: 'k8s_psat', value: `agent_node_name:${node}` },
        { type: 'k8s_psat', value: `agent_node_uid:${nodeUid}` },
        { type: 'k8s_psat', value: `agent_pod_name:spire-agent-${index}` },
        // Zones independent of clusters: a zone's agents are spread over the whole SPIFFE ID order.
        {
          type: 'k8s_psat',
          value: `agent_node_label:topology.kubernetes.io/zone:zone-${Math.floor(index / CLUSTERS) % ZONES}`,
        },
      ],
      svidSerial: (index + 1).toString(16),
      svidExpiresAt: new Date(now + 3_600_000 - (index % 3_600) * 1000),
      firstAttestedAt: new Date(now - 86_400_000 + index),
      lastAttestedAt: new Date(now - (index % 1_800) * 1000),
      banned: index % BANNED_ONE_IN === 0,
    }
  }
}
