import type { SecureContextOptions, TlsOptions } from 'node:tls'
import type { ServingCertificate } from '../ca/certificate-authority.ts'
import type { TrustBundle } from '../ca/spiffe-bundle.ts'

/**
 * The listener's TLS settings: TLS 1.2 or later, the serving certificate from the server's own
 * CA (the leaf; OpenSSL completes the chain from `ca`, so agents holding several CAs during a
 * rotation see which one applies),
 * and client certificates *requested but not required*, verified against the trust bundle.
 *
 * Not requiring them keeps `/v1/attest` and `/v1/bundle` open to agents that have no SVID yet;
 * `rejectUnauthorized: false` lets a handshake with an unverifiable certificate complete, so
 * the routes that need a client certificate (`/v1/renew`, the admin API over mTLS) refuse it
 * themselves with a problem body (see `peer-svid.ts`) instead of a bare TLS alert.
 */
export function tlsOptions(serving: ServingCertificate, bundle: TrustBundle): TlsOptions {
  return {
    ...secureContextOptions(serving, bundle),
    minVersion: 'TLSv1.2',
    requestCert: true,
    rejectUnauthorized: false,
  }
}

/**
 * The part of {@link tlsOptions} that changes when the CA rotates, for
 * `server.setSecureContext()`: a new serving certificate and the new bundle for client
 * certificates. Connections already open keep their context.
 */
export function secureContextOptions(serving: ServingCertificate, bundle: TrustBundle): SecureContextOptions {
  return {
    key: serving.privateKeyPem,
    cert: serving.chainPem,
    ca: [...bundle.certificatesPem],
    minVersion: 'TLSv1.2',
  }
}
