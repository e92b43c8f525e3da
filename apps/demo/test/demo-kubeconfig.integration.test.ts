import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ChildHandle, runToCompletion, startChild } from '../src/child-process.ts'
import { eventually } from '../src/system/eventually.ts'
import { JsonLog } from '../src/system/json-log.ts'

/*
 * `make demo` given a kubeconfig: the Kubernetes test API runs as a process of its own and the
 * demo reaches it only through the admin kubeconfig that process wrote — exactly what a real
 * cluster looks like to the demo. The demo must set itself up there, attest one agent per node
 * the cluster has, and leave the cluster as it found it.
 */

const DEMO_MAIN = import.meta.resolve('../src/main.ts')

let root: string
let api: ChildHandle
let kubeconfigPath: string

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'k8s-attest-demo-kubeconfig-'))
  kubeconfigPath = join(root, 'admin.kubeconfig')
  const logPath = join(root, 'kube-test-api.log')
  const log = await JsonLog.fromEnd(logPath)
  // --seed demo: three nodes, and a `spire` namespace of its own that the demo must not touch.
  api = await startChild({
    name: 'kube-test-api',
    entry: import.meta.resolve('@k8s-attest/kube-test-api/main'),
    args: ['--seed', 'demo', '--kubeconfig', kubeconfigPath],
    logPath,
  })
  await eventually(
    async () => {
      if (api.exitStatus() !== undefined) throw new Error(`kube-test-api exited: ${await log.tail()}`)
      return (await log.tail()).includes(`kubeconfig: ${kubeconfigPath}`) ? true : undefined
    },
    { what: 'the Kubernetes test API to serve', timeoutMs: 30_000, describe: () => log.tail() },
  )
}, 60_000)

afterAll(async () => {
  await api?.stop()
  await rm(root, { recursive: true, force: true })
})

describe('make demo with KUBECONFIG', () => {
  it('creates its namespace, accounts, RBAC and agent pods there, attests an agent per node, and removes them', async () => {
    const kubeconfig = new KubeConfig()
    kubeconfig.loadFromFile(kubeconfigPath)
    const core = kubeconfig.makeApiClient(CoreV1Api)
    const rbac = kubeconfig.makeApiClient(RbacAuthorizationV1Api)
    const nodes = (await core.listNode()).items
    const namespacesBefore = (await core.listNamespace()).items.map((ns) => ns.metadata?.name).sort()
    const rolesBefore = (await rbac.listClusterRole()).items.map((role) => role.metadata?.name).sort()

    const run = await runToCompletion(DEMO_MAIN, ['--once', '--dir', join(root, 'demo')], 120_000, {
      ...process.env,
      KUBECONFIG: kubeconfigPath,
    })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect(run.stdout).toMatch(/created in https:\/\/127\.0\.0\.1:\d+: namespace k8s-attest-demo-[0-9a-f]{6}/)
    expect(run.stdout).toMatch(
      /removed from https:\/\/127\.0\.0\.1:\d+: namespace k8s-attest-demo-[0-9a-f]{6}/,
    )
    // One agent per node of that cluster, identified by that cluster's node UIDs.
    expect(run.stdout).toContain(`${nodes.length} agents attested`)
    for (const node of nodes) {
      expect(run.stdout).toContain(`/spire/agent/k8s_psat/demo/${node.metadata?.uid}  ${node.metadata?.name}`)
    }

    expect((await core.listNamespace()).items.map((ns) => ns.metadata?.name).sort()).toEqual(namespacesBefore)
    expect((await rbac.listClusterRole()).items.map((role) => role.metadata?.name).sort()).toEqual(
      rolesBefore,
    )
    const bindings = (await rbac.listClusterRoleBinding()).items.map((binding) => binding.metadata?.name)
    expect(bindings.filter((name) => name?.startsWith('k8s-attest-demo'))).toEqual([])
  }, 150_000)
})
