import { ManualClock } from '../../src/clock.ts'
import { Cluster, type ClusterSettings } from '../../src/cluster.ts'
import type { JsonObject } from '../../src/json.ts'
import { generateSigningKey, type SigningKey } from '../../src/signing-key.ts'
import { isKubeStatusError } from '../../src/status.ts'

/**
 * A cluster without a server, for unit tests of what sits behind the HTTP
 * handlers. Keys are made once per algorithm and shared: RSA key generation
 * is the slowest thing a test here would do.
 */

/** The recordings' first instant, a convenient fixed start. */
export const START = Date.parse('2026-11-24T02:49:18Z')

const keys = new Map<string, SigningKey>()

/** A shared signing key of `algorithm`. */
export function sharedSigningKey(algorithm: 'RS256' | 'ES256' = 'RS256'): SigningKey {
  let key = keys.get(algorithm)
  if (key === undefined) {
    key = generateSigningKey(algorithm)
    keys.set(algorithm, key)
  }
  return key
}

/** A cluster with a ManualClock at {@link START} and kube-apiserver's defaults. */
export function createTestCluster(overrides: Partial<ClusterSettings> = {}): {
  cluster: Cluster
  clock: ManualClock
} {
  const clock = new ManualClock(START)
  const issuer = overrides.issuer ?? 'https://kubernetes.default.svc.cluster.local'
  const cluster = new Cluster({
    issuer,
    apiAudiences: [issuer],
    signingKey: sharedSigningKey(),
    clock,
    tokenReviewCache: true,
    extendTokenExpiration: true,
    maxTokenExpirationSeconds: undefined,
    watchHistoryLimit: 1000,
    random: () => 0.5,
    ...overrides,
  })
  return { cluster, clock }
}

/** The object's `metadata.uid`. */
export function uidOf(object: JsonObject): string {
  const metadata = object.metadata as JsonObject
  return String(metadata.uid)
}

/** The `Status` body of the refusal `action` throws (a `KubeStatusError`); anything else is rethrown. */
export function refusal(action: () => unknown): JsonObject {
  try {
    action()
  } catch (error) {
    if (isKubeStatusError(error)) return error.toJSON()
    throw error
  }
  throw new Error('expected the call to throw')
}
