import type { Clock } from './clock.ts'
import type { Identity, IdentityRegistry } from './identities.ts'
import {
  authenticateServiceAccountToken,
  type ServiceAccountAuthenticatorConfig,
} from './service-account-authenticator.ts'
import type { UserInfo } from './user-info.ts'

/**
 * kube-apiserver's bearer token authentication, used both for API requests
 * and for TokenReview: static identity tokens, then service account tokens,
 * behind the 10-second success cache of `tokencache` (failures are not
 * cached). Texts of refusals are the bearer authenticator's:
 * `invalid bearer token`, or `[invalid bearer token, <reason>]`.
 */

/** How kube-apiserver long remembers a successful token review. */
export const TOKEN_SUCCESS_CACHE_TTL_MS = 10_000

/** A token's review. */
export type TokenAuthentication =
  | {
      readonly authenticated: true
      readonly user: UserInfo
      /** The audiences the token was accepted for (the intersection). */
      readonly audiences: readonly string[]
      /** The static identity the token belongs to, if it is one. */
      readonly identity?: Identity
    }
  | { readonly authenticated: false; readonly error: string }

const INVALID_BEARER_TOKEN = 'invalid bearer token'

interface CacheEntry {
  readonly outcome: TokenAuthentication
  readonly expiresAt: number
}

/** The cluster's token authenticator. */
export class TokenAuthenticator {
  readonly #identities: IdentityRegistry
  readonly #serviceAccounts: ServiceAccountAuthenticatorConfig
  readonly #clock: Clock
  readonly #cache = new Map<string, CacheEntry>()
  #cacheEnabled: boolean

  constructor(options: {
    readonly identities: IdentityRegistry
    readonly serviceAccounts: ServiceAccountAuthenticatorConfig
    readonly clock: Clock
    readonly cacheEnabled: boolean
  }) {
    this.#identities = options.identities
    this.#serviceAccounts = options.serviceAccounts
    this.#clock = options.clock
    this.#cacheEnabled = options.cacheEnabled
  }

  /** Whether successful reviews are remembered for {@link TOKEN_SUCCESS_CACHE_TTL_MS}. */
  get cacheEnabled(): boolean {
    return this.#cacheEnabled
  }

  set cacheEnabled(enabled: boolean) {
    this.#cacheEnabled = enabled
    if (!enabled) this.#cache.clear()
  }

  /** Forgets every remembered review. */
  clearCache(): void {
    this.#cache.clear()
  }

  /** Reviews `token` for `requestedAudiences` (undefined: the API audiences). */
  authenticate(token: string, requestedAudiences?: readonly string[]): TokenAuthentication {
    const now = this.#clock.now()
    const key = JSON.stringify([requestedAudiences ?? null, token])
    if (this.#cacheEnabled) {
      const cached = this.#cache.get(key)
      if (cached !== undefined && cached.expiresAt > now) return cached.outcome
      if (cached !== undefined) this.#cache.delete(key)
    }
    const outcome = this.#authenticateUncached(token, requestedAudiences)
    if (this.#cacheEnabled && outcome.authenticated) {
      for (const [staleKey, entry] of this.#cache) if (entry.expiresAt <= now) this.#cache.delete(staleKey)
      this.#cache.set(key, { outcome, expiresAt: now + TOKEN_SUCCESS_CACHE_TTL_MS })
    }
    return outcome
  }

  #authenticateUncached(
    token: string,
    requestedAudiences: readonly string[] | undefined,
  ): TokenAuthentication {
    const identity = this.#identities.byToken(token)
    if (identity !== undefined) {
      // Static tokens are audience-agnostic: they count for the API audiences only.
      const apiAudiences = this.#serviceAccounts.apiAudiences
      const audiences = (requestedAudiences ?? apiAudiences).filter((audience) =>
        apiAudiences.includes(audience),
      )
      if (audiences.length === 0) return { authenticated: false, error: INVALID_BEARER_TOKEN }
      return {
        authenticated: true,
        user: { username: identity.name, groups: identity.groups },
        audiences,
        identity,
      }
    }
    const outcome = authenticateServiceAccountToken(token, requestedAudiences, this.#serviceAccounts)
    if (outcome.authenticated) return outcome
    return {
      authenticated: false,
      error:
        outcome.error === undefined ? INVALID_BEARER_TOKEN : `[${INVALID_BEARER_TOKEN}, ${outcome.error}]`,
    }
  }
}
