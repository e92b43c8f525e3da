import {
  AttestError,
  checkClaimedAudiences,
  checkServiceAccountAllowed,
  checkServiceAccountUid,
  decodeServiceAccountTokenUnverified,
  formatServiceAccountName,
  interpretTokenReview,
  psatAgentId,
  psatSelectors,
} from '@k8s-attest/core'
import type { PsatClusterConfig } from '../config/server-config.ts'
import type { ClusterClient } from '../kubernetes/cluster-client.ts'
import type { AttestedAgent } from './attested-agent.ts'

/** Input of {@link attestPsat}. */
export interface PsatAttestationInput {
  /** The server's trust domain. */
  readonly trustDomain: string
  /** The cluster the agent named, as configured. */
  readonly cluster: PsatClusterConfig
  /** That cluster's API client. */
  readonly client: ClusterClient
  /** The projected service account token the agent sent. */
  readonly token: string
}

/**
 * k8s_psat node attestation, in SPIRE's order and with its stricter additions:
 *
 * 1. the token decodes as a service account token, and its own (unverified) `aud` claim names
 *    one of the cluster's audiences (garbage and tokens for another audience never cost a
 *    TokenReview; kube-apiserver would refuse the latter as merely "not authenticated");
 * 2. TokenReview with the cluster's audiences, then — all in core's `interpretTokenReview` —
 *    authenticated, `status.audiences` cross-checked, the username strictly
 *    `system:serviceaccount:<ns>:<sa>`, and the token bound to a pod;
 * 3. the service account UID the review confirmed equals the one the token claims;
 * 4. the service account is on the cluster's allow-list;
 * 5. the pod exists and its UID is the one the token is bound to (so a token outliving its
 *    pod, which kube-apiserver keeps accepting for 10 s from its review cache, is refused);
 * 6. the pod's node exists and has a UID;
 * 7. the agent ID (node UID, or pod UID when configured) and the selectors.
 *
 * Names and UIDs come from the review and the API objects, never from the unverified claims.
 *
 * @throws {AttestError} naming the failed check (`details.check`), the cluster and the
 *   offending value.
 */
export async function attestPsat(input: PsatAttestationInput): Promise<AttestedAgent> {
  const { trustDomain, cluster, client, token } = input
  const clusterName = cluster.name
  const claimed = decodeServiceAccountTokenUnverified(token)
  checkClaimedAudiences(claimed, cluster.audience, clusterName)
  const status = await client.reviewToken(token, cluster.audience)
  const reviewed = interpretTokenReview(status, {
    audiences: cluster.audience,
    requirePod: true,
    cluster: clusterName,
  })
  checkServiceAccountUid(reviewed, claimed, clusterName)
  checkServiceAccountAllowed(cluster.serviceAccountAllowList, reviewed.namespace, reviewed.name, clusterName)
  const serviceAccount = formatServiceAccountName(reviewed)

  // interpretTokenReview({ requirePod: true }) guarantees the pod reference.
  const boundPod = reviewed.pod
  if (boundPod === undefined) throw new Error('interpretTokenReview returned no pod despite requirePod')
  const pod = await client.getPod(reviewed.namespace, boundPod.name, { uid: boundPod.uid })
  if (pod === undefined) {
    throw new AttestError(
      'ATT_ERR_POD_NOT_FOUND',
      `pod "${reviewed.namespace}/${boundPod.name}" that the token is bound to does not exist in cluster "${clusterName}"`,
      { check: 'pod_exists', cluster: clusterName, value: `${reviewed.namespace}/${boundPod.name}` },
    )
  }
  if (pod.uid !== boundPod.uid) {
    throw new AttestError(
      'ATT_ERR_POD_UID_MISMATCH',
      `pod "${reviewed.namespace}/${boundPod.name}" in cluster "${clusterName}" has UID "${pod.uid}", but the token is bound to UID "${boundPod.uid}"`,
      { check: 'pod_uid', cluster: clusterName, value: pod.uid, expected: boundPod.uid },
    )
  }
  if (pod.nodeName === '') {
    throw new AttestError(
      'ATT_ERR_NODE_NOT_FOUND',
      `pod "${reviewed.namespace}/${pod.name}" in cluster "${clusterName}" is not scheduled to a node (spec.nodeName is empty)`,
      { check: 'pod_node_name', cluster: clusterName, value: `${reviewed.namespace}/${pod.name}` },
    )
  }
  const node = await client.getNode(pod.nodeName)
  if (node === undefined) {
    throw new AttestError(
      'ATT_ERR_NODE_NOT_FOUND',
      `node "${pod.nodeName}" of pod "${reviewed.namespace}/${pod.name}" does not exist in cluster "${clusterName}"`,
      { check: 'node_exists', cluster: clusterName, value: pod.nodeName },
    )
  }
  if (node.uid === '') {
    throw new AttestError(
      'ATT_ERR_NODE_UID_MISSING',
      `node "${pod.nodeName}" in cluster "${clusterName}" has no UID`,
      { check: 'node_uid', cluster: clusterName, value: pod.nodeName },
    )
  }

  const spiffeId = psatAgentId({
    trustDomain,
    cluster: clusterName,
    source: cluster.usePodUidForAgentId ? 'pod_uid' : 'node_uid',
    uid: cluster.usePodUidForAgentId ? pod.uid : node.uid,
  })
  const selectors = psatSelectors({
    cluster: clusterName,
    namespace: reviewed.namespace,
    serviceAccountName: reviewed.name,
    podName: pod.name,
    podUid: pod.uid,
    nodeName: pod.nodeName,
    nodeUid: node.uid,
    nodeIp: pod.hostIp,
    nodeLabels: node.labels,
    podLabels: pod.labels,
    allowedNodeLabelKeys: cluster.allowedNodeLabelKeys,
    allowedPodLabelKeys: cluster.allowedPodLabelKeys,
  })
  return {
    attestor: 'k8s_psat',
    cluster: clusterName,
    spiffeId,
    selectors,
    serviceAccount,
    ...(reviewed.credentialId === undefined ? {} : { credentialId: reviewed.credentialId }),
    reattestable: true,
  }
}
