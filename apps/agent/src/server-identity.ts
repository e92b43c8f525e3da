import type { PeerCertificate, TLSSocket } from 'node:tls'
import { buildConnector } from 'undici'
import { AgentError } from './errors.ts'
import { uriSansOf } from './spiffe.ts'

/**
 * Checks the server by its SPIFFE ID rather than its DNS name: agents reach the server by
 * whatever address the cluster gives it (a Service name, a node IP), but what makes it *the*
 * server is the URI SAN `spiffe://<td>/spire/server` in a certificate that chains to the
 * bundle. Returns `undefined` when the certificate carries exactly that one URI SAN.
 */
export function serverIdentityProblem(
  certificateDer: Uint8Array,
  expectedId: string,
): AgentError | undefined {
  let uris: string[]
  try {
    uris = uriSansOf(certificateDer)
  } catch (error) {
    return untrusted('the server certificate cannot be parsed', '', expectedId, error)
  }
  if (uris.length === 1 && uris[0] === expectedId) return undefined
  const found = uris.length === 0 ? 'no URI SAN' : uris.map((uri) => JSON.stringify(uri)).join(', ')
  return untrusted(
    `the server presented ${found}; expected the server ID ${JSON.stringify(expectedId)}`,
    uris.join(', '),
    expectedId,
  )
}

/**
 * A `checkServerIdentity` for TLS options: Node calls it after the chain verified against
 * `ca`, in place of the host name check.
 */
export function checkServerSpiffeId(
  expectedId: string,
): (hostname: string, certificate: PeerCertificate) => Error | undefined {
  return (_hostname, certificate) => serverIdentityProblem(certificate.raw, expectedId)
}

/** Options of {@link insecureBootstrapConnector}. */
export interface InsecureConnectorOptions {
  readonly expectedId: string
  readonly connectTimeoutMs: number
}

/**
 * An undici connector for `insecure_bootstrap`: the chain is not verified (there is nothing to
 * verify it against yet), but the server's SPIFFE ID still is. Node skips
 * `checkServerIdentity` once chain verification has failed, even with
 * `rejectUnauthorized: false`, so the ID is checked here, on the connected socket, before undici
 * writes a single byte of the request (and thus before the token leaves the agent).
 */
export function insecureBootstrapConnector(options: InsecureConnectorOptions): buildConnector.connector {
  // No session resumption: a resumed session carries no certificate to check.
  const connect = buildConnector({
    rejectUnauthorized: false,
    timeout: options.connectTimeoutMs,
    maxCachedSessions: 0,
  })
  return (connectOptions, callback) =>
    connect(connectOptions, (error, socket) => {
      if (error !== null) {
        callback(error, null)
        return
      }
      const certificate = (socket as TLSSocket).getPeerCertificate?.()
      const problem =
        certificate?.raw === undefined
          ? untrusted('the server presented no certificate', '', options.expectedId)
          : serverIdentityProblem(certificate.raw, options.expectedId)
      if (problem !== undefined) {
        socket.destroy()
        callback(problem, null)
        return
      }
      callback(null, socket)
    })
}

function untrusted(message: string, value: string, expected: string, cause?: unknown): AgentError {
  return new AgentError('ATT_ERR_SERVER_UNTRUSTED', message, {
    check: 'server_spiffe_id',
    value,
    expected,
    ...(cause === undefined ? {} : { cause }),
  })
}
