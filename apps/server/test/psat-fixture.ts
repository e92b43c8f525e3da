import { randomUUID } from 'node:crypto'
import type { NodeInfo, PodInfo, RawTokenReviewStatus } from '../src/kubernetes/cluster-client.ts'
import { FakeClusterClient } from './fake-cluster-client.ts'
import { unsignedToken } from './tokens.ts'

/** One agent pod on one node, as a projected token, its review, and the API objects describe it. */
export interface PsatScenario {
  readonly token: string
  readonly review: RawTokenReviewStatus
  readonly pod: PodInfo
  readonly node: NodeInfo
  readonly serviceAccountUid: string
  readonly client: FakeClusterClient
}

/**
 * A consistent k8s_psat world in a {@link FakeClusterClient}: service account `spire:spire-agent`,
 * pod `spire/agent-1` on node `node-a`, a pod-bound token for audience `spire-server`, and the
 * review kube-apiserver would return for it (shape recorded from v1.32).
 */
export function psatScenario(): PsatScenario {
  const serviceAccountUid = randomUUID()
  const pod: PodInfo = {
    namespace: 'spire',
    name: 'agent-1',
    uid: randomUUID(),
    nodeName: 'node-a',
    serviceAccountName: 'spire-agent',
    hostIp: '10.0.0.7',
    labels: { app: 'spire-agent', tier: 'infra' },
  }
  const node: NodeInfo = {
    name: 'node-a',
    uid: randomUUID(),
    labels: { 'topology.kubernetes.io/zone': 'eu-1a', role: 'worker' },
  }
  const now = Math.floor(Date.now() / 1000)
  const jti = randomUUID()
  const token = unsignedToken({
    aud: ['spire-server'],
    exp: now + 3600,
    iat: now,
    nbf: now,
    iss: 'https://kubernetes.default.svc.cluster.local',
    jti,
    'kubernetes.io': {
      namespace: 'spire',
      node: { name: node.name, uid: node.uid },
      pod: { name: pod.name, uid: pod.uid },
      serviceaccount: { name: 'spire-agent', uid: serviceAccountUid },
    },
    sub: 'system:serviceaccount:spire:spire-agent',
  })
  const review: RawTokenReviewStatus = {
    authenticated: true,
    audiences: ['spire-server'],
    user: {
      username: 'system:serviceaccount:spire:spire-agent',
      uid: serviceAccountUid,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:spire', 'system:authenticated'],
      extra: {
        'authentication.kubernetes.io/pod-name': [pod.name],
        'authentication.kubernetes.io/pod-uid': [pod.uid],
        'authentication.kubernetes.io/node-name': [node.name],
        'authentication.kubernetes.io/node-uid': [node.uid],
        'authentication.kubernetes.io/credential-id': [`JTI=${jti}`],
      },
    },
  }
  const client = new FakeClusterClient()
  client.reviews.set(token, review)
  client.pods.set(`${pod.namespace}/${pod.name}`, pod)
  client.nodes.set(node.name, node)
  return { token, review, pod, node, serviceAccountUid, client }
}
