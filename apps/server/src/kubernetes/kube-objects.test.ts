import type { V1Node, V1Pod } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import {
  nodeInfo,
  podInfo,
  serviceAccountInfo,
  trimNode,
  trimPod,
  trimServiceAccount,
} from './kube-objects.ts'

const pod: V1Pod = {
  metadata: {
    name: 'spire-agent-x7k2p',
    namespace: 'spire',
    uid: 'pod-uid',
    labels: { app: 'spire-agent' },
    annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-07T00:00:00Z' },
    resourceVersion: '4242',
    managedFields: [{ manager: 'kubelet' }],
  },
  spec: {
    nodeName: 'node-a',
    serviceAccountName: 'spire-agent',
    containers: [{ name: 'agent', image: 'k8s-attest/agent:0.1.0', args: ['run'] }],
  },
  status: { hostIP: '10.0.0.7', phase: 'Running' },
}

describe('trimPod', () => {
  it('keeps what attestation reads and the resourceVersion, and drops the rest', () => {
    expect(trimPod(pod)).toStrictEqual({
      metadata: {
        name: 'spire-agent-x7k2p',
        namespace: 'spire',
        uid: 'pod-uid',
        labels: { app: 'spire-agent' },
        resourceVersion: '4242',
      },
      spec: { containers: [], nodeName: 'node-a', serviceAccountName: 'spire-agent' },
      status: { hostIP: '10.0.0.7' },
    })
  })

  it('reads the same PodInfo as the whole pod', () => {
    expect(podInfo(trimPod(pod))).toStrictEqual(podInfo(pod))
  })
})

describe('podInfo', () => {
  it('takes a deletion time as a listed pod has it (a Date) or a watched one (RFC 3339 text)', () => {
    const at = '2026-12-07T10:00:00Z'
    const listed = podInfo({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date(at) } })
    const watched = podInfo({
      ...pod,
      metadata: { ...pod.metadata, deletionTimestamp: at as unknown as Date },
    })
    expect(listed.deletionTimestamp).toEqual(new Date(at))
    expect(watched.deletionTimestamp).toEqual(new Date(at))
    expect(
      trimPod({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date(at) } }).metadata,
    ).toHaveProperty('deletionTimestamp')
    expect(podInfo(pod)).not.toHaveProperty('deletionTimestamp')
  })

  it('reads missing fields as empty rather than failing', () => {
    expect(podInfo({})).toStrictEqual({
      namespace: '',
      name: '',
      uid: '',
      nodeName: '',
      serviceAccountName: '',
      hostIp: '',
      labels: {},
    })
  })
})

describe('nodes and service accounts', () => {
  it('keep name, UID, labels (nodes) and the resourceVersion', () => {
    const node: V1Node = {
      metadata: {
        name: 'node-a',
        uid: 'node-uid',
        labels: { zone: 'a' },
        resourceVersion: '7',
        annotations: { x: 'y' },
      },
      status: { addresses: [{ type: 'InternalIP', address: '10.0.0.7' }] },
    }
    expect(trimNode(node)).toStrictEqual({
      metadata: { name: 'node-a', uid: 'node-uid', labels: { zone: 'a' }, resourceVersion: '7' },
    })
    expect(nodeInfo(trimNode(node))).toStrictEqual({ name: 'node-a', uid: 'node-uid', labels: { zone: 'a' } })
    const account = {
      metadata: {
        name: 'spire-agent',
        namespace: 'spire',
        uid: 'sa-uid',
        resourceVersion: '9',
        labels: { a: 'b' },
      },
    }
    expect(trimServiceAccount(account)).toStrictEqual({
      metadata: { name: 'spire-agent', namespace: 'spire', uid: 'sa-uid', resourceVersion: '9' },
    })
    expect(serviceAccountInfo(account)).toStrictEqual({
      namespace: 'spire',
      name: 'spire-agent',
      uid: 'sa-uid',
    })
  })
})
