import { beforeEach, describe, expect, it } from 'vitest'
import { createTestCluster, START, uidOf } from '../test/support/test-cluster.ts'
import type { Cluster } from './cluster.ts'
import type { JsonObject } from './json.ts'
import { namespaces } from './resources/namespaces.ts'
import { nodes } from './resources/nodes.ts'
import { pods } from './resources/pods.ts'
import { secrets } from './resources/secrets.ts'
import { serviceAccounts } from './resources/service-accounts.ts'
import { EXTENDED_EXPIRATION_SECONDS } from './token-claims.ts'
import { createTokenRequest } from './token-request.ts'

/** TokenRequest: the claim sets kube-apiserver v1.32 signs, its defaults, and its refusals. */

const write = { manager: 'test' }
const NOW = Math.floor(START / 1000)
const ISSUER = 'https://kubernetes.default.svc.cluster.local'
let cluster: Cluster

function request(spec: JsonObject, account = 'spire-agent') {
  return createTokenRequest(
    cluster,
    'spire',
    account,
    { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec },
    'test',
  )
}

function claims(token: string): JsonObject {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as JsonObject
}

function uids() {
  return {
    account: uidOf(cluster.registry.get(serviceAccounts, 'spire', 'spire-agent')),
    pod: uidOf(cluster.registry.get(pods, 'spire', 'agent-pod')),
    node: uidOf(cluster.registry.get(nodes, '', 'node-a')),
  }
}

function thrown(action: () => unknown): unknown {
  try {
    action()
  } catch (error) {
    return error
  }
  throw new Error('expected the call to throw')
}

beforeEach(() => {
  ;({ cluster } = createTestCluster())
  cluster.registry.create(namespaces, '', { metadata: { name: 'spire' } }, write)
  cluster.registry.create(serviceAccounts, 'spire', { metadata: { name: 'spire-agent' } }, write)
  cluster.registry.create(serviceAccounts, 'spire', { metadata: { name: 'other' } }, write)
  cluster.registry.create(nodes, '', { metadata: { name: 'node-a' } }, write)
  cluster.registry.create(
    pods,
    'spire',
    {
      metadata: { name: 'agent-pod' },
      spec: {
        nodeName: 'node-a',
        serviceAccountName: 'spire-agent',
        containers: [{ name: 'a', image: 'x:1' }],
      },
    },
    write,
  )
})

describe('TokenRequest issues', () => {
  it('a pod-bound token naming the pod, its node and the service account, nothing else', () => {
    const { token, response } = request({
      audiences: ['spire-server'],
      expirationSeconds: 600,
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'agent-pod' },
    })
    const ids = uids()
    const decoded = claims(token)
    expect(decoded).toEqual({
      aud: ['spire-server'],
      exp: NOW + 600,
      iat: NOW,
      iss: ISSUER,
      jti: decoded.jti,
      'kubernetes.io': {
        namespace: 'spire',
        node: { name: 'node-a', uid: ids.node },
        pod: { name: 'agent-pod', uid: ids.pod },
        serviceaccount: { name: 'spire-agent', uid: ids.account },
      },
      nbf: NOW,
      sub: 'system:serviceaccount:spire:spire-agent',
    })
    expect(decoded.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(response.status).toEqual({ token, expirationTimestamp: '2026-11-24T02:59:18Z' })
  })

  it('an unbound token for the API audiences and 3600 s by default', () => {
    const { token, response } = request({})
    expect(claims(token)).toMatchObject({ aud: [ISSUER], exp: NOW + 3600 })
    expect(claims(token)['kubernetes.io']).toEqual({
      namespace: 'spire',
      serviceaccount: { name: 'spire-agent', uid: uids().account },
    })
    expect(response.spec).toEqual({ audiences: [ISSUER], expirationSeconds: 3600, boundObjectRef: null })
  })

  it('a node-bound and a secret-bound token', () => {
    const node = claims(request({ boundObjectRef: { kind: 'Node', apiVersion: 'v1', name: 'node-a' } }).token)
    expect(node['kubernetes.io']).toMatchObject({ node: { name: 'node-a', uid: uids().node } })
    expect(node['kubernetes.io']).not.toHaveProperty('pod')
    const secret = cluster.registry.create(secrets, 'spire', { metadata: { name: 'binding' } }, write)
    const bound = claims(
      request({ boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 'binding' } }).token,
    )
    expect(bound['kubernetes.io']).toMatchObject({ secret: { name: 'binding', uid: uidOf(secret) } })
  })

  it("kubelet's 3607 s pod token for the API audiences: a year long, with warnafter", () => {
    const { token, expirationTimestamp } = request({
      expirationSeconds: 3607,
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'agent-pod' },
    })
    const decoded = claims(token)
    expect(decoded.exp).toBe(NOW + EXTENDED_EXPIRATION_SECONDS)
    expect((decoded['kubernetes.io'] as JsonObject).warnafter).toBe(NOW + 3607)
    expect(expirationTimestamp).toBe('2026-11-24T03:49:25Z')
  })

  it('no warnafter for other audiences, other lifetimes, or unbound tokens', () => {
    const bound = { kind: 'Pod', apiVersion: 'v1', name: 'agent-pod' }
    for (const spec of [
      { audiences: ['spire-server'], expirationSeconds: 3607, boundObjectRef: bound },
      { expirationSeconds: 3600, boundObjectRef: bound },
      { expirationSeconds: 3607 },
    ]) {
      expect(claims(request(spec).token)['kubernetes.io']).not.toHaveProperty('warnafter')
    }
  })

  it('lifetimes capped by maxTokenExpirationSeconds', () => {
    ;({ cluster } = createTestCluster({ maxTokenExpirationSeconds: 1200 }))
    cluster.registry.create(namespaces, '', { metadata: { name: 'spire' } }, write)
    cluster.registry.create(serviceAccounts, 'spire', { metadata: { name: 'spire-agent' } }, write)
    const { token, response } = request({ expirationSeconds: 7200 })
    expect(claims(token).exp).toBe(NOW + 1200)
    expect((response.spec as JsonObject).expirationSeconds).toBe(1200)
  })
})

describe('TokenRequest refuses', () => {
  it('a lifetime below 600 s with 422', () => {
    expect(thrown(() => request({ expirationSeconds: 60 }))).toMatchObject({
      code: 'ATT_ERR_KUBE_TEST_INVALID',
      httpStatus: 422,
      message:
        'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
    })
  })

  it('a lifetime above 2^32 s with 422', () => {
    expect(thrown(() => request({ expirationSeconds: 2 ** 32 + 1 }))).toMatchObject({
      code: 'ATT_ERR_KUBE_TEST_INVALID',
      message: expect.stringContaining('may not specify a duration larger than 2^32 seconds'),
    })
  })

  it('a bound object with another UID with 409', () => {
    const ref = {
      kind: 'Pod',
      apiVersion: 'v1',
      name: 'agent-pod',
      uid: '00000000-0000-0000-0000-000000000000',
    }
    expect(thrown(() => request({ boundObjectRef: ref }))).toMatchObject({
      code: 'ATT_ERR_KUBE_TEST_CONFLICT',
      message:
        'Operation cannot be fulfilled on Pod "agent-pod": the UID in the bound object reference (00000000-0000-0000-0000-000000000000) does not match the UID in record. The object might have been deleted and then recreated',
      details: { name: 'agent-pod', group: '', kind: 'Pod' },
    })
  })

  it('a missing service account or bound object with 404', () => {
    expect(thrown(() => request({}, 'nobody'))).toMatchObject({
      code: 'ATT_ERR_KUBE_TEST_NOT_FOUND',
      message: 'serviceaccounts "nobody" not found',
    })
    expect(
      thrown(() => request({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'gone' } })),
    ).toMatchObject({
      code: 'ATT_ERR_KUBE_TEST_NOT_FOUND',
      message: 'pods "gone" not found',
    })
  })

  it('binding to a pod that runs as another service account, and to other kinds, with 400', () => {
    expect(
      thrown(() =>
        request({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'agent-pod' } }, 'other'),
      ),
    ).toMatchObject({
      code: 'ATT_ERR_KUBE_TEST_BAD_REQUEST',
      message:
        'cannot bind token for serviceaccount "other" to pod running with different serviceaccount name.',
    })
    expect(
      thrown(() => request({ boundObjectRef: { kind: 'ConfigMap', apiVersion: 'v1', name: 'x' } })),
    ).toMatchObject({
      code: 'ATT_ERR_KUBE_TEST_BAD_REQUEST',
      message: 'cannot bind token to object of type /v1, Kind=ConfigMap',
    })
  })

  it('a body naming another service account with 422', () => {
    const error = thrown(() =>
      createTokenRequest(cluster, 'spire', 'spire-agent', { metadata: { name: 'other' }, spec: {} }, 'test'),
    )
    expect(error).toMatchObject({
      code: 'ATT_ERR_KUBE_TEST_INVALID',
      message:
        'TokenRequest.authentication.k8s.io "spire-agent" is invalid: metadata.name: Invalid value: "other": must match the service account name if specified',
    })
  })
})
