import { randomInt } from 'node:crypto'
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type KubeTestApi, startKubeTestApi } from '@k8s-attest/kube-test-api'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { findObject, type KubeObject, REPO_ROOT, renderKustomization } from '../support/manifests.ts'
import { type AdminApi, type AgentRecord, listAgents, signInToDashboard } from './admin-api.ts'
import { requestJson } from './https-json.ts'
import { type Cluster, type PodPlacement, type RunningPod, startPod } from './kubelet-runner.ts'
import type { PodSpec } from './pod-spec.ts'
import { probeOnce } from './probes.ts'

/**
 * The kind overlay, as `kubectl apply -k deploy/overlays/kind` would apply it, run here: the
 * Kubernetes test API plays the cluster (the manifests' namespace, service accounts, RBAC and
 * ConfigMaps
 * applied to it, three nodes), and kubelet-runner.ts runs the rendered Deployment's and
 * DaemonSet's pods as containers of the images built from the Dockerfiles. The server reaches
 * the API through the in-cluster configuration (`kube_config_file = ""`).
 */

const NAMESPACE = 'spire'
const NODE_NAMES = ['k8s-attest-control-plane', 'k8s-attest-worker', 'k8s-attest-worker2']
const SERVER = 'spire-server'
const AGENT = 'spire-agent'
/** The Service name agents and operators use. */
const SERVICE_HOST = 'spire-server.spire.svc'

const objects = renderKustomization('deploy/overlays/kind')
const serverTemplate = templateOf(findObject(objects, 'Deployment', SERVER))
const agentTemplate = templateOf(findObject(objects, 'DaemonSet', AGENT))
const serverConf = String(
  (findObject(objects, 'ConfigMap', SERVER).data as Record<string, string>)['server.conf'],
)
const trustDomain = /trust_domain\s*=\s*"([^"]+)"/.exec(serverConf)?.[1]
const clusterName = /clusters\s*=\s*\{\s*"([^"]+)"/.exec(serverConf)?.[1]

let api: KubeTestApi
let runDirectory: string
let cluster: Cluster
let serverPod: RunningPod
const agentPods = new Map<string, RunningPod>()
const nodeUids = new Map<string, string>()
let admin: AdminApi
let failed = false

/** Pod IPs: loopback addresses of a block of their own, so concurrent runs do not meet. */
const podNetwork = `127.${randomInt(100, 250)}.${randomInt(0, 256)}`

beforeAll(async () => {
  runDirectory = await mkdtemp(join(tmpdir(), 'k8s-attest-e2e-'))
  await mkdir(join(runDirectory, 'logs'), { recursive: true })
  api = await startKubeTestApi()
  applyClusterObjects(api, objects)
  for (const [index, name] of NODE_NAMES.entries()) {
    const node = api.createNode(name, {
      addresses: [{ type: 'InternalIP', address: `${podNetwork}.${index + 1}` }],
    })
    nodeUids.set(name, node.uid)
  }
  const serverIp = `${podNetwork}.10`
  cluster = {
    api,
    objects: [...objects],
    hosts: { [SERVICE_HOST]: serverIp, [`${SERVICE_HOST}.cluster.local`]: serverIp },
    stateDirectory: join(runDirectory, 'state'),
    logDirectory: join(runDirectory, 'logs'),
  }

  serverPod = await startPod(cluster, placement(SERVER, 'control-plane', serverIp, serverTemplate))
  await serverPod.waitForProbe(SERVER, 'readinessProbe')

  // The server's k8sbundle notifier publishes its trust bundle into ConfigMap spire-bundle; the
  // agents' pods mount that key, so they start once it is there (kubelet would hold them before).
  const bundle = await eventually('the trust bundle published to ConfigMap spire-bundle', async () => {
    const stored = api.getObject('configmaps', 'spire-bundle', NAMESPACE).object as {
      data?: Record<string, string>
    }
    const published = stored.data?.['bundle.crt']
    if (published === undefined) throw new Error('ConfigMap spire-bundle has no bundle.crt yet')
    return published
  })
  expect(bundle).toBe(
    await readFile(
      join(cluster.stateDirectory, 'persistent-volumes', NAMESPACE, 'spire-server-data', 'ca', 'bundle.pem'),
      'utf8',
    ),
  )
  const secret = findObject(objects, 'Secret', 'spire-server-admin')
  admin = {
    url: `https://${serverIp}:8081`,
    serverName: SERVICE_HOST,
    ca: bundle,
    token: Buffer.from(
      String((secret.data as Record<string, string>)['admin-token']).replace(/\s/g, ''),
      'base64',
    )
      .toString('utf8')
      .trim(),
  }

  await Promise.all(
    NODE_NAMES.map(async (nodeName, index) => {
      const pod = await startPod(
        cluster,
        placement(AGENT, nodeName, `${podNetwork}.${21 + index}`, agentTemplate),
      )
      agentPods.set(nodeName, pod)
    }),
  )
}, 180_000)

afterEach(({ task }) => {
  if (task.result?.state === 'fail') failed = true
})

afterAll(async () => {
  for (const pod of [...agentPods.values(), serverPod]) await pod?.stop()
  await api?.stop()
  if (runDirectory === undefined) return
  if (failed) {
    const kept = join(REPO_ROOT, '.ci-artifacts', 'e2e-containers')
    await rm(kept, { recursive: true, force: true })
    await cp(join(runDirectory, 'logs'), kept, { recursive: true })
    console.error(`e2e: container logs kept in ${kept}`)
  }
  await rm(runDirectory, { recursive: true, force: true })
}, 60_000)

describe('the kind overlay, run as containers against the Kubernetes test API', () => {
  it('attests the agent of every node, each ID ending in its node UID', async () => {
    const agents = await eventually('three agents attested', async () => {
      const listed = await listAgents(admin)
      if (listed.length < NODE_NAMES.length) throw new Error(`${listed.length} agents so far`)
      return listed
    })
    const expected = NODE_NAMES.map(
      (node) => `spiffe://${trustDomain}/spire/agent/k8s_psat/${clusterName}/${nodeUids.get(node)}`,
    ).sort()
    expect(agents.map((agent) => agent.spiffe_id)).toEqual(expected)
    expect(agents.every((agent) => !agent.banned)).toBe(true)
  })

  it("serves the dashboard's browser app from the server image (its files kept beside the bundle)", async () => {
    const session = await signInToDashboard(admin)
    const index = await session.get('/dashboard/')
    expect(index.status, index.text).toBe(200)
    expect(index.headers['content-type']).toMatch(/^text\/html/)
    const scripts = [...index.text.matchAll(/<script[^>]* src="([^"]+)"/g)].map((match) => match[1])
    expect(scripts.length, index.text).toBeGreaterThan(0)
    for (const script of scripts) {
      const asset = await session.get(String(script))
      expect(asset.status, `GET ${script}`).toBe(200)
      expect(asset.headers['content-type'], `GET ${script}`).toMatch(/javascript/)
    }
  })

  it('passes the probes exactly as the manifests define them', async () => {
    expect(await serverPod.waitForProbe(SERVER, 'livenessProbe')).toBe('GET /live: 200')
    expect(await serverPod.waitForProbe(SERVER, 'readinessProbe')).toBe('GET /ready: 200')
    // The probes' command on its own first, without their timeout: a failure shows its output.
    for (const pod of agentPods.values()) {
      const command = agentTemplate.spec.containers[0]?.startupProbe?.exec?.command ?? []
      const direct = await pod.exec(AGENT, command)
      expect(direct, `${command.join(' ')} in ${pod.placement.name}`).toMatchObject({ exitCode: 0 })
    }
    const agentResults = await Promise.all(
      [...agentPods.values()].map(async (pod) => {
        const results: string[] = []
        for (const kind of ['startupProbe', 'readinessProbe'] as const)
          results.push(`${kind} ${await pod.waitForProbe(AGENT, kind)}`)
        return results
      }),
    )
    for (const results of agentResults) {
      // healthcheck prints `healthy: SVID <SPIFFE ID> valid until <time>`.
      expect(results.map((result) => result.replace(/SVID spiffe:\/\/\S+ valid until .*/, 'SVID …'))).toEqual(
        ['startupProbe exit 0: healthy: SVID …', 'readinessProbe exit 0: healthy: SVID …'],
      )
    }
  })

  it('lets SQLite in the server container spill a large index build to a temporary file', async () => {
    // An index over 200,000 rows is built through a temporary file; under the read-only root
    // that needs the pod's /tmp volume ("disk I/O error" without it).
    const built = await serverPod.exec(SERVER, [
      'node',
      '-e',
      [
        "const { DatabaseSync } = require('node:sqlite')",
        "const db = new DatabaseSync(':memory:')",
        "db.exec('CREATE TABLE t (v BLOB)')",
        "const insert = db.prepare('INSERT INTO t VALUES (randomblob(100))')",
        "db.exec('BEGIN'); for (let i = 0; i < 200000; i++) insert.run(); db.exec('COMMIT')",
        "db.exec('CREATE INDEX t_v ON t (v)')",
        "process.stdout.write('index built')",
      ].join('\n'),
    ])
    expect(built).toEqual({ exitCode: 0, output: 'index built' })
  })

  it("delivers a refreshed projected token to the agent's token path, and the agent attests with it", async () => {
    const pod = agentPod(NODE_NAMES[1])
    const before = pod.projectedToken('token')
    await pod.refreshTokens()
    const after = pod.projectedToken('token')
    expect(after.generation).toBe(before.generation + 1)
    expect(after.token).not.toBe(before.token)
    // Read inside the container, as the agent's user, at the path the agent is configured with.
    const read = await pod.exec(AGENT, [
      'node',
      '-e',
      "process.stdout.write(require('node:fs').readFileSync('/var/run/secrets/tokens/spire-agent', 'utf8'))",
    ])
    expect(read.exitCode).toBe(0)
    expect(read.output).toBe(after.token)
    // The cluster accepts the new token for the server's audience, bound to this very pod.
    const review = (await requestJson({
      url: `${api.url}/apis/authentication.k8s.io/v1/tokenreviews`,
      method: 'POST',
      ca: api.caCertificatePem,
      bearerToken: api.admin.token,
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token: after.token, audiences: ['spire-server'] },
      },
    })) as { status: { authenticated?: boolean; user?: { extra?: Record<string, string[]> } } }
    expect(review.status.authenticated).toBe(true)
    expect(review.status.user?.extra?.['authentication.kubernetes.io/pod-uid']).toEqual([pod.uid])

    // The agent's next attestation presents the refreshed token: with its data_dir emptied (as a
    // lost volume), the restarted agent must attest, and the server logs the token's credential ID.
    const { jti } = JSON.parse(Buffer.from(after.token.split('.')[1] ?? '', 'base64url').toString()) as {
      jti: string
    }
    const emptied = await pod.exec(AGENT, [
      'node',
      '-e',
      "const fs = require('node:fs'); const dir = '/var/lib/k8s-attest-agent'; for (const entry of fs.readdirSync(dir)) fs.rmSync(dir + '/' + entry, { recursive: true })",
    ])
    expect(emptied).toEqual({ exitCode: 0, output: '' })
    await pod.kill(AGENT)
    await pod.startContainer(AGENT)
    const attested = JSON.parse(
      await serverLogLine(
        'the restarted agent attests with the refreshed token',
        `"credential_id":"JTI=${jti}"`,
      ),
    ) as Record<string, unknown>
    expect(attested).toMatchObject({
      msg: 'agent attested',
      agent_id: `spiffe://${trustDomain}/spire/agent/k8s_psat/${clusterName}/${nodeUids.get(NODE_NAMES[1] ?? '')}`,
    })
    expect(await pod.waitForProbe(AGENT, 'startupProbe')).toMatch(/^exit 0/)
  })

  it('keeps every record when the server container is killed and started again (its volume)', async () => {
    const before = await listAgents(admin)
    await serverPod.kill(SERVER)
    await serverPod.startContainer(SERVER)
    await serverPod.waitForProbe(SERVER, 'readinessProbe')
    expect(summary(await listAgents(admin))).toEqual(summary(before))
  })

  it('reuses the stored SVID when an agent container restarts, without attesting', async () => {
    const pod = agentPod(NODE_NAMES[2])
    const id = `spiffe://${trustDomain}/spire/agent/k8s_psat/${clusterName}/${nodeUids.get(NODE_NAMES[2] ?? '')}`
    const before = (await listAgents(admin)).find((agent) => agent.spiffe_id === id)
    const reviews = api.counters.requests({ verb: 'create', resource: 'tokenreviews' })
    await pod.kill(AGENT)
    await pod.startContainer(AGENT)
    await eventually('the restarted agent reuses its SVID', async () => {
      if (!pod.logs(AGENT).includes('reusing the SVID stored in data_dir')) throw new Error(pod.logs(AGENT))
    })
    expect(await pod.waitForProbe(AGENT, 'startupProbe')).toMatch(/^exit 0/)
    const after = (await listAgents(admin)).find((agent) => agent.spiffe_id === id)
    expect(after?.svid_serial).toBe(before?.svid_serial)
    expect(after?.last_attested_at).toBe(before?.last_attested_at)
    expect(api.counters.requests({ verb: 'create', resource: 'tokenreviews' })).toBe(reviews)
  })

  it('names a verb removed from the applied ClusterRole and fails /ready', async () => {
    const role = api.getObject('clusterroles.rbac.authorization.k8s.io', 'k8s-attest-server').object as {
      rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[]
    }
    const rules = role.rules.filter(
      (rule) => !(rule.resources.includes('nodes') && rule.verbs.includes('get')),
    )
    expect(rules).toHaveLength(role.rules.length - 1)
    api.deleteObject('clusterroles.rbac.authorization.k8s.io', 'k8s-attest-server')
    api.createObject('clusterroles.rbac.authorization.k8s.io', {
      ...findObject(objects, 'ClusterRole', 'k8s-attest-server'),
      rules,
    } as never)
    // A restart (kubectl rollout restart) runs the self-check at once, not at the next re-check.
    await serverPod.kill(SERVER)
    await serverPod.startContainer(SERVER)
    const line = await serverLogLine('the self-check reports the missing permission', 'may not get nodes')
    expect(line).toContain('add these rules to the server')
    const readiness = await probeOnce(
      serverTemplate.spec.containers[0]?.readinessProbe ?? {},
      serverPod.probeTarget(SERVER),
    )
    expect(readiness).toEqual({ success: false, detail: 'GET /ready: 503' })
    const liveness = await probeOnce(
      serverTemplate.spec.containers[0]?.livenessProbe ?? {},
      serverPod.probeTarget(SERVER),
    )
    expect(liveness.success).toBe(true)
  })
})

/** The manifests' cluster-wide objects and service accounts, applied as `kubectl apply` would. */
function applyClusterObjects(target: KubeTestApi, rendered: readonly KubeObject[]): void {
  const resources: Readonly<Record<string, string>> = {
    Namespace: 'namespaces',
    ServiceAccount: 'serviceaccounts',
    ClusterRole: 'clusterroles.rbac.authorization.k8s.io',
    ClusterRoleBinding: 'clusterrolebindings.rbac.authorization.k8s.io',
    Role: 'roles.rbac.authorization.k8s.io',
    RoleBinding: 'rolebindings.rbac.authorization.k8s.io',
    ConfigMap: 'configmaps',
  }
  for (const kind of Object.keys(resources)) {
    for (const object of rendered.filter((candidate) => candidate.kind === kind))
      target.createObject(resources[kind] as string, object as never, object.metadata.namespace)
  }
}

function templateOf(workload: KubeObject): PodPlacement['template'] {
  return (workload as unknown as { spec: { template: PodPlacement['template'] } }).spec.template
}

function placement(
  workload: string,
  nodeName: string,
  podIp: string,
  template: PodPlacement['template'],
): PodPlacement {
  // Named as the controllers name them: the workload, a suffix.
  const suffix = Array.from({ length: 5 }, () => 'bcdfghjklmnpqrstvwxz2456789'[randomInt(27)]).join('')
  return {
    namespace: NAMESPACE,
    name: `${workload}-${suffix}`,
    nodeName: nodeName === 'control-plane' ? (NODE_NAMES[0] as string) : nodeName,
    podIp,
    template: template as { spec: PodSpec },
  }
}

/** The first line of the server container's log that contains `text`, once it is written. */
function serverLogLine(what: string, text: string): Promise<string> {
  return eventually(what, async () => {
    const line = serverPod
      .logs(SERVER)
      .split('\n')
      .find((entry) => entry.includes(text))
    if (line === undefined) throw new Error('not logged yet')
    return line
  })
}

function agentPod(nodeName: string | undefined): RunningPod {
  const pod = agentPods.get(nodeName ?? '')
  if (pod === undefined) throw new Error(`no agent pod on ${nodeName}`)
  return pod
}

function summary(agents: readonly AgentRecord[]): string[] {
  return agents.map((agent) => `${agent.spiffe_id} ${agent.svid_serial} ${agent.last_attested_at}`)
}

/** Polls `check` until it resolves (every 500 ms, up to 60 s), returning its value. */
async function eventually<T>(what: string, check: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60_000
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`${what}: not within 60 s: ${String(error)}`, { cause: error })
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}
