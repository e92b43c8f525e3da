import type { Cluster } from './cluster.ts'
import type { KubeTestApi } from './test-api.ts'

/**
 * What the test API lets a test forget on purpose: remembered TokenReview
 * successes, and the watch history watches resume from.
 */

/** The cache methods of {@link KubeTestApi}. */
export type CacheMethods = Pick<
  KubeTestApi,
  'setTokenReviewCache' | 'clearTokenReviewCache' | 'compactWatchHistory'
>

/** The cache methods of `cluster`. */
export function cacheMethods(cluster: Cluster): CacheMethods {
  return {
    setTokenReviewCache: (enabled) => {
      cluster.authenticator.cacheEnabled = enabled
    },
    clearTokenReviewCache: () => cluster.authenticator.clearCache(),
    compactWatchHistory: () => cluster.store.compact(),
  }
}
