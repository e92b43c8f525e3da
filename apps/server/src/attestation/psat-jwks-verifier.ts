import { AttestError } from '@k8s-attest/core'
import {
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose'
import type { CallOptions, IssuerKeys } from '../kubernetes/cluster-client.ts'
import { checkIssuedAt, jwtClaimRefusal } from './jwt-claim-refusal.ts'

/**
 * kube-apiserver accepts a service account token up to a minute past `exp` and before `nbf`
 * (go-jose's `DefaultLeeway`, which its service account authenticator uses); verifying
 * locally allows the same, so JWKS mode accepts what TokenReview would.
 */
export const PSAT_CLOCK_LEEWAY_SECONDS = 60

/** Default of {@link PsatJwksVerifierOptions.minRefreshIntervalMs}. */
export const DEFAULT_MIN_KEY_REFRESH_INTERVAL_MS = 10_000
/** Default of {@link PsatJwksVerifierOptions.maxKeyAgeMs}. */
export const DEFAULT_MAX_KEY_AGE_MS = 5 * 60_000

/** The asymmetric algorithms kube-apiserver signs with (RSA or ECDSA keys); never `none` or HMAC. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']

/** Options of {@link PsatJwksVerifier}. */
export interface PsatJwksVerifierOptions {
  /** The cluster's name, for messages. */
  readonly cluster: string
  /** The cluster's `audience`: the token's `aud` must contain one of them (never empty here). */
  readonly audiences: readonly string[]
  /** Reads the issuer and its keys from the API server (`ClusterClient.getIssuerKeys`). */
  readonly fetchKeys: (options?: CallOptions) => Promise<IssuerKeys>
  /** The clock, for token times and the refresh limits. Default `() => new Date()`. */
  readonly now?: () => Date
  /**
   * The least time between two key reads, default 10 s. A token naming an unknown `kid` reads
   * the keys again (the issuer may have rotated them) only when the last read is older than
   * this; otherwise it is refused at once, so a flood of made-up `kid`s costs at most one read
   * per interval, never one per token.
   */
  readonly minRefreshIntervalMs?: number
  /**
   * How long keys are used before the next token reads them again, default 5 minutes: a key the
   * issuer stopped serving (rotated out, or withdrawn after a leak) is trusted at most this long.
   * When that read fails, the keys held keep serving (the API server being down must not stop
   * attestation in the one mode that does not need it per token).
   */
  readonly maxKeyAgeMs?: number
}

/** One read of the issuer's keys. */
interface IssuerKeySet {
  readonly issuer: string
  readonly resolve: ReturnType<typeof createLocalJWKSet>
  /** When it was read (the clock's milliseconds). */
  readonly readAt: number
}

/**
 * Verifies projected service account tokens locally, against the keys the cluster's service
 * account issuer publishes (JWKS mode of k8s_psat): the signature (asymmetric algorithms only),
 * `iss` (the discovery document's issuer), `aud` (one of the cluster's audiences), `exp`, `nbf`
 * and `iat` (a minute's leeway, as kube-apiserver). It says nothing about whether the bound pod and
 * service account still exist: the caller checks those against the informer caches.
 *
 * Keys are read on first use, again when a token names a `kid` they lack (at most once per
 * {@link PsatJwksVerifierOptions.minRefreshIntervalMs}), and once they are older than
 * {@link PsatJwksVerifierOptions.maxKeyAgeMs}; concurrent callers share one read.
 */
export class PsatJwksVerifier {
  readonly #options: PsatJwksVerifierOptions
  readonly #now: () => Date
  readonly #minRefreshIntervalMs: number
  readonly #maxKeyAgeMs: number
  #keys: IssuerKeySet | undefined
  #reading: Promise<IssuerKeySet> | undefined
  /** When the latest read started (successful or not), for the rate limit. */
  #lastReadAt = Number.NEGATIVE_INFINITY
  /** Why the latest read failed, while no keys are held. */
  #lastReadError: unknown

  constructor(options: PsatJwksVerifierOptions) {
    if (options.audiences.length === 0) throw new TypeError('PsatJwksVerifier needs at least one audience')
    this.#options = options
    this.#now = options.now ?? (() => new Date())
    this.#minRefreshIntervalMs = options.minRefreshIntervalMs ?? DEFAULT_MIN_KEY_REFRESH_INTERVAL_MS
    this.#maxKeyAgeMs = options.maxKeyAgeMs ?? DEFAULT_MAX_KEY_AGE_MS
  }

  /**
   * Resolves with the token's verified claims.
   *
   * @param kid The token's `kid` header (from the unverified decode), for the message.
   * @throws {AttestError} `ATT_ERR_TOKEN_NOT_AUTHENTICATED` (`check`: `signing_key`,
   *   `signature_algorithm`, `signature`, `exp`, `nbf`, `iat`), `ATT_ERR_TOKEN_INVALID` (`issuer`),
   *   `ATT_ERR_AUDIENCE_MISMATCH` (`audience`), `ATT_ERR_TOKEN_MALFORMED` (`jws`), or the
   *   key read's `ATT_ERR_KUBE_API_*` error when no keys could be read at all.
   */
  async verify(token: string, kid: string | undefined): Promise<JWTPayload> {
    let keys = await this.#usableKeys()
    try {
      return await this.#verifyWith(token, keys)
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw this.#claimError(error, keys)
      // The issuer may have rotated its keys since these were read. Newer keys — a read in
      // flight, or one that finished while this token was checked — are used as they are;
      // otherwise they are read again, if the rate limit allows.
      const newer = this.#reading ?? (this.#keys !== keys ? this.#keys : undefined)
      if (newer === undefined && this.#clock() - this.#lastReadAt < this.#minRefreshIntervalMs) {
        throw this.#noKeyError(kid)
      }
      keys = await (newer ?? this.#read())
      try {
        return await this.#verifyWith(token, keys)
      } catch (retryError) {
        if (retryError instanceof errors.JWKSNoMatchingKey) throw this.#noKeyError(kid)
        throw this.#claimError(retryError, keys)
      }
    }
  }

  async #verifyWith(token: string, keys: IssuerKeySet): Promise<JWTPayload> {
    const currentDate = this.#now()
    const options = {
      algorithms: ALGORITHMS,
      issuer: keys.issuer,
      audience: [...this.#options.audiences],
      requiredClaims: ['exp'],
      clockTolerance: PSAT_CLOCK_LEEWAY_SECONDS,
      currentDate,
    }
    let payload: JWTPayload
    try {
      payload = (await jwtVerify(token, keys.resolve, options)).payload
    } catch (error) {
      if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error
      // A token without `kid`, and several keys of its algorithm: kube-apiserver tries each.
      payload = await verifyWithEach(token, error, options)
    }
    checkIssuedAt(payload, currentDate, PSAT_CLOCK_LEEWAY_SECONDS, this.#options.cluster)
    return payload
  }

  /**
   * The keys held, read first when there are none, or again when they are too old. While no
   * keys could be read, a read is tried again at most once per refresh interval; tokens in
   * between fail with the last read's error (so an unreachable API server is not asked once
   * per token).
   */
  async #usableKeys(): Promise<IssuerKeySet> {
    const keys = this.#keys
    const now = this.#clock()
    if (keys === undefined) {
      // A read in flight answers for everyone, including the one after a failed read.
      if (this.#reading !== undefined) return this.#reading
      if (this.#lastReadError !== undefined && now - this.#lastReadAt < this.#minRefreshIntervalMs) {
        throw this.#lastReadError
      }
      return this.#read()
    }
    if (now - keys.readAt < this.#maxKeyAgeMs || now - this.#lastReadAt < this.#minRefreshIntervalMs) {
      return keys
    }
    try {
      return await this.#read()
    } catch {
      // Keep verifying with the keys held; the next read is tried after the refresh interval.
      return keys
    }
  }

  /** Reads the keys; concurrent callers share one read (`#reading`). */
  #read(): Promise<IssuerKeySet> {
    this.#reading ??= (async () => {
      this.#lastReadAt = this.#clock()
      try {
        const keys = this.#parse(await this.#options.fetchKeys())
        this.#keys = keys
        this.#lastReadError = undefined
        return keys
      } catch (error) {
        if (this.#keys === undefined) this.#lastReadError = error
        throw error
      } finally {
        this.#reading = undefined
      }
    })()
    return this.#reading
  }

  #parse(answer: IssuerKeys): IssuerKeySet {
    const cluster = this.#options.cluster
    if (typeof answer.issuer !== 'string' || answer.issuer === '') {
      throw new AttestError(
        'ATT_ERR_KUBE_API_FAILED',
        `the service account issuer discovery document of cluster "${cluster}" has no "issuer" (/.well-known/openid-configuration)`,
        { check: 'issuer_discovery', cluster },
      )
    }
    try {
      return {
        issuer: answer.issuer,
        resolve: createLocalJWKSet(answer.jwks as JSONWebKeySet),
        readAt: this.#clock(),
      }
    } catch (error) {
      throw new AttestError(
        'ATT_ERR_KUBE_API_FAILED',
        `the service account issuer keys of cluster "${cluster}" are not a JWKS (/openid/v1/jwks): ${error instanceof Error ? error.message : String(error)}`,
        { check: 'issuer_jwks', cluster, cause: error },
      )
    }
  }

  #clock(): number {
    return this.#now().getTime()
  }

  #noKeyError(kid: string | undefined): AttestError {
    const cluster = this.#options.cluster
    return new AttestError(
      'ATT_ERR_TOKEN_NOT_AUTHENTICATED',
      `no service account issuer key of cluster "${cluster}" matches the token's key ID ${kid === undefined ? '(none)' : JSON.stringify(kid)} and algorithm`,
      { check: 'signing_key', cluster, ...(kid === undefined ? {} : { value: kid }) },
    )
  }

  #claimError(error: unknown, keys: IssuerKeySet): AttestError {
    const cluster = this.#options.cluster
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      return new AttestError(
        'ATT_ERR_TOKEN_NOT_AUTHENTICATED',
        `the token's signature does not verify with the service account issuer key of cluster "${cluster}" it names`,
        { check: 'signature', cluster, cause: error },
      )
    }
    if (error instanceof errors.JOSEAlgNotAllowed) {
      return new AttestError(
        'ATT_ERR_TOKEN_NOT_AUTHENTICATED',
        `the token's signature algorithm is not one a Kubernetes issuer uses (expected one of ${ALGORITHMS.join(', ')})`,
        { check: 'signature_algorithm', cluster, expected: ALGORITHMS.join(','), cause: error },
      )
    }
    return jwtClaimRefusal(error, {
      cluster,
      issuer: keys.issuer,
      described: 'the service account issuer',
      audiences: this.#options.audiences,
    })
  }
}

/**
 * Verifies `token` with each key `candidates` yields (jose's `JWKSMultipleMatchingKeys` is
 * iterable over them), resolving with the first that verifies its signature.
 */
async function verifyWithEach(
  token: string,
  candidates: errors.JWKSMultipleMatchingKeys,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  for await (const key of candidates) {
    try {
      return (await jwtVerify(token, key, options)).payload
    } catch (error) {
      if (!(error instanceof errors.JWSSignatureVerificationFailed)) throw error
    }
  }
  throw new errors.JWSSignatureVerificationFailed()
}
