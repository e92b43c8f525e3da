import { describe, expect, test } from 'vitest'
import type { Selector } from '../agent-store.ts'
import { type SeedAgent, seedAgents } from '../seed-agents.ts'
import { listAll, type StoreContractSubject, trackResources } from './store-contract.ts'

/*
 * seedAgents (the benchmark's bulk load) on each engine: what it writes must read back through
 * the store exactly as recorded attestations do, page tokens and filters included.
 */

const EXPIRES = new Date('2030-01-01T00:00:00.000Z')

/** Agent `index` of a seeded fleet: three clusters, every seventh banned, a zone per ten. */
function seedAgent(index: number): SeedAgent {
  const name = `node-${String(index).padStart(5, '0')}`
  const cluster = `cluster-${index % 3}`
  const selectors: Selector[] = [
    { type: 'k8s_psat', value: `agent_node_name:${name}` },
    { type: 'k8s_psat', value: `cluster:${cluster}` },
    { type: 'k8s_psat', value: `agent_node_label:topology.kubernetes.io/zone:zone-${index % 10}` },
  ]
  return {
    spiffeId: `spiffe://example.org/spire/agent/k8s_psat/${cluster}/${name}`,
    attestor: 'k8s_psat',
    cluster,
    selectors,
    svidSerial: (index + 1).toString(16),
    svidExpiresAt: EXPIRES,
    firstAttestedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, index)),
    lastAttestedAt: new Date(Date.UTC(2026, 0, 2, 0, 0, index)),
    banned: index % 7 === 0,
  }
}

/** Registers the seedAgents tests for `subject`. */
export function describeSeedAgentsContract(subject: StoreContractSubject): void {
  describe(`seedAgents on ${subject.databaseType}`, () => {
    const resources = trackResources()

    test('inserts every agent in batches, read back by the store as recorded', async () => {
      const location = await subject.newDatabase()
      const fleet = Array.from({ length: 1203 }, (_, index) => seedAgent(index))
      expect(await seedAgents(location, fleet, { batchSize: 500 })).toBe(1203)

      const store = await resources.open(location)
      const banned = fleet.filter((agent) => agent.banned).length
      expect(await store.countAgents()).toEqual({ active: 1203 - banned, expired: 0, banned })
      const sample = fleet[42] as SeedAgent
      expect(await store.getAgent(sample.spiffeId)).toEqual({
        ...sample,
        selectors: [...sample.selectors].sort((a, b) => a.value.localeCompare(b.value)),
      })

      const all = await listAll(store, { pageSize: 100 })
      expect(all.agents.map((agent) => agent.spiffeId)).toEqual(fleet.map((agent) => agent.spiffeId).sort())
      expect(all.pageSizes).toHaveLength(13)

      const zone = await listAll(store, {
        selectors: [{ type: 'k8s_psat', value: 'agent_node_label:topology.kubernetes.io/zone:zone-3' }],
        pageSize: 50,
      })
      expect(zone.agents).toHaveLength(fleet.filter((_, index) => index % 10 === 3).length)
      const bannedOfCluster = await listAll(store, { cluster: 'cluster-1', banned: true, pageSize: 50 })
      expect(bannedOfCluster.agents.map((agent) => agent.spiffeId).sort()).toEqual(
        fleet
          .filter((agent) => agent.cluster === 'cluster-1' && agent.banned)
          .map((agent) => agent.spiffeId)
          .sort(),
      )
    })

    test('refuses an agent recordAttestation would refuse, naming the field', async () => {
      const location = await subject.newDatabase()
      const bad = { ...seedAgent(1), svidSerial: 'not hex' }
      await expect(seedAgents(location, [seedAgent(0), bad])).rejects.toThrow(/svidSerial/)
      const store = await resources.open(location)
      // Checked before its batch is written: nothing of that batch is stored.
      expect(await store.countAgents()).toEqual({ active: 0, expired: 0, banned: 0 })
    })
  })
}
