import {
  AttestError,
  checkClaimedAudiences,
  checkServiceAccountAllowed,
  checkServiceAccountUid,
  type DecodedServiceAccountToken,
  decodeServiceAccountTokenUnverified,
  formatServiceAccountName,
  interpretTokenReview,
  type KubernetesObjectRef,
  psatAgentId,
  psatSelectors,
} from '@k8s-attest/core'
import type { PsatClusterConfig } from '../config/server-config.ts'
import type { ClusterClient } from '../kubernetes/cluster-client.ts'
import type { AttestedAgent } from './attested-agent.ts'
import type { PsatJwksVerifier } from './psat-jwks-verifier.ts'

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
  /**
   * The cluster's local verifier when it is in JWKS mode (`token_verification = "jwks"`);
   * `undefined` asks TokenReview.
   */
  readonly jwks?: PsatJwksVerifier
  /** The clock, for a terminating pod in JWKS mode. Default `() => new Date()`. */
  readonly now?: () => Date
}

/**
 * How long after a pod's `deletionTimestamp` its tokens stop authenticating: kube-apiserver's
 * service account authenticator refuses them from then on ("service account token has been
 * invalidated"), and JWKS mode does the same.
 */
export const TERMINATING_POD_GRACE_MS = 60_000

/** What a verified token proves: its service account, the pod it is bound to, and its ID. */
interface VerifiedToken {
  readonly namespace: string
  readonly name: string
  readonly pod: KubernetesObjectRef
  /** The node the token names (Kubernetes ≥ 1.30), checked against the pod's node. */
  readonly node?: KubernetesObjectRef
  readonly credentialId?: string
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
 * In JWKS mode ({@link PsatAttestationInput.jwks}), step 2 verifies the token locally instead
 * (signature, issuer, audience, expiry, not-before), after which its claims are trusted, and
 * step 3 asks the service account cache: the service account exists and has the UID the token
 * names (what TokenReview would have checked). A pod whose `deletionTimestamp` passed more than
 * 60 s ago is refused, as kube-apiserver does. A token naming a node must name the pod's node,
 * with its current UID.
 *
 * @throws {AttestError} naming the failed check (`details.check`), the cluster and the
 *   offending value.
 */
export async function attestPsat(input: PsatAttestationInput): Promise<AttestedAgent> {
  const { trustDomain, cluster, client, token } = input
  const clusterName = cluster.name
  const claimed = decodeServiceAccountTokenUnverified(token)
  checkClaimedAudiences(claimed, cluster.audience, clusterName)
  const verified =
    input.jwks === undefined
      ? await reviewedToken(input, claimed)
      : await locallyVerifiedToken(input, input.jwks, claimed)
  const serviceAccount = formatServiceAccountName(verified)
  const boundPod = verified.pod
  const pod = await client.getPod(verified.namespace, boundPod.name, { uid: boundPod.uid })
  if (pod === undefined) {
    throw new AttestError(
      'ATT_ERR_POD_NOT_FOUND',
      `pod "${verified.namespace}/${boundPod.name}" that the token is bound to does not exist in cluster "${clusterName}"`,
      { check: 'pod_exists', cluster: clusterName, value: `${verified.namespace}/${boundPod.name}` },
    )
  }
  if (pod.uid !== boundPod.uid) {
    throw new AttestError(
      'ATT_ERR_POD_UID_MISMATCH',
      `pod "${verified.namespace}/${boundPod.name}" in cluster "${clusterName}" has UID "${pod.uid}", but the token is bound to UID "${boundPod.uid}"`,
      { check: 'pod_uid', cluster: clusterName, value: pod.uid, expected: boundPod.uid },
    )
  }
  if (
    input.jwks !== undefined &&
    pod.deletionTimestamp !== undefined &&
    pod.deletionTimestamp.getTime() < (input.now ?? (() => new Date()))().getTime() - TERMINATING_POD_GRACE_MS
  ) {
    throw new AttestError(
      'ATT_ERR_POD_NOT_FOUND',
      `pod "${verified.namespace}/${pod.name}" in cluster "${clusterName}" is being deleted (deletionTimestamp ${pod.deletionTimestamp.toISOString()}, more than 60 s ago): its tokens are invalidated`,
      {
        check: 'pod_terminating',
        cluster: clusterName,
        value: pod.deletionTimestamp.toISOString(),
        expected: `no deletionTimestamp, or one within the last 60 s`,
      },
    )
  }
  if (pod.nodeName === '') {
    throw new AttestError(
      'ATT_ERR_NODE_NOT_FOUND',
      `pod "${verified.namespace}/${pod.name}" in cluster "${clusterName}" is not scheduled to a node (spec.nodeName is empty)`,
      { check: 'pod_node_name', cluster: clusterName, value: `${verified.namespace}/${pod.name}` },
    )
  }
  // A token naming this node (Kubernetes ≥ 1.30) names its UID too: a cache holding another
  // (the node re-registered moments ago) asks the API server rather than refuse.
  const boundNodeUid = verified.node?.name === pod.nodeName ? verified.node.uid : undefined
  const node = await client.getNode(pod.nodeName, boundNodeUid === undefined ? {} : { uid: boundNodeUid })
  if (node === undefined) {
    throw new AttestError(
      'ATT_ERR_NODE_NOT_FOUND',
      `node "${pod.nodeName}" of pod "${verified.namespace}/${pod.name}" does not exist in cluster "${clusterName}"`,
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
  if (verified.node !== undefined && (verified.node.name !== node.name || verified.node.uid !== node.uid)) {
    throw new AttestError(
      'ATT_ERR_NODE_NOT_FOUND',
      `the token is bound to node "${verified.node.name}" with UID "${verified.node.uid}", but pod "${verified.namespace}/${pod.name}" in cluster "${clusterName}" runs on node "${node.name}" with UID "${node.uid}"`,
      {
        check: 'node_binding',
        cluster: clusterName,
        value: `${node.name}/${node.uid}`,
        expected: `${verified.node.name}/${verified.node.uid}`,
      },
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
    namespace: verified.namespace,
    serviceAccountName: verified.name,
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
    ...(verified.credentialId === undefined ? {} : { credentialId: verified.credentialId }),
    reattestable: true,
  }
}

/**
 * TokenReview mode: the API server verifies the token; then — all in core's
 * `interpretTokenReview` — authenticated, `status.audiences` cross-checked, the username strictly
 * `system:serviceaccount:<ns>:<sa>`, and the token bound to a pod; the UID the review confirmed is
 * the one the token claims; the service account is allow-listed.
 */
async function reviewedToken(
  input: PsatAttestationInput,
  claimed: DecodedServiceAccountToken,
): Promise<VerifiedToken> {
  const { cluster, client, token } = input
  const status = await client.reviewToken(token, cluster.audience)
  const reviewed = interpretTokenReview(status, {
    audiences: cluster.audience,
    requirePod: true,
    cluster: cluster.name,
  })
  checkServiceAccountUid(reviewed, claimed, cluster.name)
  checkServiceAccountAllowed(cluster.serviceAccountAllowList, reviewed.namespace, reviewed.name, cluster.name)
  // interpretTokenReview({ requirePod: true }) guarantees the pod reference.
  const pod = reviewed.pod
  if (pod === undefined) throw new Error('interpretTokenReview returned no pod despite requirePod')
  return {
    namespace: reviewed.namespace,
    name: reviewed.name,
    pod,
    ...(reviewed.credentialId === undefined ? {} : { credentialId: reviewed.credentialId }),
  }
}

/**
 * JWKS mode: the token is verified with the issuer's keys, so its claims are trusted from here;
 * it must be a projected token bound to a pod, of an allow-listed service account that still
 * exists with the UID the token names (kube-apiserver refuses a token whose service account was
 * deleted or recreated; here the informer cache stands in for it).
 */
async function locallyVerifiedToken(
  input: PsatAttestationInput,
  verifier: PsatJwksVerifier,
  claimed: DecodedServiceAccountToken,
): Promise<VerifiedToken> {
  const { cluster, client, token } = input
  const clusterName = cluster.name
  await verifier.verify(token, claimed.header.kid)
  const { namespace, name, uid } = claimed.serviceAccount
  const qualifiedName = `${namespace}:${name}`
  if (claimed.kind !== 'projected' || claimed.pod === undefined) {
    throw new AttestError(
      'ATT_ERR_TOKEN_INVALID',
      `the token of service account "${qualifiedName}" in cluster "${clusterName}" is not bound to a pod; k8s_psat needs a projected token of the agent's pod`,
      { check: 'pod_binding', cluster: clusterName, value: qualifiedName },
    )
  }
  checkServiceAccountAllowed(cluster.serviceAccountAllowList, namespace, name, clusterName)
  const account = await client.getServiceAccount(namespace, name, uid === undefined ? {} : { uid })
  if (account === undefined) {
    throw new AttestError(
      'ATT_ERR_TOKEN_NOT_AUTHENTICATED',
      `service account "${qualifiedName}" of the token does not exist in cluster "${clusterName}"`,
      { check: 'service_account_exists', cluster: clusterName, value: qualifiedName },
    )
  }
  if (account.uid !== uid) {
    throw new AttestError(
      'ATT_ERR_SA_UID_MISMATCH',
      `service account "${qualifiedName}" in cluster "${clusterName}" has UID "${account.uid}", but the token names UID "${uid ?? ''}" (the service account was deleted, or recreated)`,
      { check: 'service_account_uid', cluster: clusterName, value: uid ?? '', expected: account.uid },
    )
  }
  const jti = claimed.claims.jti
  return {
    namespace,
    name,
    pod: claimed.pod,
    ...(claimed.node === undefined ? {} : { node: claimed.node }),
    // The form TokenReview reports it in (`authentication.kubernetes.io/credential-id`).
    ...(jti === undefined ? {} : { credentialId: `JTI=${jti}` }),
  }
}
