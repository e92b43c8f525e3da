import { createHash, timingSafeEqual } from 'node:crypto'
import type { Socket } from 'node:net'
import { AttestError } from '@k8s-attest/core'
import type { AdminConfig } from '../config/server-config.ts'
import { peerSvidOf } from '../server/peer-svid.ts'

/** Who called the admin API, for the audit log line. */
export type AdminCaller =
  | { readonly via: 'bearer_token' }
  | { readonly via: 'mtls'; readonly spiffeId: string }
  /** The dashboard, signed in with the bearer token (see `DashboardSessions`). */
  | { readonly via: 'dashboard_session' }

/**
 * Authenticates admin API callers, in one of the two ways the `admin` block allows:
 *
 * - `Authorization: Bearer <token>` equal to the configured token. Both sides are hashed with
 *   SHA-256 first and compared with `crypto.timingSafeEqual`, so neither the comparison time
 *   nor a length mismatch tells an attacker how much of a guess was right;
 * - mutual TLS with an X.509 SVID (chained to the server's CA) whose SPIFFE ID is one of
 *   `admin_ids`, like SPIRE's `admin_ids`.
 */
export class AdminAuthenticator {
  readonly #tokenDigest: Buffer | undefined
  readonly #adminIds: ReadonlySet<string>

  constructor(config: AdminConfig) {
    const token = config.bearerToken?.reveal()
    this.#tokenDigest = token === undefined ? undefined : sha256(token)
    this.#adminIds = new Set(config.adminIds)
  }

  /**
   * @param authorization The `Authorization` header, if any.
   * @param socket The request's connection (for its client certificate).
   * @throws {AttestError} `ATT_ERR_UNAUTHENTICATED` (401) naming what was presented and refused;
   *   `ATT_ERR_PERMISSION_DENIED` (403) for a valid SVID of this trust domain (an agent's, say)
   *   whose SPIFFE ID is not one of `admin_ids`: the credential is good, the caller not allowed.
   */
  authenticate(authorization: string | undefined, socket: Socket): AdminCaller {
    if (authorization !== undefined) {
      const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization)
      if (this.#tokenDigest === undefined || match?.[1] === undefined) {
        throw unauthenticated('bearer_token', 'the Authorization header is not an accepted bearer token')
      }
      if (!timingSafeEqual(sha256(match[1]), this.#tokenDigest)) {
        throw unauthenticated('bearer_token', 'the bearer token is not the admin token')
      }
      return { via: 'bearer_token' }
    }
    const peer = peerSvidOf(socket)
    if (typeof peer === 'string') {
      throw unauthenticated(
        'admin_credentials',
        peer === 'no_certificate'
          ? 'the admin API needs a bearer token or an admin X.509 SVID'
          : peer === 'expired'
            ? 'the client certificate has expired since this connection was opened'
            : 'the client certificate is not an X.509 SVID of this trust domain',
      )
    }
    if (!this.#adminIds.has(peer.spiffeId)) {
      throw new AttestError('ATT_ERR_PERMISSION_DENIED', `SPIFFE ID "${peer.spiffeId}" is not an admin ID`, {
        check: 'admin_ids',
        value: peer.spiffeId,
      })
    }
    return { via: 'mtls', spiffeId: peer.spiffeId }
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

function unauthenticated(check: string, message: string, value?: string): AttestError {
  return new AttestError('ATT_ERR_UNAUTHENTICATED', message, {
    check,
    ...(value === undefined ? {} : { value }),
  })
}
