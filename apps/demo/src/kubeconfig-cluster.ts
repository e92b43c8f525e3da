import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api, type V1Pod } from '@kubernetes/client-node'
import type { DemoCluster } from './demo-cluster.ts'
import { AGENT_TOKEN_AUDIENCE, AGENT_TOKEN_SECONDS, type AgentNode } from './system/cluster.ts'

/** Options of {@link connectCluster}. */
export interface ConnectClusterOptions {
  /** Progress lines. @default no output */
  readonly say?: (line: string) => void
}

const SERVER_ACCOUNT = 'spire-server'
const AGENT_ACCOUNT = 'spire-agent'
/** Marks everything the demo creates, so an operator can find leftovers of a demo that was killed. */
const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'k8s-attest-demo' }
/** The agents' pods only hold the pod-bound tokens; the agents themselves run as local processes. */
const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10'

/**
 * Sets the demo up in the cluster `kubeconfigPath` names (its current context), with the
 * kubeconfig's own credentials: a namespace of its own (`k8s-attest-demo-<random>`), the
 * server's and the agents' service accounts, RBAC giving the server exactly what either token
 * verification mode needs — a ClusterRole and binding for TokenReview, the issuer discovery URLs
 * and nodes, a Role and binding in the namespace for its pods and service accounts —, and on
 * each node an agent pod (a pause container) that the agent's projected token is bound to —
 * k8s_psat identifies an agent by its pod and node. Tokens come from the cluster's TokenRequest
 * API. `stop()` deletes the namespace (and with it the accounts, pods and Role) and the
 * cluster-wide RBAC objects.
 *
 * @throws {Error} naming the step that failed; what was created until then is removed.
 */
export async function connectCluster(
  kubeconfigPath: string,
  options: ConnectClusterOptions = {},
): Promise<DemoCluster> {
  const say = options.say ?? (() => {})
  const kubeconfig = new KubeConfig()
  kubeconfig.loadFromFile(kubeconfigPath)
  const target = kubeconfig.getCurrentCluster()
  if (target === null) throw new Error(`${kubeconfigPath} has no current cluster (current-context)`)
  const core = kubeconfig.makeApiClient(CoreV1Api)
  const rbac = kubeconfig.makeApiClient(RbacAuthorizationV1Api)
  const suffix = randomBytes(3).toString('hex')
  const namespace = `k8s-attest-demo-${suffix}`
  const clusterRole = `k8s-attest-demo-server-${suffix}`
  const undo: (() => Promise<unknown>)[] = []
  const cleanUp = async () => {
    const failures: string[] = []
    for (const step of undo.reverse()) {
      await step().catch((error: unknown) => failures.push(firstLine(error)))
    }
    undo.length = 0
    if (failures.length > 0)
      throw new Error(`could not remove everything the demo created: ${failures.join('; ')}`)
  }
  const step = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run()
    } catch (error) {
      throw new Error(`${what} in ${target.server}: ${firstLine(error)}`, { cause: error })
    }
  }

  try {
    const nodes = (await step('listing the nodes', () => core.listNode())).items
    if (nodes.length === 0) throw new Error(`the cluster at ${target.server} has no nodes`)
    await step(`creating namespace ${namespace}`, () =>
      core.createNamespace({ body: { metadata: { name: namespace, labels: MANAGED_BY } } }),
    )
    undo.push(() => core.deleteNamespace({ name: namespace }))
    for (const name of [SERVER_ACCOUNT, AGENT_ACCOUNT]) {
      await step(`creating service account ${namespace}/${name}`, () =>
        core.createNamespacedServiceAccount({ namespace, body: { metadata: { name, labels: MANAGED_BY } } }),
      )
    }
    await step(`creating ClusterRole ${clusterRole}`, () =>
      rbac.createClusterRole({
        body: {
          metadata: { name: clusterRole, labels: MANAGED_BY },
          rules: [
            { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
            { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
            {
              nonResourceURLs: ['/.well-known/openid-configuration', '/openid/v1/jwks'],
              verbs: ['get'],
            },
          ],
        },
      }),
    )
    undo.push(() => rbac.deleteClusterRole({ name: clusterRole }))
    await step(`creating ClusterRoleBinding ${clusterRole}`, () =>
      rbac.createClusterRoleBinding({
        body: {
          metadata: { name: clusterRole, labels: MANAGED_BY },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
          subjects: [{ kind: 'ServiceAccount', name: SERVER_ACCOUNT, namespace }],
        },
      }),
    )
    undo.push(() => rbac.deleteClusterRoleBinding({ name: clusterRole }))
    // The agents' pods and service accounts, in their namespace only (as deploy/base grants them);
    // deleting the namespace deletes these.
    await step(`creating Role ${namespace}/${SERVER_ACCOUNT}`, () =>
      rbac.createNamespacedRole({
        namespace,
        body: {
          metadata: { name: SERVER_ACCOUNT, labels: MANAGED_BY },
          rules: [
            { apiGroups: [''], resources: ['pods', 'serviceaccounts'], verbs: ['get', 'list', 'watch'] },
          ],
        },
      }),
    )
    await step(`creating RoleBinding ${namespace}/${SERVER_ACCOUNT}`, () =>
      rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name: SERVER_ACCOUNT, labels: MANAGED_BY },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: SERVER_ACCOUNT },
          subjects: [{ kind: 'ServiceAccount', name: SERVER_ACCOUNT, namespace }],
        },
      }),
    )

    const agentNodes: AgentNode[] = []
    for (const [index, node] of nodes.entries()) {
      const nodeName = node.metadata?.name ?? ''
      const podName = `${AGENT_ACCOUNT}-${index + 1}`
      const pod = await step(`creating the agent pod ${namespace}/${podName} on node ${nodeName}`, () =>
        core.createNamespacedPod({ namespace, body: agentPod(podName, nodeName) }),
      )
      agentNodes.push({
        nodeName,
        nodeUid: node.metadata?.uid ?? '',
        podName,
        podUid: pod.metadata?.uid ?? '',
        hostIp: pod.status?.hostIP ?? '',
        zone: node.metadata?.labels?.['topology.kubernetes.io/zone'] ?? '',
      })
    }
    say(
      `created in ${target.server}: namespace ${namespace} (service accounts, a Role and its binding, ${agentNodes.length} agent pods), ClusterRole and ClusterRoleBinding ${clusterRole}`,
    )

    const requestToken = async (account: string, seconds: number, audiences?: string[], pod?: AgentNode) => {
      const answer = await step(`requesting a token for ${namespace}/${account}`, () =>
        core.createNamespacedServiceAccountToken({
          name: account,
          namespace,
          body: {
            spec: {
              expirationSeconds: seconds,
              ...(audiences === undefined ? {} : { audiences }),
              ...(pod === undefined
                ? {}
                : { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.podName, uid: pod.podUid } }),
            },
          },
        }),
      )
      const token = answer.status?.token
      if (token === undefined || token === '')
        throw new Error(`TokenRequest for ${namespace}/${account} returned no token`)
      return token
    }

    return {
      description: `${target.server} (from ${kubeconfigPath}: ${agentNodes.length} nodes, namespace ${namespace})`,
      namespace,
      agentServiceAccount: `${namespace}:${AGENT_ACCOUNT}`,
      agentNodes,
      issueAgentToken: (node) =>
        requestToken(AGENT_ACCOUNT, AGENT_TOKEN_SECONDS, [AGENT_TOKEN_AUDIENCE], node),
      async writeServerKubeconfig(path) {
        const token = await requestToken(SERVER_ACCOUNT, 86_400)
        const caData =
          target.caData ??
          (target.caFile === undefined ? undefined : (await readFile(target.caFile)).toString('base64'))
        const config = {
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [
            {
              name: 'demo',
              cluster: {
                server: target.server,
                ...(caData === undefined ? {} : { 'certificate-authority-data': caData }),
                ...(target.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
              },
            },
          ],
          users: [{ name: `${namespace}:${SERVER_ACCOUNT}`, user: { token } }],
          contexts: [{ name: 'demo', context: { cluster: 'demo', user: `${namespace}:${SERVER_ACCOUNT}` } }],
          'current-context': 'demo',
        }
        await mkdir(dirname(path), { recursive: true })
        await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 })
        return path
      },
      async stop() {
        await cleanUp()
        say(
          `removed from ${target.server}: namespace ${namespace}, ClusterRole and ClusterRoleBinding ${clusterRole}`,
        )
      },
    }
  } catch (error) {
    await cleanUp().catch(() => undefined)
    throw error
  }
}

/** A pod on `nodeName` for the agents' service account: what the agent's token is bound to. */
function agentPod(name: string, nodeName: string): V1Pod {
  return {
    metadata: { name, labels: { ...MANAGED_BY, app: AGENT_ACCOUNT } },
    spec: {
      nodeName,
      serviceAccountName: AGENT_ACCOUNT,
      automountServiceAccountToken: false,
      // Every node gets one, control-plane nodes too, as a DaemonSet tolerating everything would.
      tolerations: [{ operator: 'Exists' }],
      containers: [{ name: 'pause', image: PAUSE_IMAGE }],
    },
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''
}
