import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runToCompletion } from '../src/child-process.ts'
import { type Demo, startDemo } from '../src/demo.ts'

/*
 * `make demo` as a test: startDemo() brings up the embedded cluster, the real server process and
 * one real agent process per node, and every agent ends up recorded by the server with the
 * identity and selectors k8s_psat derives from its node and pod.
 */

let workDir: string
let demo: Demo

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'k8s-attest-demo-test-'))
  demo = await startDemo({ workDir })
})

afterAll(async () => {
  await demo?.stop()
  await rm(workDir, { recursive: true, force: true })
})

describe('startDemo', () => {
  it('gets all three agents attested with their k8s_psat IDs and node and pod selectors', async () => {
    const recorded = await demo.waitForAgents()

    expect(demo.agents).toHaveLength(3)
    const expected = demo.agents.map(({ node }) => ({
      spiffe_id: `spiffe://${demo.trustDomain}/spire/agent/k8s_psat/${demo.clusterName}/${node.nodeUid}`,
      attestor: 'k8s_psat',
      cluster: demo.clusterName,
      banned: false,
      selectors: [
        `cluster:${demo.clusterName}`,
        'agent_ns:spire',
        'agent_sa:spire-agent',
        `agent_pod_name:${node.podName}`,
        `agent_pod_uid:${node.podUid}`,
        `agent_node_name:${node.nodeName}`,
        `agent_node_uid:${node.nodeUid}`,
        `agent_node_ip:${node.hostIp}`,
        `agent_node_label:topology.kubernetes.io/zone:${node.zone}`,
        'agent_pod_label:app:spire-agent',
      ].sort(),
    }))
    const seen = recorded.map((agent) => ({
      spiffe_id: agent.spiffe_id,
      attestor: agent.attestor,
      cluster: agent.cluster,
      banned: agent.banned,
      selectors: agent.selectors
        .map((selector) => {
          expect(selector.type).toBe('k8s_psat')
          return selector.value
        })
        .sort(),
    }))
    const byId = (a: { spiffe_id: string }, b: { spiffe_id: string }) =>
      a.spiffe_id.localeCompare(b.spiffe_id)
    expect(seen.sort(byId)).toEqual(expected.sort(byId))
  })

  it('lets an operator inspect an agent with `k8s-attest-server agent show`', async () => {
    const [agent] = await demo.waitForAgents()
    if (agent === undefined) throw new Error('waitForAgents() returned no agent')
    const { port, bundlePath, adminTokenPath } = demo.server
    const shown = await runToCompletion(import.meta.resolve('@k8s-attest/server/main'), [
      'agent',
      'show',
      '-serverAddress',
      `127.0.0.1:${port}`,
      '-trustBundle',
      bundlePath,
      '-tokenFile',
      adminTokenPath,
      '-output',
      'json',
      '-spiffeID',
      agent.spiffe_id,
    ])
    expect(shown.stderr).toBe('')
    expect(shown.status).toBe(0)
    expect(JSON.parse(shown.stdout)).toEqual(agent)
  })
})
