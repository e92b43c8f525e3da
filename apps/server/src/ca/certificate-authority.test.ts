import { createPublicKey, X509Certificate as NodeX509Certificate } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ATT_ERR_CA_STORE_INVALID, ATT_ERR_CSR_INVALID, CaStoreError, CsrError } from './ca-errors.ts'
import { CaStore } from './ca-store.ts'
import { CertificateAuthority, type CertificateAuthorityOptions } from './certificate-authority.ts'
import { createTestCsr, tamperWithSignature } from './test-support/csr.ts'
import { ManualClock } from './test-support/manual-clock.ts'
import { opensslVerify } from './test-support/openssl.ts'
import { x509 } from './x509.ts'

const HOUR = 3_600_000
const TRUST_DOMAIN = 'example.org'
const AGENT_ID = 'spiffe://example.org/spire/agent/k8s_psat/demo/6d2c9b1e-node'
const START = new Date('2026-11-24T00:00:00Z')

/** URI, DNS and IP SANs of a certificate, in order. */
function sans(certificate: x509.X509Certificate): string[] {
  const extension = certificate.getExtension(x509.SubjectAlternativeNameExtension)
  return extension?.names.items.map((name) => `${name.type}:${name.value}`) ?? []
}

function spkiOf(certificate: x509.X509Certificate): Buffer {
  return Buffer.from(certificate.publicKey.rawData)
}

describe('CertificateAuthority', () => {
  let dataDir: string
  let clock: ManualClock

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'k8s-attest-ca-'))
    clock = new ManualClock(START)
  })
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  function open(options: Partial<CertificateAuthorityOptions> = {}) {
    return CertificateAuthority.open({
      dataDir,
      trustDomain: TRUST_DOMAIN,
      caTtlMs: 6 * HOUR,
      agentTtlMs: HOUR / 2,
      now: clock.now,
      ...options,
    })
  }

  async function caFiles(): Promise<string[]> {
    return (await readdir(join(dataDir, 'ca'))).sort()
  }

  describe('its CA files', () => {
    it('creates an EC P-256 CA on first start, its key readable by the owner only', async () => {
      const ca = await open()
      const files = await caFiles()
      expect(files).toHaveLength(3)
      const [id] = files[0]?.split('-cert.pem') ?? []
      expect(files).toEqual([`${id}-cert.pem`, `${id}-key.pem`, 'bundle.pem'])
      expect((await stat(join(dataDir, 'ca', `${id}-key.pem`))).mode & 0o777).toBe(0o600)
      expect(await readFile(join(dataDir, 'ca', 'bundle.pem'), 'utf8')).toBe(`${ca.signingCertificatePem}\n`)

      const certificate = new x509.X509Certificate(ca.signingCertificatePem)
      expect(certificate.subject).toBe('O=k8s-attest, CN=k8s-attest CA')
      expect(certificate.issuer).toBe(certificate.subject)
      expect(await certificate.isSelfSigned()).toBe(true)
      expect(certificate.publicKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' })
      expect(sans(certificate)).toEqual(['url:spiffe://example.org'])
      expect(certificate.getExtension(x509.BasicConstraintsExtension)).toMatchObject({
        ca: true,
        pathLength: 0,
        critical: true,
      })
      expect(certificate.getExtension(x509.KeyUsagesExtension)).toMatchObject({
        usages: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        critical: true,
      })
      expect(certificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/)
      expect(certificate.notBefore).toEqual(new Date(START.getTime() - 10_000))
      expect(certificate.notAfter).toEqual(new Date(START.getTime() + 6 * HOUR))
    })

    it('returns the same CA after a restart', async () => {
      const first = await open()
      clock.advance(HOUR)
      const second = await open()
      expect(second.signingCertificatePem).toBe(first.signingCertificatePem)
      const svid = await second.signAgentCsr((await createTestCsr()).pem, AGENT_ID)
      const issuer = new NodeX509Certificate(first.signingCertificatePem)
      expect(new NodeX509Certificate(svid.certificatePem).verify(issuer.publicKey)).toBe(true)
    })

    it('refuses to start on a CA of another trust domain', async () => {
      await open()
      const [certificateFile] = await caFiles()
      const error = await open({ trustDomain: 'other.org' }).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(CaStoreError)
      expect(error).toMatchObject({
        code: ATT_ERR_CA_STORE_INVALID,
        path: join(dataDir, 'ca', certificateFile ?? ''),
      })
      expect((error as Error).message).toContain(
        'is a CA for "spiffe://example.org", but the configured trust domain is "other.org"',
      )
    })

    it('refuses to start when a key does not match its certificate', async () => {
      await open()
      const otherDir = await mkdtemp(join(tmpdir(), 'k8s-attest-ca-other-'))
      await CertificateAuthority.open({
        dataDir: otherDir,
        trustDomain: TRUST_DOMAIN,
        caTtlMs: 6 * HOUR,
        agentTtlMs: HOUR,
      })
      const otherKey = (await readdir(join(otherDir, 'ca'))).find((name) => name.endsWith('-key.pem')) ?? ''
      const ownKey = (await caFiles()).find((name) => name.endsWith('-key.pem')) ?? ''
      await writeFile(join(dataDir, 'ca', ownKey), await readFile(join(otherDir, 'ca', otherKey)))
      await rm(otherDir, { recursive: true, force: true })

      const error = await open().catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(CaStoreError)
      expect((error as CaStoreError).path).toBe(join(dataDir, 'ca', ownKey))
      expect((error as Error).message).toMatch(/: does not match the public key of .*-cert\.pem$/)
    })

    it('refuses to start on a certificate file that does not parse', async () => {
      await open()
      const certificateFile = (await caFiles())[0] ?? ''
      await writeFile(join(dataDir, 'ca', certificateFile), 'not a certificate')
      const error = await open().catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(CaStoreError)
      expect((error as Error).message).toBe(
        `${join(dataDir, 'ca', certificateFile)}: is not a PEM certificate`,
      )
    })

    it('completes a CA whose creation stopped between the key and the certificate', async () => {
      const first = await open()
      const certificateFile = (await caFiles())[0] ?? ''
      await unlink(join(dataDir, 'ca', certificateFile))
      const second = await open()
      const before = new x509.X509Certificate(first.signingCertificatePem)
      const after = new x509.X509Certificate(second.signingCertificatePem)
      expect(spkiOf(after)).toEqual(spkiOf(before))
      expect(await caFiles()).toContain(certificateFile)
    })

    it('refuses invalid options as programming errors', async () => {
      await expect(open({ trustDomain: 'Example.org' })).rejects.toThrow(
        new TypeError(
          'trustDomain option: invalid trust domain "Example.org": the trust domain may contain only lowercase letters, digits, ".", "-" and "_" (found "E"; trust domains are lowercase)',
        ),
      )
      await expect(open({ caTtlMs: 0 })).rejects.toThrow(
        new TypeError('caTtlMs must be a positive number of milliseconds; got 0'),
      )
    })
  })

  describe('signing agent CSRs', () => {
    it('checks its issuance path at start, without touching its files or the bundle', async () => {
      const ca = await open()
      const files = await caFiles()
      const bundle = ca.bundle()
      await expect(ca.checkIssuance()).resolves.toBeUndefined()
      expect(await caFiles()).toEqual(files)
      expect(ca.bundle()).toBe(bundle)
    })

    it('issues an X.509 SVID for the CSR key with SPIRE agent SVID extensions', async () => {
      const ca = await open()
      const csr = await createTestCsr()
      clock.advance(1_500)
      const svid = await ca.signAgentCsr(csr.pem, AGENT_ID)
      const leaf = new x509.X509Certificate(svid.certificatePem)
      const caCertificate = new x509.X509Certificate(ca.signingCertificatePem)

      expect(spkiOf(leaf)).toEqual(Buffer.from(await crypto.subtle.exportKey('spki', csr.keys.publicKey)))
      expect(sans(leaf)).toEqual([`url:${AGENT_ID}`])
      expect(leaf.subject).toBe('O=k8s-attest')
      expect(leaf.issuer).toBe(caCertificate.subject)
      expect(leaf.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: false, critical: true })
      expect(leaf.getExtension(x509.KeyUsagesExtension)).toMatchObject({
        usages:
          x509.KeyUsageFlags.digitalSignature |
          x509.KeyUsageFlags.keyEncipherment |
          x509.KeyUsageFlags.keyAgreement,
        critical: true,
      })
      expect(leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ])
      expect(leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(
        caCertificate.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId,
      )
      expect(leaf.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/)

      // Validity: 10 s backdate and agent_ttl, at the second precision of X.509 times.
      expect(svid.notBefore).toEqual(new Date(START.getTime() + 1_000 - 10_000))
      expect(svid.notAfter).toEqual(new Date(START.getTime() + 1_000 + HOUR / 2))
      expect(svid.notBefore).toEqual(leaf.notBefore)
      expect(svid.notAfter).toEqual(leaf.notAfter)

      // Node prints the serial with its leading zero digits (1 time in 16); serialHex drops them.
      expect(svid.serialHex).toBe(leaf.serialNumber.toLowerCase().replace(/^0+(?=.)/, ''))
      expect(svid.serialHex).toMatch(/^[0-9a-f]{1,32}$/)
      // Leaf and intermediates (none): the self-signed root travels in the bundle only.
      expect(svid.chainPem).toBe(`${svid.certificatePem}\n`)
    })

    it('issues certificates that chain to the bundle', async () => {
      const ca = await open()
      const svid = await ca.signAgentCsr((await createTestCsr({ algorithm: 'RSA 2048' })).der, AGENT_ID)
      const bundle = ca.bundle().certificatesPem.map((pem) => new x509.X509Certificate(pem))
      const chain = await new x509.X509ChainBuilder({ certificates: bundle }).build(
        new x509.X509Certificate(svid.certificatePem),
      )
      const [root] = bundle
      if (root === undefined) throw new Error('the bundle is empty')
      expect(chain).toHaveLength(2)
      expect(chain[1]?.equal(root)).toBe(true)
      expect(await chain[0]?.verify({ publicKey: root.publicKey, date: clock.now() })).toBe(true)
    })

    it('names only the SPIFFE ID it is given, whatever the CSR asks for', async () => {
      const ca = await open()
      const csr = await createTestCsr({
        subject: 'CN=spire-server, O=Evil',
        requestedNames: [
          { type: 'url', value: 'spiffe://evil.org/admin' },
          { type: 'url', value: 'spiffe://example.org/spire/server' },
          { type: 'dns', value: 'kubernetes.default.svc' },
          { type: 'ip', value: '10.0.0.1' },
        ],
      })
      const leaf = new x509.X509Certificate((await ca.signAgentCsr(csr.pem, AGENT_ID)).certificatePem)
      expect(sans(leaf)).toEqual([`url:${AGENT_ID}`])
      expect(leaf.subject).toBe('O=k8s-attest')
    })

    it('refuses a CSR whose signature was tampered with', async () => {
      const ca = await open()
      const csr = await createTestCsr()
      const error = await ca
        .signAgentCsr(tamperWithSignature(csr.der), AGENT_ID)
        .catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(CsrError)
      expect(error).toMatchObject({ code: ATT_ERR_CSR_INVALID, check: 'signature' })
    })

    it('refuses a key type it does not sign for', async () => {
      const ca = await open()
      const error = await ca
        .signAgentCsr((await createTestCsr({ algorithm: 'Ed25519' })).pem, AGENT_ID)
        .catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: ATT_ERR_CSR_INVALID, check: 'public-key' })
    })

    it('refuses, as a programming error, a SPIFFE ID outside its trust domain or malformed', async () => {
      const ca = await open()
      const { pem } = await createTestCsr()
      await expect(ca.signAgentCsr(pem, 'spiffe://evil.org/spire/agent/x')).rejects.toThrow(
        new TypeError(
          'spiffeId "spiffe://evil.org/spire/agent/x" is not in this CA\'s trust domain "example.org"',
        ),
      )
      await expect(ca.signAgentCsr(pem, 'spiffe://example.org')).rejects.toThrow(
        new TypeError(
          'spiffeId: invalid SPIFFE ID "spiffe://example.org": it names the trust domain itself; a path is required, e.g. "spiffe://example.org/workload"',
        ),
      )
      await expect(ca.signAgentCsr(pem, 'spiffe://example.org/a/../b')).rejects.toThrow(
        expect.objectContaining({ name: 'TypeError', message: expect.stringContaining('"." or ".."') }),
      )
    })

    it('takes another lifetime when asked (x509 mint -ttl), still cut at the CA expiry', async () => {
      const ca = await open()
      const { pem } = await createTestCsr()
      const svid = await ca.signAgentCsr(pem, AGENT_ID, { ttlMs: 2 * HOUR })
      expect(svid.notAfter).toEqual(new Date(START.getTime() + 2 * HOUR))
      const capped = await ca.signAgentCsr(pem, AGENT_ID, { ttlMs: 100 * HOUR })
      expect(capped.notAfter).toEqual(new Date(START.getTime() + 6 * HOUR))
      await expect(ca.signAgentCsr(pem, AGENT_ID, { ttlMs: 0 })).rejects.toThrow(
        new TypeError('ttlMs must be a positive number of milliseconds; got 0'),
      )
    })

    it("cuts the SVID at the signing CA's expiry", async () => {
      const ca = await open({ agentTtlMs: 1.5 * HOUR })
      clock.advance(4.9 * HOUR)
      const svid = await ca.signAgentCsr((await createTestCsr()).pem, AGENT_ID)
      const signer = new x509.X509Certificate(ca.signingCertificatePem)
      expect(signer.notAfter).toEqual(new Date(START.getTime() + 6 * HOUR))
      expect(svid.notAfter).toEqual(signer.notAfter)
    })
  })

  describe('rotation', () => {
    it('prepares a successor at half-life, hands over at five sixths, drops the old CA at its expiry', async () => {
      const ca = await open()
      const original = ca.signingCertificatePem
      // Half of the lifetime, which runs from START - 10 s (the backdate) to START + 6 h.
      expect(ca.nextRotationCheckAt).toEqual(new Date(START.getTime() + 3 * HOUR - 5_000))

      clock.advance(2.9 * HOUR)
      expect(await ca.rotateIfDue()).toEqual({ signingCaChanged: false, bundleChanged: false })

      // Half of the lifetime: the successor is published, the original still signs.
      clock.advance(0.1 * HOUR)
      expect(await ca.rotateIfDue()).toEqual({ signingCaChanged: false, bundleChanged: true })
      expect(ca.signingCertificatePem).toBe(original)
      expect(ca.bundle().certificatesPem).toHaveLength(2)
      expect(ca.bundle().certificatesPem[0]).toBe(original)
      expect((await caFiles()).filter((name) => name.endsWith('-key.pem'))).toHaveLength(2)

      // A restart in between comes back to the same state.
      const restarted = await open()
      expect(restarted.signingCertificatePem).toBe(original)
      expect(restarted.bundle().pem).toBe(ca.bundle().pem)

      // 1/6 of the lifetime left: the successor signs, the original loses its key.
      clock.advance(2 * HOUR)
      expect(await ca.rotateIfDue()).toEqual({ signingCaChanged: true, bundleChanged: false })
      const successor = ca.signingCertificatePem
      expect(successor).not.toBe(original)
      expect((await caFiles()).filter((name) => name.endsWith('-key.pem'))).toHaveLength(1)
      const svid = await ca.signAgentCsr((await createTestCsr()).pem, AGENT_ID)
      expect(
        new NodeX509Certificate(svid.certificatePem).verify(new NodeX509Certificate(successor).publicKey),
      ).toBe(true)
      expect(ca.bundle().certificatesPem).toEqual([original, successor])

      // The original expires and leaves the bundle and the disk; by then the successor is at half
      // of its own lifetime, so the next CA has been prepared.
      clock.advance(HOUR)
      expect(await ca.rotateIfDue()).toEqual({ signingCaChanged: false, bundleChanged: true })
      const [stillSigning, next] = ca.bundle().certificatesPem
      expect(ca.bundle().certificatesPem).toHaveLength(2)
      expect(stillSigning).toBe(successor)
      expect(ca.signingCertificatePem).toBe(successor)
      expect(next).not.toBe(original)
      expect(await readFile(join(dataDir, 'ca', 'bundle.pem'), 'utf8')).toBe(`${successor}\n${next}\n`)
      expect(await caFiles()).toHaveLength(5)
      expect((await caFiles()).filter((name) => name.endsWith('-key.pem'))).toHaveLength(2)
    })

    it('rotates before signing even when nobody called rotateIfDue', async () => {
      const ca = await open()
      const original = ca.signingCertificatePem
      clock.advance(5.5 * HOUR)
      const svid = await ca.signAgentCsr((await createTestCsr()).pem, AGENT_ID)
      expect(ca.signingCertificatePem).not.toBe(original)
      expect(
        new NodeX509Certificate(svid.certificatePem).verify(
          new NodeX509Certificate(ca.signingCertificatePem).publicKey,
        ),
      ).toBe(true)
    })

    it('starts a new CA when the server was down past the expiry of the old one', async () => {
      const first = await open()
      clock.advance(7 * HOUR)
      const second = await open()
      expect(second.signingCertificatePem).not.toBe(first.signingCertificatePem)
      expect(second.bundle().certificatesPem).toEqual([second.signingCertificatePem])
      expect(await caFiles()).toHaveLength(3)
    })

    it('leaves every change of the files to the maintaining process when told to (workers)', async () => {
      const primary = await open()
      let asked = 0
      const maintain = async () => {
        asked += 1
        await primary.reconcileNow()
      }
      const workers = await Promise.all([open({ maintain }), open({ maintain })])
      expect(asked).toBe(0)
      for (const worker of workers) expect(worker.signingCertificatePem).toBe(primary.signingCertificatePem)

      // Half-life: both workers find a successor due at once; the primary prepares exactly one.
      clock.advance(3 * HOUR)
      const before = await caFiles()
      const outcomes = await Promise.all(workers.map((worker) => worker.rotateIfDue()))
      expect(asked).toBeGreaterThanOrEqual(1)
      expect(outcomes).toEqual([
        { signingCaChanged: false, bundleChanged: true },
        { signingCaChanged: false, bundleChanged: true },
      ])
      expect((await caFiles()).filter((name) => name.endsWith('-key.pem'))).toHaveLength(2)
      expect((await caFiles()).length).toBe(before.length + 2)
      for (const worker of workers) expect(worker.bundle().pem).toBe(primary.bundle().pem)
      expect(await readFile(join(dataDir, 'ca', 'bundle.pem'), 'utf8')).toBe(primary.bundle().pem)
    })

    it("picks up, within a timer's call, a successor another process sharing data_dir prepared early", async () => {
      // B's clock lags A's by 40 minutes (two nodes, one shared volume): by its own schedule
      // B would read the directory only at its half-life, and meanwhile serve and publish a
      // bundle without A's successor.
      const a = await open()
      const lagging = new ManualClock(START)
      const b = await open({ now: lagging.now })
      clock.advance(3 * HOUR)
      lagging.advance(3 * HOUR - 40 * 60_000)
      expect(await a.rotateIfDue()).toEqual({ signingCaChanged: false, bundleChanged: true })
      expect(await b.rotateIfDue()).toEqual({ signingCaChanged: false, bundleChanged: false })
      expect(b.bundle().certificatesPem).toHaveLength(1)

      expect(await b.rotateIfDueOrChanged()).toEqual({ signingCaChanged: false, bundleChanged: true })
      expect(b.bundle().pem).toBe(a.bundle().pem)
      expect(b.signingCertificatePem).toBe(a.signingCertificatePem)
      // Nothing changed since: no second read, and at B's own half-life no second successor.
      const reads = vi.spyOn(CaStore.prototype, 'readAll')
      try {
        expect(await b.rotateIfDueOrChanged()).toEqual({ signingCaChanged: false, bundleChanged: false })
        expect(await a.rotateIfDueOrChanged()).toEqual({ signingCaChanged: false, bundleChanged: false })
        expect(reads).not.toHaveBeenCalled()
      } finally {
        reads.mockRestore()
      }
      lagging.advance(40 * 60_000)
      await b.rotateIfDueOrChanged()
      expect((await caFiles()).filter((name) => name.endsWith('-key.pem'))).toHaveLength(2)
      expect(b.bundle().pem).toBe(a.bundle().pem)
    })

    it('does not read the directory again for the files of its own rotation', async () => {
      const ca = await open()
      clock.advance(3 * HOUR) // successor prepared
      await ca.rotateIfDueOrChanged()
      clock.advance(2 * HOUR) // takeover: the old CA's key is deleted
      expect(await ca.rotateIfDueOrChanged()).toEqual({ signingCaChanged: true, bundleChanged: false })
      clock.advance(HOUR + 1000) // the old CA expires and is removed
      expect(await ca.rotateIfDueOrChanged()).toMatchObject({ bundleChanged: true })
      const reads = vi.spyOn(CaStore.prototype, 'readAll')
      try {
        expect(await ca.rotateIfDueOrChanged()).toEqual({ signingCaChanged: false, bundleChanged: false })
        expect(reads).not.toHaveBeenCalled()
      } finally {
        reads.mockRestore()
      }
    })

    it('reports an unreadable CA file at every check until it is fixed, not once', async () => {
      const ca = await open()
      const stray = join(dataDir, 'ca', '20261124T010000Z-0badf00d-cert.pem')
      await writeFile(stray, 'not a certificate')
      await expect(ca.rotateIfDueOrChanged()).rejects.toMatchObject({ code: ATT_ERR_CA_STORE_INVALID })
      await expect(ca.rotateIfDueOrChanged()).rejects.toMatchObject({ code: ATT_ERR_CA_STORE_INVALID })
      await unlink(stray)
      expect(await ca.rotateIfDueOrChanged()).toEqual({ signingCaChanged: false, bundleChanged: false })
      expect(ca.bundle().certificatesPem).toHaveLength(1)
    })

    it('drops a CA an operator removed from the directory at the next check', async () => {
      const ca = await open()
      clock.advance(3 * HOUR)
      await ca.rotateIfDue()
      expect(ca.bundle().certificatesPem).toHaveLength(2)
      const successor = (await caFiles())
        .filter((name) => name.endsWith('.pem') && name !== 'bundle.pem')
        .at(-1)
      const id = successor?.replace(/-(key|cert)\.pem$/, '')
      await unlink(join(dataDir, 'ca', `${id}-key.pem`))
      await unlink(join(dataDir, 'ca', `${id}-cert.pem`))
      expect(await ca.rotateIfDue()).toEqual({ signingCaChanged: false, bundleChanged: false })
      // The successor is gone, so a new one is due at once (half-life is past).
      expect(await ca.rotateIfDueOrChanged()).toEqual({ signingCaChanged: false, bundleChanged: true })
      expect((await caFiles()).some((name) => name.startsWith(id ?? '-'))).toBe(false)
      expect(ca.bundle().certificatesPem).toHaveLength(2)
    })

    it('never creates a CA itself when another process maintains the files', async () => {
      const maintain = async () => undefined
      await expect(open({ maintain })).rejects.toThrow('CA rotation did not settle after 3 rounds')
      expect(await caFiles()).toEqual([])
    })

    it('shares one run between concurrent callers', async () => {
      const ca = await open()
      clock.advance(3 * HOUR)
      const [first, second] = await Promise.all([ca.rotateIfDue(), ca.rotateIfDue()])
      expect(first).toEqual({ signingCaChanged: false, bundleChanged: true })
      expect(second).toBe(first)
      expect(ca.bundle().certificatesPem).toHaveLength(2)
    })
  })

  describe('the serving certificate', () => {
    it('names the server SPIFFE ID, the DNS names and 127.0.0.1, and lives as long as the CA', async () => {
      const ca = await open()
      clock.advance(HOUR)
      const serving = await ca.issueServingCertificate({ dnsNames: ['localhost', 'spire-server.spire.svc'] })
      const leaf = new x509.X509Certificate(serving.certificatePem)
      expect(sans(leaf)).toEqual([
        'url:spiffe://example.org/spire/server',
        'dns:localhost',
        'dns:spire-server.spire.svc',
        'ip:127.0.0.1',
      ])
      expect(leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([
        x509.ExtendedKeyUsage.serverAuth,
      ])
      expect(leaf.getExtension(x509.KeyUsagesExtension)).toMatchObject({
        usages: x509.KeyUsageFlags.digitalSignature,
        critical: true,
      })
      expect(serving.notAfter).toEqual(new x509.X509Certificate(ca.signingCertificatePem).notAfter)
      const keyFromPem = createPublicKey(serving.privateKeyPem).export({ type: 'spki', format: 'der' })
      expect(keyFromPem).toEqual(spkiOf(leaf))
    })

    it('takes the IP addresses it is given', async () => {
      const ca = await open()
      const serving = await ca.issueServingCertificate({ dnsNames: [], ipAddresses: ['10.96.0.10', '::1'] })
      expect(sans(new x509.X509Certificate(serving.certificatePem))).toEqual([
        'url:spiffe://example.org/spire/server',
        'ip:10.96.0.10',
        'ip:::1',
      ])
    })
  })

  describe('the bundle', () => {
    it('is published as a SPIFFE bundle in JWKS form', async () => {
      const ca = await open()
      const certificate = new NodeX509Certificate(ca.signingCertificatePem)
      const jwk = certificate.publicKey.export({ format: 'jwk' })
      expect(ca.bundle().jwks).toEqual({
        keys: [
          {
            kty: 'EC',
            crv: 'P-256',
            x: jwk.x,
            y: jwk.y,
            use: 'x509-svid',
            x5c: [certificate.raw.toString('base64')],
          },
        ],
        spiffe_sequence: Math.floor((START.getTime() - 10_000) / 1000),
        spiffe_refresh_hint: 300,
      })
    })

    it('asks for refreshes often enough to see a successor before it signs, even with a short ca_ttl', async () => {
      const ca = await open({ caTtlMs: 10 * 60_000, agentTtlMs: 60_000 })
      expect(ca.bundle().jwks.spiffe_refresh_hint).toBe(50)
    })
  })

  describe('checked by OpenSSL', () => {
    it('issues agent SVIDs and serving certificates that `openssl verify -x509_strict` accepts', async () => {
      const ca = await open({ now: () => new Date() })
      const svid = await ca.signAgentCsr((await createTestCsr()).pem, AGENT_ID)
      const serving = await ca.issueServingCertificate({ dnsNames: ['localhost'] })
      const bundle = ca.bundle().pem
      await expect(opensslVerify(bundle, svid.certificatePem, 'sslclient')).resolves.toMatch(/: OK$/)
      await expect(opensslVerify(bundle, svid.certificatePem, 'sslserver')).resolves.toMatch(/: OK$/)
      await expect(opensslVerify(bundle, serving.certificatePem, 'sslserver')).resolves.toMatch(/: OK$/)
    })

    it('rejects a leaf against a bundle it does not belong to', async () => {
      const ca = await open({ now: () => new Date() })
      const otherDir = await mkdtemp(join(tmpdir(), 'k8s-attest-ca-other-'))
      const other = await CertificateAuthority.open({
        dataDir: otherDir,
        trustDomain: TRUST_DOMAIN,
        caTtlMs: 6 * HOUR,
        agentTtlMs: HOUR,
      })
      await rm(otherDir, { recursive: true, force: true })
      const svid = await ca.signAgentCsr((await createTestCsr()).pem, AGENT_ID)
      await expect(opensslVerify(other.bundle().pem, svid.certificatePem, 'sslclient')).rejects.toThrow(
        /openssl verify failed: .*unable to get local issuer certificate/s,
      )
    })
  })
})
