import { execFileSync } from 'node:child_process'
import { createServer } from 'node:https'
import { FreshTlsClient } from './load-series.ts'

/**
 * Warms the bench's own HTTPS client — its first TLS handshakes and request code — on a
 * throwaway HTTPS server in this process, so that "first attestation after start" measures the
 * attestation server's first request, not the load generator's.
 */
export async function warmBenchClient(requests = 3): Promise<void> {
  // A self-signed certificate and its (unencrypted) P-256 key, both in one PEM.
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
      '/CN=bench-client-warm-up',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-days',
      '1',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  )
  const server = createServer({ key: pem, cert: pem }, (req, res) => {
    req.resume()
    req.on('end', () => res.end('{}'))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('the warm-up server has no port')
    const client = new FreshTlsClient(`https://127.0.0.1:${address.port}`, pem)
    for (let index = 0; index < requests; index++) await client.time('POST', '/', '{"warm":"up"}')
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
}
