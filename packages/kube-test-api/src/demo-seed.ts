import type { KubeTestApi, StoredObject } from './test-api.ts'

/**
 * The optional seed of the standalone test API (`main.ts --seed demo`): a
 * small cluster that looks like one running k8s-attest — a `spire`
 * namespace, the server's service account with exactly the permissions the
 * server needs (in either k8s_psat verification mode), and one running agent
 * pod on each of three nodes.
 */

/** The namespace the demo seed creates. */
export const DEMO_NAMESPACE = 'spire'
/** The service account of the k8s-attest server. */
export const DEMO_SERVER_ACCOUNT = 'spire-server'
/** The service account of the agents. */
export const DEMO_AGENT_ACCOUNT = 'spire-agent'
/** The ClusterRole (and its binding) that lets the server review tokens and read pods and nodes. */
export const DEMO_SERVER_ROLE = 'k8s-attest-server'
/**
 * The ClusterRole (and its binding) a server verifying tokens in JWKS mode needs beyond
 * {@link DEMO_SERVER_ROLE}, as deploy/components/jwks-verification grants it.
 */
export const DEMO_SERVER_JWKS_ROLE = 'k8s-attest-server-jwks'

/** What the demo seed created. */
export interface DemoSeed {
  readonly namespace: string
  readonly serverServiceAccount: StoredObject
  readonly agentServiceAccount: StoredObject
  readonly nodes: readonly StoredObject[]
  readonly agentPods: readonly StoredObject[]
}

/** Seeds `api` with the demo cluster. */
export function seedDemoCluster(api: KubeTestApi): DemoSeed {
  api.createNamespace(DEMO_NAMESPACE)
  const serverServiceAccount = api.createServiceAccount(DEMO_NAMESPACE, DEMO_SERVER_ACCOUNT)
  const agentServiceAccount = api.createServiceAccount(DEMO_NAMESPACE, DEMO_AGENT_ACCOUNT)
  api.createObject('clusterroles.rbac.authorization.k8s.io', {
    metadata: { name: DEMO_SERVER_ROLE },
    rules: [
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
    ],
  })
  api.createObject('clusterroles.rbac.authorization.k8s.io', {
    metadata: { name: DEMO_SERVER_JWKS_ROLE },
    rules: [
      { nonResourceURLs: ['/.well-known/openid-configuration', '/openid/v1/jwks'], verbs: ['get'] },
      { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'list', 'watch'] },
    ],
  })
  for (const role of [DEMO_SERVER_ROLE, DEMO_SERVER_JWKS_ROLE]) {
    api.createObject('clusterrolebindings.rbac.authorization.k8s.io', {
      metadata: { name: role },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ kind: 'ServiceAccount', name: DEMO_SERVER_ACCOUNT, namespace: DEMO_NAMESPACE }],
    })
  }
  const nodes: StoredObject[] = []
  const agentPods: StoredObject[] = []
  for (const index of [1, 2, 3]) {
    const nodeName = `demo-node-${index}`
    const hostIP = `10.89.0.${10 + index}`
    nodes.push(
      api.createNode(nodeName, {
        labels: { 'topology.kubernetes.io/zone': `demo-zone-${index}`, 'kubernetes.io/hostname': nodeName },
        addresses: [
          { type: 'InternalIP', address: hostIP },
          { type: 'Hostname', address: nodeName },
        ],
      }),
    )
    agentPods.push(
      api.createPod({
        namespace: DEMO_NAMESPACE,
        name: `spire-agent-${index}`,
        serviceAccountName: DEMO_AGENT_ACCOUNT,
        nodeName,
        labels: { app: 'spire-agent' },
        status: { phase: 'Running', hostIP, podIP: `10.244.${index}.2` },
      }),
    )
  }
  return { namespace: DEMO_NAMESPACE, serverServiceAccount, agentServiceAccount, nodes, agentPods }
}
