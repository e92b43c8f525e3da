import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type ConnectionOptions,
  connect,
  createServer,
  type PeerCertificate,
  type Server,
  type TLSSocket,
} from 'node:tls'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CertificateAuthority } from './certificate-authority.ts'
import { createTestCsr } from './test-support/csr.ts'
import { x509 } from './x509.ts'

const HOUR = 3_600_000
const AGENT_ID = 'spiffe://example.org/spire/agent/k8s_psat/demo/node-1'

/** Connects to `server` and resolves with the socket once the handshake is done (or rejects). */
function handshake(server: Server, options: ConnectionOptions): Promise<TLSSocket> {
  const { port } = server.address() as AddressInfo
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ...options }, () => resolve(socket))
    socket.once('error', reject)
  })
}

describe('TLS with the CA certificates (real sockets on 127.0.0.1)', () => {
  let dataDir: string
  let ca: CertificateAuthority
  let server: Server
  const clientCertificates: PeerCertificate[] = []
  const openSockets = new Set<Socket>()

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'k8s-attest-tls-'))
    ca = await CertificateAuthority.open({
      dataDir,
      trustDomain: 'example.org',
      caTtlMs: 24 * HOUR,
      agentTtlMs: HOUR,
    })
    const serving = await ca.issueServingCertificate({ dnsNames: ['localhost'] })
    server = createServer(
      {
        key: serving.privateKeyPem,
        cert: serving.chainPem,
        ca: ca.bundle().pem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (socket) => {
        clientCertificates.push(socket.getPeerCertificate())
        socket.end('ok')
      },
    )
    server.on('connection', (socket: Socket) => {
      openSockets.add(socket)
      socket.once('close', () => openSockets.delete(socket))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  })
  afterEach(async () => {
    // Close whatever a failed test left open, so close() does not wait for it.
    for (const socket of openSockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
    await rm(dataDir, { recursive: true, force: true })
  })

  it('lets a client that trusts the bundle verify the server by DNS name and by IP address', async () => {
    for (const options of [{ servername: 'localhost' }, {}]) {
      const socket = await handshake(server, { ca: ca.bundle().pem, ...options })
      expect(socket.authorized).toBe(true)
      expect(socket.getPeerCertificate().subjectaltname).toBe(
        'URI:spiffe://example.org/spire/server, DNS:localhost, IP Address:127.0.0.1',
      )
      socket.destroy()
    }
  })

  it('refuses the server to a client with another bundle', async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'k8s-attest-tls-other-'))
    const other = await CertificateAuthority.open({
      dataDir: otherDir,
      trustDomain: 'example.org',
      caTtlMs: HOUR,
      agentTtlMs: HOUR / 6,
    })
    await rm(otherDir, { recursive: true, force: true })
    // OpenSSL sends the CA along (built from `ca`), which the client does not trust.
    await expect(
      handshake(server, { ca: other.bundle().pem, servername: 'localhost' }),
    ).rejects.toMatchObject({
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    })
  })

  it('accepts an agent SVID as a TLS client certificate', async () => {
    const csr = await createTestCsr()
    const svid = await ca.signAgentCsr(csr.pem, AGENT_ID)
    const key = x509.PemConverter.encode(
      await crypto.subtle.exportKey('pkcs8', csr.keys.privateKey),
      'PRIVATE KEY',
    )
    const socket = await handshake(server, {
      ca: ca.bundle().pem,
      servername: 'localhost',
      key,
      cert: svid.chainPem,
    })
    let reply = ''
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      reply += chunk
    })
    await new Promise((resolve) => socket.once('end', resolve))
    expect(reply).toBe('ok')
    expect(clientCertificates.at(-1)?.subjectaltname).toBe(`URI:${AGENT_ID}`)
    socket.destroy()
  })
})
