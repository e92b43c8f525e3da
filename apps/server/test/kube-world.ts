import { randomUUID } from 'node:crypto'
import {
  type JsonObject,
  type KubeTestApi,
  type KubeTestApiOptions,
  startKubeTestApi,
} from '@k8s-attest/kube-test-api'

const RBAC = 'rbac.authorization.k8s.io'
/** The server's own service account, as deploy/base names it. */
const SERVER_SUBJECT = { kind: 'ServiceAccount', name: 'spire-server', namespace: 'spire' }

/** An agent pod on its own node, with a projected token bound to it. */
export interface AgentPod {
  readonly podName: string
  readonly podUid: string
  readonly nodeName: string
  readonly nodeUid: string
  /** A pod-bound projected token for the requested audiences. */
  readonly token: string
}

/** Options of {@link KubeWorld.newAgentPod}. */
export interface AgentPodOptions {
  /** Token audiences. Default `["spire-server"]`. */
  readonly audiences?: readonly string[]
  readonly nodeLabels?: Readonly<Record<string, string>>
  readonly podLabels?: Readonly<Record<string, string>>
  /** Service account; default `spire-agent` (created in `spire`). */
  readonly serviceAccount?: string
}

/**
 * A Kubernetes test API with namespace `spire` and service account `spire-agent`, and a
 * helper to put a fresh agent pod on a fresh node (so every test gets its own agent ID).
 */
export class KubeWorld {
  readonly api: KubeTestApi
  readonly kubeconfigPath: string

  private constructor(api: KubeTestApi, kubeconfigPath: string) {
    this.api = api
    this.kubeconfigPath = kubeconfigPath
  }

  static async start(options: KubeTestApiOptions = {}): Promise<KubeWorld> {
    const api = await startKubeTestApi(options)
    api.createNamespace('spire')
    api.createServiceAccount('spire', 'spire-agent')
    api.createServiceAccount('spire', 'intruder')
    return new KubeWorld(api, await api.writeKubeconfig())
  }

  newAgentPod(options: AgentPodOptions = {}): AgentPod {
    const suffix = randomUUID().slice(0, 8)
    const nodeName = `node-${suffix}`
    const node = this.api.createNode(nodeName, { labels: options.nodeLabels ?? {} })
    const podName = `agent-${suffix}`
    const pod = this.api.createPod({
      namespace: 'spire',
      name: podName,
      serviceAccountName: options.serviceAccount ?? 'spire-agent',
      nodeName,
      labels: options.podLabels ?? {},
      status: { hostIP: '10.0.0.7' },
    })
    const { token } = this.api.requestToken({
      namespace: 'spire',
      serviceAccount: options.serviceAccount ?? 'spire-agent',
      audiences: [...(options.audiences ?? ['spire-server'])],
      boundObject: { kind: 'Pod', name: podName, uid: pod.uid },
    })
    return { podName, podUid: pod.uid, nodeName, nodeUid: node.uid, token }
  }

  /** A new token for an existing agent pod (agents re-read theirs on every attestation). */
  tokenFor(
    agent: Pick<AgentPod, 'podName' | 'podUid'>,
    audiences: readonly string[] = ['spire-server'],
  ): string {
    return this.api.requestToken({
      namespace: 'spire',
      serviceAccount: 'spire-agent',
      audiences: [...audiences],
      boundObject: { kind: 'Pod', name: agent.podName, uid: agent.podUid },
    }).token
  }

  /**
   * A kubeconfig that authenticates as the server's own service account, `spire:spire-server`
   * (created here), which holds no RBAC until {@link grantServer}.
   */
  async serverKubeconfig(): Promise<string> {
    this.api.createServiceAccount('spire', 'spire-server')
    const { token } = this.api.requestToken({
      namespace: 'spire',
      serviceAccount: 'spire-server',
      expirationSeconds: 3600,
    })
    return this.api.writeKubeconfig({ identity: { name: 'system:serviceaccount:spire:spire-server', token } })
  }

  /**
   * Grants `spire:spire-server` the `rules`, as deploy/ does: a Role and a RoleBinding, both
   * named `name`, in `namespace`; without one a ClusterRole and a ClusterRoleBinding.
   */
  grantServer(name: string, rules: readonly JsonObject[], namespace?: string): void {
    const [role, binding] =
      namespace === undefined ? ['ClusterRole', 'ClusterRoleBinding'] : ['Role', 'RoleBinding']
    const resource = (kind: string) => `${kind.toLowerCase()}s.${RBAC}`
    this.api.createObject(
      resource(role),
      { apiVersion: `${RBAC}/v1`, kind: role, metadata: { name }, rules: [...rules] },
      namespace,
    )
    this.api.createObject(
      resource(binding),
      {
        apiVersion: `${RBAC}/v1`,
        kind: binding,
        metadata: { name },
        roleRef: { apiGroup: RBAC, kind: role, name },
        subjects: [SERVER_SUBJECT],
      },
      namespace,
    )
  }

  async stop(): Promise<void> {
    await this.api.stop()
  }
}
