import { X509Certificate } from 'node:crypto'
import { connect, type PeerCertificate } from 'node:tls'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { rotateServingCertificate } from '../src/app.ts'
import { createTestCsr } from '../src/ca/test-support/csr.ts'
import { ManualClock } from '../src/ca/test-support/manual-clock.ts'
import { KubeWorld } from './kube-world.ts'
import { type RunningServer, startServer } from './server-harness.ts'

/*
 * When the CA rotates, the listener gets a serving certificate from the new signing CA
 * (setSecureContext), and the bundle lists both CAs.
 */

let world: KubeWorld
let server: RunningServer
const clock = new ManualClock(new Date())

beforeAll(async () => {
  world = await KubeWorld.start()
  server = await startServer({ clusters: { psat: { demo: { world } } }, now: clock.now })
})

afterAll(async () => {
  await server?.close()
  await world?.stop()
})

/** The certificate a new connection is served (not verified: the manual clock runs ahead). */
async function servedCertificate(): Promise<PeerCertificate> {
  const port = Number(new URL(server.url).port)
  const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve)
    socket.once('error', reject)
  })
  const certificate = socket.getPeerCertificate()
  socket.destroy()
  return certificate
}

it('serves a certificate of the new signing CA after a rotation', async () => {
  const firstCa = new X509Certificate(server.ca.signingCertificatePem)
  const before = await servedCertificate()
  expect(new X509Certificate(before.raw).checkIssued(firstCa)).toBe(true)
  // Past 5/6 of the CA's 24 h lifetime: a successor has taken over.
  clock.advance(21 * 3_600_000)
  await rotateServingCertificate(server.app, server.ca, ['localhost'])
  const secondCa = new X509Certificate(server.ca.signingCertificatePem)
  expect(secondCa.fingerprint256).not.toBe(firstCa.fingerprint256)
  expect(server.ca.bundle().certificatesPem).toHaveLength(2)
  const after = await servedCertificate()
  expect(after.serialNumber).not.toBe(before.serialNumber)
  expect(new X509Certificate(after.raw).checkIssued(secondCa)).toBe(true)
})

it('serves a certificate of the new signing CA when a signature ran the rotation first', async () => {
  const ca = server.ca
  const before = await servedCertificate()
  // Past the next takeover; an attestation's signature notices first and rotates the CA.
  clock.advance(21 * 3_600_000)
  await ca.signAgentCsr((await createTestCsr()).pem, 'spiffe://example.org/spire/agent/k8s_sat/demo/1')
  const signingCa = new X509Certificate(ca.signingCertificatePem)
  expect(new X509Certificate(before.raw).checkIssued(signingCa)).toBe(false)
  await rotateServingCertificate(server.app, ca, ['localhost'])
  const after = await servedCertificate()
  expect(new X509Certificate(after.raw).checkIssued(signingCa)).toBe(true)
})
