import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ListAgentsQuery } from '../src/datastore/agent-store.ts'
import { openAgentStore } from '../src/datastore/open-agent-store.ts'

/*
 * What the dashboard asks of the datastore, at 100,000 agents: the first page and a page deep
 * in the listing for every sort, and the filters. Prints milliseconds per page; asserts nothing
 * (speed targets live in figures, not in timed tests).
 *
 *   node --conditions=@k8s-attest/source apps/server/bench/dashboard-listing.ts [agents] [postgres URL]
 */

const agents = Number(process.argv[2] ?? 100_000)
const postgresUrl = process.argv[3]
const dir = await mkdtemp(join(tmpdir(), 'k8s-attest-bench-'))
const store = await openAgentStore(
  postgresUrl === undefined
    ? { databaseType: 'sqlite3', connectionString: join(dir, 'bench.sqlite3') }
    : { databaseType: 'postgres', connectionString: postgresUrl },
)
try {
  const started = performance.now()
  const now = Date.now()
  for (let start = 0; start < agents; start += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, agents - start) }, (_, offset) => {
        const index = start + offset
        const cluster = `cluster-${index % 5}`
        const node = `node-${String(index).padStart(6, '0')}`
        return store.recordAttestation({
          spiffeId: `spiffe://bench.test/spire/agent/k8s_psat/${cluster}/${node}`,
          attestor: 'k8s_psat',
          cluster,
          selectors: [
            { type: 'k8s_psat', value: `cluster:${cluster}` },
            { type: 'k8s_psat', value: 'agent_ns:spire' },
            { type: 'k8s_psat', value: `agent_node_name:${node}` },
            { type: 'k8s_psat', value: `agent_pod_name:spire-agent-${index}` },
          ],
          svidSerial: index.toString(16),
          // Spread over an hour either side of now: some expired, most not.
          svidExpiresAt: new Date(now + ((index * 7919) % 7_200_000) - 1_800_000),
        })
      }),
    )
  }
  process.stdout.write(`seeded ${agents} agents in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)

  const time = async (label: string, query: ListAgentsQuery) => {
    const first = performance.now()
    let page = await store.listAgents({ ...query, pageSize: 50 })
    const firstMs = performance.now() - first
    // 20 pages in: what "Next" costs after a while (keyset paging: the same as the first).
    let deepMs = 0
    for (let n = 0; n < 20 && page.nextPageToken !== undefined; n += 1) {
      const next = performance.now()
      page = await store.listAgents({ ...query, pageSize: 50, pageToken: page.nextPageToken })
      deepMs = performance.now() - next
    }
    process.stdout.write(
      `${label.padEnd(44)} first page ${firstMs.toFixed(1)} ms, 21st page ${deepMs.toFixed(1)} ms\n`,
    )
  }
  await time('by SPIFFE ID', {})
  await time('by last attestation, newest first', { sort: 'last_attested_at', descending: true })
  await time('by SVID expiry', { sort: 'svid_expires_at' })
  await time('state expired', { state: 'expired' })
  await time('cluster-3, attested, by expiry', {
    cluster: 'cluster-3',
    state: 'attested',
    sort: 'svid_expires_at',
  })
  await time('selector agent_node_name:node-050000', {
    selectors: [{ type: 'k8s_psat', value: 'agent_node_name:node-050000' }],
  })
  await time('search "node-0500"', { search: 'node-0500' })
  await time('search for nothing that exists', { search: 'no-such-node' })
  const counts = performance.now()
  await store.countAgents()
  process.stdout.write(
    `${'countAgents (the overview)'.padEnd(44)} ${(performance.now() - counts).toFixed(1)} ms\n`,
  )
} finally {
  await store.close()
  await rm(dir, { recursive: true, force: true })
}
