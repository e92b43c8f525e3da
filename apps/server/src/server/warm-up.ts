import { request as httpsRequest } from 'node:https'
import { CA_KEY_ALGORITHM, CA_SIGNING_ALGORITHM } from '../ca/ca-certificate.ts'
import type { IssuedCertificate } from '../ca/leaf-certificate.ts'
import { x509 } from '../ca/x509.ts'

/*
 * The first attestation after start cost 4-7 times a warm one (38-81 ms against 9-13 ms),
 * almost all of it work done once per process: the listener's first TLS handshake and first
 * request through fastify (lazily compiled JavaScript, OpenSSL's first use of the serving key
 * and key shares) and the signing path's first CSR parse, check and signature. The server does
 * both once at start, on itself, so the first agent does not pay for them. Nothing is
 * recorded: the warm-up SVID is thrown away and the request is a `GET /live`.
 */

/** The path the listener warm-up requests: no authentication, no side effects. */
export const WARM_UP_PATH = '/live'

/** Issues and discards one SVID for a fresh CSR, through the same `signAgentCsr` attestations use. */
export async function warmSigningPath(
  signer: { signAgentCsr(csr: string, spiffeId: string): Promise<IssuedCertificate> },
  trustDomain: string,
): Promise<void> {
  const keys = await crypto.subtle.generateKey(CA_KEY_ALGORITHM, false, ['sign', 'verify'])
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'O=k8s-attest warm-up',
    keys,
    signingAlgorithm: CA_SIGNING_ALGORITHM,
  })
  await signer.signAgentCsr(csr.toString('pem'), `spiffe://${trustDomain}/spire/server/warm-up`)
}

/**
 * One `GET /live` on a fresh TLS connection to the server's own listener at `host:port` (a
 * wildcard bind address is reached on loopback). The certificate is not checked: this is the
 * server talking to itself, and only the server side's first handshake matters.
 *
 * @throws {Error} when the listener does not answer 200.
 */
export function warmTlsListener(host: string, port: number): Promise<void> {
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: target, port, path: WARM_UP_PATH, method: 'GET', agent: false, rejectUnauthorized: false },
      (res) => {
        res.resume()
        res.on('end', () => {
          if (res.statusCode === 200) resolve()
          else
            reject(new Error(`warm-up GET ${WARM_UP_PATH} on ${target}:${port} answered ${res.statusCode}`))
        })
      },
    )
    req.setTimeout(5_000, () =>
      req.destroy(new Error(`warm-up GET ${WARM_UP_PATH} on ${target}:${port} timed out`)),
    )
    req.on('error', reject)
    req.end()
  })
}
