import type { V1Node, V1Pod, V1ServiceAccount } from '@kubernetes/client-node'
import type { NodeInfo, PodInfo, ServiceAccountInfo } from './cluster-client.ts'

/*
 * What the server keeps and reads of the Kubernetes objects attestation looks at: the trimmed
 * copy an informer holds (the fields read below and the resourceVersion, nothing else, so a
 * cache of every node and agent pod stays small), and the ClusterClient view of each.
 */

/** What a pod informer keeps: the fields {@link podInfo} reads, and the resourceVersion. */
export function trimPod(pod: V1Pod): V1Pod {
  const metadata = pod.metadata ?? {}
  return {
    metadata: {
      name: metadata.name ?? '',
      namespace: metadata.namespace ?? '',
      uid: metadata.uid ?? '',
      labels: metadata.labels ?? {},
      resourceVersion: metadata.resourceVersion ?? '',
      ...(metadata.deletionTimestamp === undefined ? {} : { deletionTimestamp: metadata.deletionTimestamp }),
    },
    spec: {
      containers: [],
      nodeName: pod.spec?.nodeName ?? '',
      serviceAccountName: pod.spec?.serviceAccountName ?? '',
    },
    status: { hostIP: pod.status?.hostIP ?? '' },
  }
}

/** What a node informer keeps. */
export function trimNode(node: V1Node): V1Node {
  const metadata = node.metadata ?? {}
  return {
    metadata: {
      name: metadata.name ?? '',
      uid: metadata.uid ?? '',
      labels: metadata.labels ?? {},
      resourceVersion: metadata.resourceVersion ?? '',
    },
  }
}

export function podInfo(pod: V1Pod): PodInfo {
  // The API server's RFC 3339 text: lists, GETs and watches hand objects over untyped (client-node's
  // model declares a Date, which a caller building a V1Pod may pass).
  const deletion = pod.metadata?.deletionTimestamp as Date | string | undefined
  return {
    ...(deletion === undefined || deletion === null ? {} : { deletionTimestamp: new Date(deletion) }),
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    nodeName: pod.spec?.nodeName ?? '',
    serviceAccountName: pod.spec?.serviceAccountName ?? '',
    hostIp: pod.status?.hostIP ?? '',
    labels: pod.metadata?.labels ?? {},
  }
}

/** What a service account informer keeps. */
export function trimServiceAccount(account: V1ServiceAccount): V1ServiceAccount {
  const metadata = account.metadata ?? {}
  return {
    metadata: {
      name: metadata.name ?? '',
      namespace: metadata.namespace ?? '',
      uid: metadata.uid ?? '',
      resourceVersion: metadata.resourceVersion ?? '',
    },
  }
}

export function serviceAccountInfo(account: V1ServiceAccount): ServiceAccountInfo {
  return {
    namespace: account.metadata?.namespace ?? '',
    name: account.metadata?.name ?? '',
    uid: account.metadata?.uid ?? '',
  }
}

export function nodeInfo(node: V1Node): NodeInfo {
  return {
    name: node.metadata?.name ?? '',
    uid: node.metadata?.uid ?? '',
    labels: node.metadata?.labels ?? {},
  }
}
