import { AttestError } from '@k8s-attest/core'
import { errors, type JWTPayload } from 'jose'

/** Who issues the tokens a verifier checks, as {@link jwtClaimRefusal} names them. */
export interface TokenIssuer {
  readonly cluster: string
  readonly issuer: string
  /** How messages name the issuer before its value: `the service account issuer`, `the configured issuer`. */
  readonly described: string
  /** The audiences a token must name, when the verifier checks them. */
  readonly audiences?: readonly string[]
}

/**
 * The refusal for what jose's `jwtVerify` threw once the signature was checked, shared by the
 * k8s_psat JWKS verifier and the k8s_sat key-file verifier: expired (`exp`), not yet valid
 * (`nbf`), another issuer (`iss`), none of the audiences (`aud`); anything else is a token that
 * cannot be verified (`jws`). An {@link AttestError} is returned as it is.
 */
export function jwtClaimRefusal(
  error: unknown,
  { cluster, issuer, described, audiences }: TokenIssuer,
): AttestError {
  if (error instanceof AttestError) return error
  if (error instanceof errors.JWTExpired) {
    return new AttestError(
      'ATT_ERR_TOKEN_NOT_AUTHENTICATED',
      `the token of cluster "${cluster}" has expired`,
      {
        check: 'exp',
        cluster,
        cause: error,
      },
    )
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const found = error.payload[error.claim]
    const value = Array.isArray(found) ? found.join(',') : String(found)
    if (error.claim === 'iss') {
      return new AttestError(
        'ATT_ERR_TOKEN_INVALID',
        `the token's issuer ${JSON.stringify(found)} is not ${described} "${issuer}" of cluster "${cluster}"`,
        { check: 'issuer', cluster, value, expected: issuer, cause: error },
      )
    }
    if (error.claim === 'aud' && audiences !== undefined) {
      return new AttestError(
        'ATT_ERR_AUDIENCE_MISMATCH',
        `the token is for audiences ${JSON.stringify(found ?? [])}, none of the audiences ${JSON.stringify(audiences)} of cluster "${cluster}"`,
        { check: 'audience', cluster, value, expected: audiences.join(','), cause: error },
      )
    }
    if (error.claim === 'nbf') {
      return new AttestError(
        'ATT_ERR_TOKEN_NOT_AUTHENTICATED',
        `the token of cluster "${cluster}" is not valid yet (nbf)`,
        {
          check: 'nbf',
          cluster,
          cause: error,
        },
      )
    }
  }
  const reason = error instanceof Error ? error.message : String(error)
  return new AttestError('ATT_ERR_TOKEN_MALFORMED', `the token cannot be verified: ${reason}`, {
    check: 'jws',
    cluster,
    cause: error,
  })
}

/**
 * Refuses a token issued in the future (`iat` beyond `leewaySeconds` after `now`), as
 * kube-apiserver does (go-jose's `ErrIssuedInTheFuture`); jose checks `iat` only against a
 * maximum token age, which these tokens do not have. A token without `iat` passes.
 *
 * @throws {AttestError} `ATT_ERR_TOKEN_NOT_AUTHENTICATED` (`check: "iat"`).
 */
export function checkIssuedAt(payload: JWTPayload, now: Date, leewaySeconds: number, cluster: string): void {
  const nowSeconds = Math.floor(now.getTime() / 1000)
  if (payload.iat === undefined || payload.iat <= nowSeconds + leewaySeconds) return
  throw new AttestError(
    'ATT_ERR_TOKEN_NOT_AUTHENTICATED',
    `the token of cluster "${cluster}" is issued in the future (iat ${new Date(payload.iat * 1000).toISOString()}, more than ${leewaySeconds} s after ${now.toISOString()})`,
    { check: 'iat', cluster, value: String(payload.iat), expected: `at most ${nowSeconds + leewaySeconds}` },
  )
}
