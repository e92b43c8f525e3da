import type { KeyObject } from 'node:crypto'
import { AttestError } from '@k8s-attest/core'
import { errors, type JWTPayload, jwtVerify } from 'jose'
import { checkIssuedAt, jwtClaimRefusal } from './jwt-claim-refusal.ts'

/**
 * If the clocks of the API server and this server differ, a token may look not yet valid or
 * just expired; SPIRE's k8s_sat allows the same 5 minutes.
 */
export const SAT_CLOCK_LEEWAY_SECONDS = 300

const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const
/** ECDSA ties the algorithm to the curve (RFC 7518 §3.4). */
const EC_ALGORITHM_BY_CURVE: Readonly<Record<string, string>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
}

/** Options of {@link SatKeyVerifier}. */
export interface SatKeyVerifierOptions {
  /** The cluster's name, for messages. */
  readonly cluster: string
  /** The cluster's service account public keys (RSA or EC), loaded once with the configuration. */
  readonly keys: readonly KeyObject[]
  /** The `iss` every token must carry (`service_account_issuer`). */
  readonly issuer: string
  /** The clock. Default `() => new Date()`. */
  readonly now?: () => Date
}

interface CandidateKey {
  readonly key: KeyObject
  readonly algorithms: ReadonlySet<string>
}

/**
 * Verifies k8s_sat tokens locally, with the API server's service account keys, as SPIRE's
 * k8s_sat does without `use_token_review_api_validation`: the signature (RS/PS/ES 256/384/512),
 * the issuer, and — when the token has them — `exp` and `nbf`, with 5 minutes' leeway. It cannot
 * notice a deleted service account or Secret; that is what TokenReview mode is for.
 *
 * Keys are sorted by the algorithms they can verify once, at construction, so a token is only
 * tried against keys that could have signed it.
 */
export class SatKeyVerifier {
  readonly #cluster: string
  readonly #keys: readonly CandidateKey[]
  readonly #issuer: string
  readonly #now: () => Date

  constructor(options: SatKeyVerifierOptions) {
    if (options.keys.length === 0) throw new TypeError('SatKeyVerifier needs at least one key')
    this.#cluster = options.cluster
    this.#issuer = options.issuer
    this.#now = options.now ?? (() => new Date())
    this.#keys = options.keys.map((key) => ({ key, algorithms: algorithmsOf(key) }))
  }

  /**
   * Resolves when `token` is signed by one of the keys and its issuer and times are valid.
   *
   * @param algorithm The token's `alg` header (from the unverified decode).
   * @throws {AttestError} `ATT_ERR_TOKEN_NOT_AUTHENTICATED` (`check`: `signature_algorithm`,
   *   `signature`, `exp`, `nbf` or `iat`) or `ATT_ERR_TOKEN_INVALID` (`check: "issuer"`).
   */
  async verify(token: string, algorithm: string): Promise<void> {
    const cluster = this.#cluster
    const candidates = this.#keys.filter((candidate) => candidate.algorithms.has(algorithm))
    if (candidates.length === 0) {
      throw new AttestError(
        'ATT_ERR_TOKEN_NOT_AUTHENTICATED',
        `no service account key of cluster "${cluster}" verifies "${algorithm}" signatures`,
        {
          check: 'signature_algorithm',
          cluster,
          value: algorithm,
          expected: [...new Set(this.#keys.flatMap((k) => [...k.algorithms]))].join(','),
        },
      )
    }
    for (const { key } of candidates) {
      const currentDate = this.#now()
      let payload: JWTPayload
      try {
        payload = (
          await jwtVerify(token, key, {
            algorithms: [algorithm],
            issuer: this.#issuer,
            clockTolerance: SAT_CLOCK_LEEWAY_SECONDS,
            currentDate,
          })
        ).payload
      } catch (error) {
        // Another key of the file (a rotation) may have signed it: try the next one.
        if (error instanceof errors.JWSSignatureVerificationFailed) continue
        throw this.#claimError(error)
      }
      checkIssuedAt(payload, currentDate, SAT_CLOCK_LEEWAY_SECONDS, cluster)
      return
    }
    throw new AttestError(
      'ATT_ERR_TOKEN_NOT_AUTHENTICATED',
      `the token's signature does not verify with any service account key of cluster "${cluster}"`,
      { check: 'signature', cluster },
    )
  }

  #claimError(error: unknown): AttestError {
    return jwtClaimRefusal(error, {
      cluster: this.#cluster,
      issuer: this.#issuer,
      described: 'the configured issuer',
    })
  }
}

function algorithmsOf(key: KeyObject): ReadonlySet<string> {
  if (key.asymmetricKeyType === 'rsa') return new Set(RSA_ALGORITHMS)
  const curveAlgorithm = EC_ALGORITHM_BY_CURVE[key.asymmetricKeyDetails?.namedCurve ?? '']
  if (key.asymmetricKeyType === 'ec' && curveAlgorithm !== undefined) return new Set([curveAlgorithm])
  throw new TypeError(
    `service account keys must be RSA or EC P-256/P-384/P-521 (found ${key.asymmetricKeyType ?? 'unknown'})`,
  )
}
