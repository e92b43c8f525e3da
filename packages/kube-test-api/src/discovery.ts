import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Cluster } from './cluster.ts'
import { accepts, writeJson, writeText } from './http.ts'
import type { NonResourceRequestInfo } from './request-info.ts'
import { publicJwk } from './signing-key.ts'
import { methodNotAllowed, notAcceptable } from './status.ts'

/**
 * The non-resource endpoints: `/version`, the health checks, and service
 * account issuer discovery (`/.well-known/openid-configuration`,
 * `/openid/v1/jwks`), with kube-apiserver's bodies, media types and
 * formatting (discovery documents are compact without a trailing newline;
 * `/version` is indented).
 */

/** The version this test API answers as: the kube-apiserver the recordings were made with. */
export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.13',
  gitCommit: '63adf010aa20e104c0b7043b47f42f50c9f72b17',
  gitTreeState: 'clean',
  buildDate: '2026-11-24T02:31:57Z',
  goVersion: 'go1.23.5',
  compiler: 'gc',
  platform: 'linux/amd64',
} as const

const JWKS_MEDIA_TYPE = 'application/jwk-set+json'
const DISCOVERY_CACHE_CONTROL = 'public, max-age=3600'
const HEALTH_CHECKS: Readonly<Record<string, string>> = {
  '/healthz': 'healthz',
  '/livez': 'livez',
  '/readyz': 'readyz',
}

/** Serves `info` if it is one of the endpoints above; returns whether it was. */
export function serveDiscovery(
  cluster: Cluster,
  req: IncomingMessage,
  res: ServerResponse,
  info: NonResourceRequestInfo,
): boolean {
  const path = info.path.replace(/\/$/, '') || '/'
  const health = Object.entries(HEALTH_CHECKS).find(
    ([prefix]) => path === prefix || path.startsWith(`${prefix}/`),
  )
  const known =
    path === '/version' || path === '/.well-known/openid-configuration' || path === '/openid/v1/jwks'
  if (!known && health === undefined) return false
  if (info.verb !== 'get') throw methodNotAllowed()

  if (health !== undefined) {
    const verbose = new URL(req.url ?? '/', 'https://localhost').searchParams.has('verbose')
    writeText(res, 200, verbose ? `[+]ping ok\n[+]log ok\n${health[1]} check passed\n` : 'ok')
    return true
  }
  if (path === '/version') {
    writeJson(res, 200, { ...SERVER_VERSION }, { pretty: true, trailingNewline: false })
    return true
  }
  const accept = req.headers.accept
  if (path === '/.well-known/openid-configuration') {
    if (!accepts(accept, 'application/json')) throw notAcceptable(['application/json'])
    const document = {
      issuer: cluster.settings.issuer,
      jwks_uri: `${cluster.externalUrl}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [cluster.settings.signingKey.algorithm],
    }
    writeJson(res, 200, document, {
      trailingNewline: false,
      headers: { 'Cache-Control': DISCOVERY_CACHE_CONTROL },
    })
    return true
  }
  if (!accepts(accept, JWKS_MEDIA_TYPE)) throw notAcceptable([JWKS_MEDIA_TYPE])
  writeJson(
    res,
    200,
    { keys: [publicJwk(cluster.settings.signingKey)] },
    {
      trailingNewline: false,
      contentType: JWKS_MEDIA_TYPE,
      headers: { 'Cache-Control': DISCOVERY_CACHE_CONTROL },
    },
  )
  return true
}
