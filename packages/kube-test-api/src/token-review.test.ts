import { beforeEach, describe, expect, it } from 'vitest'
import { createTestCluster, sharedSigningKey, uidOf } from '../test/support/test-cluster.ts'
import type { ManualClock } from './clock.ts'
import type { Cluster } from './cluster.ts'
import type { JsonObject } from './json.ts'
import { signJwt } from './jwt.ts'
import { namespaces } from './resources/namespaces.ts'
import { nodes } from './resources/nodes.ts'
import { pods } from './resources/pods.ts'
import { SERVICE_ACCOUNT_TOKEN_TYPE, secrets } from './resources/secrets.ts'
import { serviceAccounts } from './resources/service-accounts.ts'
import { generateSigningKey } from './signing-key.ts'
import { isKubeStatusError } from './status.ts'
import { legacyTokenClaims } from './token-claims.ts'
import { createTokenRequest } from './token-request.ts'
import { createTokenReview } from './token-review.ts'

/**
 * One test per reason kube-apiserver's TokenReview answers unauthenticated,
 * with its exact `status.error`, plus the accepted shapes.
 */

const write = { manager: 'test' }
let cluster: Cluster
let clock: ManualClock

function review(token: string, audiences?: string[]): JsonObject {
  const spec: JsonObject = { token }
  if (audiences !== undefined) spec.audiences = audiences
  return createTokenReview(cluster, { spec }, 'test').status as JsonObject
}

function refusal(token: string, audiences?: string[]): string {
  const status = review(token, audiences)
  expect(Object.keys(status)).toEqual(['user', 'error'])
  expect(status.user).toEqual({})
  return String(status.error)
}

function issue(spec: JsonObject, account = 'spire-agent'): string {
  return createTokenRequest(cluster, 'spire', account, { spec }, 'test').token
}

function podToken(pod = 'agent-pod'): string {
  return issue({
    audiences: ['spire-server'],
    expirationSeconds: 600,
    boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod },
  })
}

function createPod(name = 'agent-pod'): JsonObject {
  return cluster.registry.create(
    pods,
    'spire',
    {
      metadata: { name },
      spec: {
        nodeName: 'node-a',
        serviceAccountName: 'spire-agent',
        containers: [{ name: 'a', image: 'x:1' }],
      },
    },
    write,
  )
}

function claimsOf(token: string): JsonObject {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as JsonObject
}

beforeEach(() => {
  ;({ cluster, clock } = createTestCluster())
  cluster.registry.create(namespaces, '', { metadata: { name: 'spire' } }, write)
  cluster.registry.create(serviceAccounts, 'spire', { metadata: { name: 'spire-agent' } }, write)
  cluster.registry.create(nodes, '', { metadata: { name: 'node-a' } }, write)
  createPod()
})

describe('TokenReview accepts', () => {
  it('a pod-bound token: user, groups, extras and the audiences it was accepted for', () => {
    const token = podToken()
    const status = review(token, ['other', 'spire-server'])
    const pod = cluster.registry.get(pods, 'spire', 'agent-pod')
    const node = cluster.registry.get(nodes, '', 'node-a')
    const account = cluster.registry.get(serviceAccounts, 'spire', 'spire-agent')
    expect(status).toEqual({
      authenticated: true,
      user: {
        username: 'system:serviceaccount:spire:spire-agent',
        uid: uidOf(account),
        groups: ['system:serviceaccounts', 'system:serviceaccounts:spire', 'system:authenticated'],
        extra: {
          'authentication.kubernetes.io/credential-id': [`JTI=${claimsOf(token).jti}`],
          'authentication.kubernetes.io/node-name': ['node-a'],
          'authentication.kubernetes.io/node-uid': [uidOf(node)],
          'authentication.kubernetes.io/pod-name': ['agent-pod'],
          'authentication.kubernetes.io/pod-uid': [uidOf(pod)],
        },
      },
      audiences: ['spire-server'],
    })
  })

  it('a token of the API audiences when spec.audiences is empty', () => {
    const status = review(issue({}))
    expect(status.authenticated).toBe(true)
    expect(status.audiences).toEqual(['https://kubernetes.default.svc.cluster.local'])
  })

  it('tokens of a cluster that signs with ES256', () => {
    ;({ cluster, clock } = createTestCluster({ signingKey: sharedSigningKey('ES256') }))
    cluster.registry.create(namespaces, '', { metadata: { name: 'spire' } }, write)
    cluster.registry.create(serviceAccounts, 'spire', { metadata: { name: 'spire-agent' } }, write)
    const token = issue({ audiences: ['spire-server'] })
    expect(JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()).alg).toBe('ES256')
    expect(review(token, ['spire-server']).authenticated).toBe(true)
  })

  it('a pod-bound token within 60 s of the pod starting to terminate', () => {
    const token = podToken()
    cluster.registry.delete(pods, 'spire', 'agent-pod', { ...write, gracePeriodSeconds: 30 })
    clock.advance(89_000) // deletionTimestamp is now + 30 s; 30 s + 59 s later it is 59 s past
    cluster.authenticator.clearCache()
    expect(review(token, ['spire-server']).authenticated).toBe(true)
  })
})

describe('TokenReview refuses', () => {
  it('a token that is not a JWT', () => {
    expect(refusal('not-a-jwt')).toBe('invalid bearer token')
  })

  it('three parts that are not base64url JSON', () => {
    expect(refusal('aaa.bbb.ccc')).toBe('invalid bearer token')
  })

  it('a token from another issuer', () => {
    const claims = { ...claimsOf(podToken()), iss: 'https://other-issuer.example' }
    expect(refusal(signJwt(claims, cluster.settings.signingKey), ['spire-server'])).toBe(
      'invalid bearer token',
    )
  })

  it('a token whose claims were changed after signing', () => {
    const [header, , signature] = podToken().split('.')
    const forged = Buffer.from(
      JSON.stringify({ ...claimsOf(podToken()), sub: 'system:serviceaccount:spire:admin' }),
    )
    expect(refusal(`${header}.${forged.toString('base64url')}.${signature}`, ['spire-server'])).toBe(
      '[invalid bearer token, square/go-jose: error in cryptographic primitive]',
    )
  })

  it('a token with a flipped signature bit', () => {
    const [header, payload, signature = ''] = podToken().split('.')
    const bytes = Buffer.from(signature, 'base64url')
    bytes[0] = (bytes[0] as number) ^ 1
    expect(refusal(`${header}.${payload}.${bytes.toString('base64url')}`, ['spire-server'])).toBe(
      '[invalid bearer token, square/go-jose: error in cryptographic primitive]',
    )
  })

  it('a token signed by an unrelated key with the cluster key ID', () => {
    const foreign = { ...generateSigningKey('RS256'), keyId: cluster.settings.signingKey.keyId }
    expect(refusal(signJwt(claimsOf(podToken()), foreign), ['spire-server'])).toBe(
      '[invalid bearer token, square/go-jose: error in cryptographic primitive]',
    )
  })

  it('a token signed with another algorithm than the cluster key', () => {
    const token = signJwt(claimsOf(podToken()), sharedSigningKey('ES256'))
    expect(refusal(token, ['spire-server'])).toBe(
      '[invalid bearer token, square/go-jose: error in cryptographic primitive]',
    )
  })

  it('an expired token, once past the 60 s leeway', () => {
    const token = podToken()
    clock.advance(600_000 + 60_000)
    expect(review(token, ['spire-server']).authenticated).toBe(true)
    // As in kube-apiserver, a remembered success is not cut short by the token's expiry.
    cluster.authenticator.clearCache()
    clock.advance(1000)
    expect(refusal(token, ['spire-server'])).toBe('[invalid bearer token, service account token has expired]')
  })

  it('a token not valid yet', () => {
    const claims = { ...claimsOf(podToken()), nbf: Math.floor(clock.now() / 1000) + 120 }
    expect(refusal(signJwt(claims, cluster.settings.signingKey), ['spire-server'])).toBe(
      '[invalid bearer token, service account token is not valid yet]',
    )
  })

  it('a token issued in the future', () => {
    const claims = { ...claimsOf(podToken()), iat: Math.floor(clock.now() / 1000) + 120 }
    expect(refusal(signJwt(claims, cluster.settings.signingKey), ['spire-server'])).toBe(
      '[invalid bearer token, service account token is issued in the future]',
    )
  })

  it('a token for other audiences than the requested ones', () => {
    expect(refusal(podToken(), ['other-audience', 'third'])).toBe(
      '[invalid bearer token, token audiences ["spire-server"] is invalid for the target audiences ["other-audience" "third"]]',
    )
  })

  it('a token for other audiences than the API audiences when none are requested', () => {
    expect(refusal(podToken())).toBe(
      '[invalid bearer token, token audiences ["spire-server"] is invalid for the target audiences ["https://kubernetes.default.svc.cluster.local"]]',
    )
  })

  it('a registered claim of the wrong type', () => {
    const claims = { ...claimsOf(podToken()), exp: 'tomorrow' }
    expect(refusal(signJwt(claims, cluster.settings.signingKey), ['spire-server'])).toBe(
      '[invalid bearer token, json: cannot unmarshal string into Go struct field Claims.exp of type jwt.NumericDate]',
    )
  })

  it('a token whose service account was deleted', () => {
    const token = podToken()
    cluster.registry.delete(serviceAccounts, 'spire', 'spire-agent', write)
    expect(refusal(token, ['spire-server'])).toBe(
      '[invalid bearer token, serviceaccounts "spire-agent" not found]',
    )
  })

  it('a token whose service account was recreated', () => {
    const token = podToken()
    const old = uidOf(cluster.registry.get(serviceAccounts, 'spire', 'spire-agent'))
    cluster.registry.delete(serviceAccounts, 'spire', 'spire-agent', write)
    const recreated = cluster.registry.create(
      serviceAccounts,
      'spire',
      { metadata: { name: 'spire-agent' } },
      write,
    )
    expect(refusal(token, ['spire-server'])).toBe(
      `[invalid bearer token, service account UID (${uidOf(recreated)}) does not match claim (${old})]`,
    )
  })

  it('a token whose pod was deleted', () => {
    const token = podToken()
    cluster.registry.delete(pods, 'spire', 'agent-pod', { ...write, gracePeriodSeconds: 0 })
    expect(refusal(token, ['spire-server'])).toBe(
      '[invalid bearer token, service account token has been invalidated]',
    )
  })

  it('a token whose pod has been terminating for more than 60 s', () => {
    const token = podToken()
    cluster.registry.delete(pods, 'spire', 'agent-pod', { ...write, gracePeriodSeconds: 1 })
    clock.advance(62_000)
    expect(refusal(token, ['spire-server'])).toBe(
      '[invalid bearer token, service account token has been invalidated]',
    )
  })

  it('a token whose pod was recreated under the same name', () => {
    const token = podToken()
    const old = uidOf(cluster.registry.get(pods, 'spire', 'agent-pod'))
    cluster.registry.delete(pods, 'spire', 'agent-pod', { ...write, gracePeriodSeconds: 0 })
    const recreated = createPod()
    expect(refusal(token, ['spire-server'])).toBe(
      `[invalid bearer token, pod UID (${uidOf(recreated)}) does not match service account pod ref claim (${old})]`,
    )
  })

  it('a node-bound token whose node was deleted', () => {
    const token = issue({
      audiences: ['spire-server'],
      boundObjectRef: { kind: 'Node', apiVersion: 'v1', name: 'node-a' },
    })
    cluster.registry.delete(nodes, '', 'node-a', write)
    expect(refusal(token, ['spire-server'])).toBe(
      '[invalid bearer token, service account token has been invalidated]',
    )
  })

  it('a node-bound token whose node was recreated', () => {
    const token = issue({
      audiences: ['spire-server'],
      boundObjectRef: { kind: 'Node', apiVersion: 'v1', name: 'node-a' },
    })
    const old = uidOf(cluster.registry.get(nodes, '', 'node-a'))
    cluster.registry.delete(nodes, '', 'node-a', write)
    const recreated = cluster.registry.create(nodes, '', { metadata: { name: 'node-a' } }, write)
    expect(refusal(token, ['spire-server'])).toBe(
      `[invalid bearer token, node UID (${uidOf(recreated)}) does not match service account node ref claim (${old})]`,
    )
  })

  it('a secret-bound token whose secret was deleted', () => {
    cluster.registry.create(secrets, 'spire', { metadata: { name: 'binding' } }, write)
    const token = issue({
      audiences: ['spire-server'],
      boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 'binding' },
    })
    cluster.registry.delete(secrets, 'spire', 'binding', write)
    expect(refusal(token, ['spire-server'])).toBe(
      '[invalid bearer token, service account token has been invalidated]',
    )
  })

  it('a secret-bound token whose secret was recreated', () => {
    const old = uidOf(cluster.registry.create(secrets, 'spire', { metadata: { name: 'binding' } }, write))
    const token = issue({
      audiences: ['spire-server'],
      boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 'binding' },
    })
    cluster.registry.delete(secrets, 'spire', 'binding', write)
    const recreated = cluster.registry.create(secrets, 'spire', { metadata: { name: 'binding' } }, write)
    expect(refusal(token, ['spire-server'])).toBe(
      `[invalid bearer token, secret UID (${uidOf(recreated)}) does not match service account secret ref claim (${old})]`,
    )
  })

  it("a static identity's token for audiences other than the API's", () => {
    const identity = cluster.identities.add({ name: 'alice' })
    expect(review(identity.token).authenticated).toBe(true)
    expect(refusal(identity.token, ['spire-server'])).toBe('invalid bearer token')
  })
})

describe('TokenReview of legacy (Secret) tokens', () => {
  const legacyToken = (): string => {
    const account = cluster.registry.get(serviceAccounts, 'spire', 'spire-agent')
    return signJwt(
      legacyTokenClaims('spire', { name: 'spire-agent', uid: uidOf(account) }, 'legacy'),
      cluster.settings.signingKey,
    )
  }
  const storeLegacySecret = (token?: string): void => {
    const body: JsonObject = {
      metadata: { name: 'legacy', annotations: { 'kubernetes.io/service-account.name': 'spire-agent' } },
      type: SERVICE_ACCOUNT_TOKEN_TYPE,
    }
    if (token !== undefined) body.data = { token: Buffer.from(token).toString('base64') }
    cluster.registry.create(secrets, 'spire', body, write)
  }

  it('accepts one its Secret holds, for the API audiences only, without extras', () => {
    const token = legacyToken()
    storeLegacySecret(token)
    const status = review(token)
    expect(status.authenticated).toBe(true)
    expect(status.user).not.toHaveProperty('extra')
    expect(refusal(token, ['spire-server'])).toBe(
      '[invalid bearer token, token audiences ["https://kubernetes.default.svc.cluster.local"] is invalid for the target audiences ["spire-server"]]',
    )
  })

  it("refuses one its Secret does not hold: Token does not match server's copy", () => {
    storeLegacySecret()
    expect(refusal(legacyToken())).toBe("[invalid bearer token, Token does not match server's copy]")
  })

  it('refuses one whose Secret was deleted: Token has been invalidated', () => {
    const token = legacyToken()
    storeLegacySecret(token)
    cluster.registry.delete(secrets, 'spire', 'legacy', write)
    expect(refusal(token)).toBe('[invalid bearer token, Token has been invalidated]')
  })

  it('refuses one whose service account was deleted or recreated', () => {
    const token = legacyToken()
    storeLegacySecret(token)
    const old = uidOf(cluster.registry.get(serviceAccounts, 'spire', 'spire-agent'))
    cluster.registry.delete(serviceAccounts, 'spire', 'spire-agent', write)
    expect(refusal(token)).toBe('[invalid bearer token, serviceaccounts "spire-agent" not found]')
    const recreated = cluster.registry.create(
      serviceAccounts,
      'spire',
      { metadata: { name: 'spire-agent' } },
      write,
    )
    expect(refusal(token)).toBe(
      `[invalid bearer token, ServiceAccount UID (${uidOf(recreated)}) does not match claim (${old})]`,
    )
  })

  it('refuses one with a missing or inconsistent subject', () => {
    const account = cluster.registry.get(serviceAccounts, 'spire', 'spire-agent')
    const claims = legacyTokenClaims('spire', { name: 'spire-agent', uid: uidOf(account) }, 'legacy')
    const { sub: _sub, ...withoutSubject } = claims
    expect(refusal(signJwt(withoutSubject, cluster.settings.signingKey))).toBe(
      '[invalid bearer token, sub claim is missing]',
    )
    const wrongSubject = { ...claims, sub: 'system:serviceaccount:spire:someone-else' }
    expect(refusal(signJwt(wrongSubject, cluster.settings.signingKey))).toBe(
      '[invalid bearer token, sub claim is invalid]',
    )
  })
})

describe('the 10-second success cache', () => {
  it('keeps accepting a token for 10 s after its pod is deleted, then refuses it', () => {
    const token = podToken()
    expect(review(token, ['spire-server']).authenticated).toBe(true)
    cluster.registry.delete(pods, 'spire', 'agent-pod', { ...write, gracePeriodSeconds: 0 })
    clock.advance(9_999)
    expect(review(token, ['spire-server']).authenticated).toBe(true)
    clock.advance(1)
    expect(refusal(token, ['spire-server'])).toBe(
      '[invalid bearer token, service account token has been invalidated]',
    )
  })

  it('can be switched off, so a deleted pod invalidates at once', () => {
    cluster.authenticator.cacheEnabled = false
    const token = podToken()
    expect(review(token, ['spire-server']).authenticated).toBe(true)
    cluster.registry.delete(pods, 'spire', 'agent-pod', { ...write, gracePeriodSeconds: 0 })
    expect(refusal(token, ['spire-server'])).toBe(
      '[invalid bearer token, service account token has been invalidated]',
    )
  })

  it('does not remember refusals', () => {
    const token = podToken()
    cluster.registry.delete(serviceAccounts, 'spire', 'spire-agent', write)
    expect(refusal(token, ['spire-server'])).toContain('not found')
    cluster.registry.create(serviceAccounts, 'spire', { metadata: { name: 'spire-agent' } }, write)
    expect(refusal(token, ['spire-server'])).toContain('does not match claim')
  })
})

describe('malformed TokenReview requests', () => {
  it('are a 400 without a token', () => {
    let caught: unknown
    try {
      createTokenReview(cluster, { spec: { token: '' } }, 'test')
    } catch (error) {
      caught = error
    }
    expect(isKubeStatusError(caught)).toBe(true)
    expect(caught).toMatchObject({
      code: 'ATT_ERR_KUBE_TEST_BAD_REQUEST',
      message: 'token is required for TokenReview in authentication',
    })
  })

  it('are a 400 with a spec of the wrong type', () => {
    expect(() => createTokenReview(cluster, { spec: 'oops' }, 'test')).toThrow(
      'TokenReview in version "v1" cannot be handled as a TokenReview: json: cannot unmarshal string into Go struct field TokenReview.spec of type v1.TokenReviewSpec',
    )
  })
})
