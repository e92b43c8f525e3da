import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import {
  DEMO_AGENT_ACCOUNT,
  DEMO_NAMESPACE,
  DEMO_SERVER_ACCOUNT,
  type KubeTestApi,
  type StoredObject,
  seedDemoCluster,
  startKubeTestApi,
} from '@k8s-attest/kube-test-api'

/** The audience SPIRE's k8s_psat manifests project for the agent token (the server's default). */
export const AGENT_TOKEN_AUDIENCE = 'spire-server'
/** The projected token's lifetime in SPIRE's manifests; kubelet refreshes it at 80 % of that. */
export const AGENT_TOKEN_SECONDS = 7200

/** A node running an agent pod, with what a server derives an agent's identity from. */
export interface AgentNode {
  readonly nodeName: string
  /** Ends the agent's k8s_psat SPIFFE ID. */
  readonly nodeUid: string
  readonly podName: string
  /** Changes when the pod is recreated; a projected token is bound to one pod UID. */
  readonly podUid: string
  /** `status.hostIP`, the `agent_node_ip` selector. */
  readonly hostIp: string
  /** The `topology.kubernetes.io/zone` label. */
  readonly zone: string
}

/**
 * An embedded Kubernetes cluster for the demo and the system tests: the project's Kubernetes
 * test API, seeded like a cluster running k8s-attest (a `spire` namespace, the server's service
 * account with exactly the RBAC it needs, the agents' service account, and a running agent pod
 * on each of three nodes), handing out tokens the way kubelet and the token controller would.
 * Every token it hands out is remembered, so tests can check that none reaches a log.
 */
export interface TestCluster {
  /** The test API itself, for what this interface does not cover (counters, faults). */
  readonly api: KubeTestApi
  readonly namespace: string
  /** The agents' service account name. */
  readonly agentServiceAccount: string
  /** The seeded nodes (`demo-node-1` … `demo-node-3`), each with its agent pod. */
  readonly seededNodes: readonly AgentNode[]
  /** Every token issued so far: agents', the server's. */
  readonly issuedTokens: readonly string[]
  /** Adds a node and a running agent pod on it (as a DaemonSet would), `<nodeName>-agent`. */
  addAgentNode(nodeName: string): AgentNode
  /**
   * Force-deletes the node's agent pod and creates it again under the same name, as a
   * DaemonSet replaces a pod: the pod gets a new UID, and tokens bound to the old one stop
   * passing TokenReview.
   */
  recreateAgentPod(node: AgentNode): AgentNode
  /** A projected token of the agents' service account bound to the node's pod, as kubelet requests it. */
  issueProjectedToken(node: AgentNode): string
  /**
   * A legacy (Secret-based, non-expiring) token of the agents' service account, as the token
   * controller fills a `kubernetes.io/service-account-token` Secret named `secretName`.
   */
  issueLegacyToken(secretName: string): string
  /**
   * Writes a kubeconfig for the server's own service account (a TokenRequest token), so the
   * server reaches the cluster with exactly the RBAC it would have in a real one.
   */
  writeServerKubeconfig(path: string): Promise<string>
  stop(): Promise<void>
}

/** Starts the test API on 127.0.0.1 (a free port) and seeds it. */
export async function startTestCluster(): Promise<TestCluster> {
  const api = await startKubeTestApi()
  try {
    const seed = seedDemoCluster(api)
    return new SeededCluster(api, seed.nodes, seed.agentPods)
  } catch (error) {
    await api.stop()
    throw error
  }
}

class SeededCluster implements TestCluster {
  readonly api: KubeTestApi
  readonly namespace = DEMO_NAMESPACE
  readonly agentServiceAccount = DEMO_AGENT_ACCOUNT
  readonly seededNodes: readonly AgentNode[]
  readonly #tokens: string[] = []
  /** Host IPs of added nodes, after the seed's 10.89.0.11–13. */
  #nextHost = 100

  constructor(api: KubeTestApi, nodes: readonly StoredObject[], pods: readonly StoredObject[]) {
    this.api = api
    this.seededNodes = pods.map((pod) => {
      const nodeName = stringAt(pod.object, 'spec', 'nodeName')
      const node = nodes.find((candidate) => candidate.name === nodeName)
      if (node === undefined) throw new Error(`seeded pod ${pod.name} runs on an unknown node "${nodeName}"`)
      return agentNodeOf(node, pod)
    })
  }

  get issuedTokens(): readonly string[] {
    return this.#tokens
  }

  addAgentNode(nodeName: string): AgentNode {
    const hostIp = `10.89.1.${this.#nextHost++}`
    const zone = `zone-of-${nodeName}`
    const node = this.api.createNode(nodeName, {
      labels: { 'topology.kubernetes.io/zone': zone, 'kubernetes.io/hostname': nodeName },
      addresses: [
        { type: 'InternalIP', address: hostIp },
        { type: 'Hostname', address: nodeName },
      ],
    })
    return agentNodeOf(node, this.#createAgentPod(`${nodeName}-agent`, nodeName, hostIp))
  }

  recreateAgentPod(node: AgentNode): AgentNode {
    this.api.deleteObject('pods', node.podName, { namespace: this.namespace, gracePeriodSeconds: 0 })
    const pod = this.#createAgentPod(node.podName, node.nodeName, node.hostIp)
    return { ...node, podUid: pod.uid }
  }

  issueProjectedToken(node: AgentNode): string {
    const { token } = this.api.requestToken({
      namespace: this.namespace,
      serviceAccount: this.agentServiceAccount,
      audiences: [AGENT_TOKEN_AUDIENCE],
      expirationSeconds: AGENT_TOKEN_SECONDS,
      boundObject: { kind: 'Pod', name: node.podName, uid: node.podUid },
    })
    return this.#remember(token)
  }

  issueLegacyToken(secretName: string): string {
    return this.#remember(
      this.api.createLegacyTokenSecret(this.namespace, secretName, this.agentServiceAccount),
    )
  }

  async writeServerKubeconfig(path: string): Promise<string> {
    const { token } = this.api.requestToken({
      namespace: this.namespace,
      serviceAccount: DEMO_SERVER_ACCOUNT,
      expirationSeconds: 86_400,
    })
    await mkdir(dirname(path), { recursive: true })
    return this.api.writeKubeconfig({
      identity: {
        name: `system:serviceaccount:${this.namespace}:${DEMO_SERVER_ACCOUNT}`,
        token: this.#remember(token),
      },
      path,
    })
  }

  stop(): Promise<void> {
    return this.api.stop()
  }

  #createAgentPod(podName: string, nodeName: string, hostIp: string): StoredObject {
    return this.api.createPod({
      namespace: this.namespace,
      name: podName,
      serviceAccountName: this.agentServiceAccount,
      nodeName,
      labels: { app: 'spire-agent' },
      status: { phase: 'Running', hostIP: hostIp },
    })
  }

  #remember(token: string): string {
    this.#tokens.push(token)
    return token
  }
}

function agentNodeOf(node: StoredObject, pod: StoredObject): AgentNode {
  return {
    nodeName: node.name,
    nodeUid: node.uid,
    podName: pod.name,
    podUid: pod.uid,
    hostIp: stringAt(pod.object, 'status', 'hostIP'),
    zone: stringAt(node.object, 'metadata', 'labels', 'topology.kubernetes.io/zone'),
  }
}

/** A string at `path` inside an API object; objects this module created always have them. */
function stringAt(object: unknown, ...path: string[]): string {
  let value: unknown = object
  for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key]
  if (typeof value !== 'string') throw new Error(`the API object has no string at ${path.join('.')}`)
  return value
}
