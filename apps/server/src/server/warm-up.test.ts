import { execFileSync } from 'node:child_process'
import { createServer, type Server } from 'node:https'
import { afterEach, describe, expect, it } from 'vitest'
import type { IssuedCertificate } from '../ca/leaf-certificate.ts'
import { x509 } from '../ca/x509.ts'
import { WARM_UP_PATH, warmSigningPath, warmTlsListener } from './warm-up.ts'

describe('warmSigningPath', () => {
  it('has the signer sign one valid CSR for the server warm-up ID of its trust domain', async () => {
    const calls: { csr: string; spiffeId: string }[] = []
    const signer = {
      async signAgentCsr(csr: string, spiffeId: string) {
        calls.push({ csr, spiffeId })
        return {} as IssuedCertificate
      },
    }
    await warmSigningPath(signer, 'example.org')
    expect(calls.map((call) => call.spiffeId)).toEqual(['spiffe://example.org/spire/server/warm-up'])
    const csr = new x509.Pkcs10CertificateRequest(calls[0]?.csr ?? '')
    expect(await csr.verify()).toBe(true)
  })
})

describe('warmTlsListener', () => {
  let server: Server | undefined
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
    server = undefined
  })

  /** An HTTPS server on loopback with a throwaway self-signed certificate, answering `status`. */
  async function listen(status: number, paths: string[]): Promise<number> {
    const pem = execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        '-',
        '-subj',
        '/CN=localhost',
        '-days',
        '1',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    )
    server = createServer({ key: pem, cert: pem }, (req, res) => {
      paths.push(`${req.method} ${req.url}`)
      res.statusCode = status
      res.end()
    })
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('no port')
    return address.port
  }

  it('makes exactly one GET of the health path, on loopback for a wildcard bind address', async () => {
    const paths: string[] = []
    const port = await listen(200, paths)
    await warmTlsListener('0.0.0.0', port)
    expect(paths).toEqual([`GET ${WARM_UP_PATH}`])
  })

  it('rejects, naming the status, when the listener does not answer 200', async () => {
    const port = await listen(503, [])
    await expect(warmTlsListener('127.0.0.1', port)).rejects.toThrow(`answered 503`)
  })
})
