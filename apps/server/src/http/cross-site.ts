import { AttestError } from '@k8s-attest/core'
import type { FastifyRequest } from 'fastify'

/** Methods that change nothing: they need neither a same-origin request nor a CSRF token. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Refuses a request that a browser says came from another site: a `Sec-Fetch-Site` other than
 * `same-origin` or, from a browser too old to send it, an `Origin` other than this server's.
 * Programs (the CLI, curl) send neither and pass. Credentials a browser attaches by itself — a
 * session cookie, and a client certificate, to which SameSite does not apply — must not let
 * another site's form change anything here.
 *
 * @throws {AttestError} `ATT_ERR_UNAUTHENTICATED` with `check: "csrf_origin"`.
 */
export function refuseCrossSite(request: FastifyRequest): void {
  const site = request.headers['sec-fetch-site']
  if (site !== undefined) {
    if (site === 'same-origin') return
    throw crossSite(`a ${site} request may not change anything here`, String(site))
  }
  const origin = request.headers.origin
  const own = `https://${request.headers.host ?? ''}`
  if (origin !== undefined && origin !== own) {
    throw crossSite(`a request from ${JSON.stringify(origin)} may not change anything here`, origin, own)
  }
}

function crossSite(message: string, value: string, expected = 'same-origin'): AttestError {
  return new AttestError('ATT_ERR_UNAUTHENTICATED', message, { check: 'csrf_origin', value, expected })
}
