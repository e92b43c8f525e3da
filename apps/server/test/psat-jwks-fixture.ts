import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto'
import { exportJWK, type JWK, SignJWT } from 'jose'
import type { NodeInfo, PodInfo, ServiceAccountInfo } from '../src/kubernetes/cluster-client.ts'
import { FakeClusterClient } from './fake-cluster-client.ts'

/** The issuer of the fixture's cluster, as kube-apiserver's discovery document names it. */
export const JWKS_ISSUER = 'https://kubernetes.default.svc.cluster.local'

/** A signing key of the fixture's issuer: its private half and its public JWK (with `kid`). */
export interface IssuerKey {
  readonly kid: string
  readonly privateKey: KeyObject
  readonly jwk: JWK
}

/** A fresh RSA issuer key, published as kube-apiserver publishes it (`use: sig`, `alg: RS256`). */
export async function issuerKey(kid: string = randomUUID()): Promise<IssuerKey> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' } }
}

/** Options of {@link JwksScenario.token}: claim overrides (`undefined` removes one), header, key. */
export interface JwksTokenOptions {
  readonly claims?: Readonly<Record<string, unknown>>
  readonly kid?: string
  readonly key?: KeyObject
}

/**
 * A k8s_psat world for JWKS mode in a {@link FakeClusterClient}: an issuer key served by
 * `getIssuerKeys`, service account `spire:spire-agent`, pod `spire/agent-1` on node `node-a`,
 * and pod-bound tokens signed as kube-apiserver signs them (claims of v1.32).
 */
export interface JwksScenario {
  readonly key: IssuerKey
  readonly pod: PodInfo
  readonly node: NodeInfo
  readonly serviceAccount: ServiceAccountInfo
  readonly client: FakeClusterClient
  /** A signed token of the scenario's pod, with `options` applied. */
  token(options?: JwksTokenOptions): Promise<string>
}

export async function jwksScenario(nowSeconds = Math.floor(Date.now() / 1000)): Promise<JwksScenario> {
  const key = await issuerKey()
  const serviceAccount: ServiceAccountInfo = { namespace: 'spire', name: 'spire-agent', uid: randomUUID() }
  const pod: PodInfo = {
    namespace: 'spire',
    name: 'agent-1',
    uid: randomUUID(),
    nodeName: 'node-a',
    serviceAccountName: 'spire-agent',
    hostIp: '10.0.0.7',
    labels: { app: 'spire-agent' },
  }
  const node: NodeInfo = { name: 'node-a', uid: randomUUID(), labels: {} }
  const client = new FakeClusterClient()
  client.issuerKeys = { issuer: JWKS_ISSUER, jwks: { keys: [key.jwk] } }
  client.serviceAccounts.set('spire/spire-agent', serviceAccount)
  client.pods.set('spire/agent-1', pod)
  client.nodes.set('node-a', node)
  return {
    key,
    pod,
    node,
    serviceAccount,
    client,
    async token(options = {}) {
      const claims: Record<string, unknown> = {
        aud: ['spire-server'],
        exp: nowSeconds + 3600,
        iat: nowSeconds,
        nbf: nowSeconds,
        iss: JWKS_ISSUER,
        jti: randomUUID(),
        'kubernetes.io': {
          namespace: 'spire',
          node: { name: node.name, uid: node.uid },
          pod: { name: pod.name, uid: pod.uid },
          serviceaccount: { name: serviceAccount.name, uid: serviceAccount.uid },
        },
        sub: 'system:serviceaccount:spire:spire-agent',
      }
      for (const [claim, value] of Object.entries(options.claims ?? {})) {
        if (value === undefined) delete claims[claim]
        else claims[claim] = value
      }
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? key.kid })
        .sign(options.key ?? key.privateKey)
    },
  }
}
