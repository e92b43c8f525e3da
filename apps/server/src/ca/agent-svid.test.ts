import { KeyObject, X509Certificate as NodeX509Certificate, randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  AGENT_SVID_EXTENDED_KEY_USAGES,
  AGENT_SVID_KEY_USAGES,
  createAgentSvidTemplate,
  issueAgentSvid,
} from './agent-svid.ts'
import { CA_KEY_ALGORITHM, createCaCertificate } from './ca-certificate.ts'
import { readDerElement } from './der.ts'
import { issueLeafCertificate, type SigningCa } from './leaf-certificate.ts'
import { createTestCsr, type TestKeyAlgorithm } from './test-support/csr.ts'
import { opensslVerify } from './test-support/openssl.ts'
import { x509 } from './x509.ts'

const HOUR = 3_600_000
const AGENT_ID = 'spiffe://example.org/spire/agent/k8s_psat/demo/0d11468a-281b-4872-a1d9-6ddda0e87aab'

async function signingCa(now: Date, ttlMs = 24 * HOUR): Promise<SigningCa & { keyObject: KeyObject }> {
  const keys = await crypto.subtle.generateKey(CA_KEY_ALGORITHM, true, ['sign', 'verify'])
  const certificate = await createCaCertificate({
    publicKey: keys.publicKey,
    privateKey: keys.privateKey,
    trustDomain: 'example.org',
    now,
    ttlMs,
  })
  return { certificate, privateKey: keys.privateKey, keyObject: KeyObject.from(keys.privateKey) }
}

async function agentKey(algorithm: TestKeyAlgorithm = 'EC P-256') {
  const csr = await createTestCsr({ algorithm })
  return new x509.Pkcs10CertificateRequest(new Uint8Array(csr.der)).publicKey
}

/** The TBSCertificate of a PEM certificate, as its bytes: the first element of the outer SEQUENCE. */
function tbsOf(pem: string): Buffer {
  const outer = readDerElement(new Uint8Array(new x509.X509Certificate(pem).rawData))
  return Buffer.from(outer.contents.subarray(0, readDerElement(outer.contents).end))
}

/**
 * The certificate @peculiar/x509 issues for the same request: the reference the fast path
 * must match byte for byte, up to the signature (ECDSA signatures are randomised).
 */
async function libraryReference(
  ca: SigningCa,
  publicKey: x509.PublicKey,
  request: { spiffeId: string; ttlMs: number; now: Date; serialNumber: Uint8Array },
) {
  const issued = await issueLeafCertificate(ca, {
    publicKey,
    spiffeId: request.spiffeId,
    keyUsages: AGENT_SVID_KEY_USAGES,
    extendedKeyUsages: AGENT_SVID_EXTENDED_KEY_USAGES,
    ttlMs: request.ttlMs,
    now: request.now,
    serialNumber: Buffer.from(request.serialNumber).toString('hex'),
  })
  return { issued, certificate: new x509.X509Certificate(issued.certificatePem) }
}

async function compare(
  ca: SigningCa & { keyObject: KeyObject },
  publicKey: x509.PublicKey,
  request: { spiffeId: string; ttlMs: number; now: Date; serialNumber: Uint8Array },
) {
  const template = await createAgentSvidTemplate(ca, ca.keyObject)
  const fast = issueAgentSvid(template, {
    ...request,
    subjectPublicKeyInfo: new Uint8Array(publicKey.rawData),
  })
  const reference = await libraryReference(ca, publicKey, request)
  const parsed = new x509.X509Certificate(fast.certificatePem)
  expect(tbsOf(fast.certificatePem)).toEqual(tbsOf(reference.issued.certificatePem))
  expect(fast.serialHex).toBe(reference.issued.serialHex)
  expect(fast.notBefore).toEqual(reference.issued.notBefore)
  expect(fast.notAfter).toEqual(reference.issued.notAfter)
  expect(fast.chainPem.replace(fast.certificatePem, '')).toBe(
    reference.issued.chainPem.replace(reference.issued.certificatePem, ''),
  )
  return { fast, parsed }
}

describe('issueAgentSvid (the agent SVID fast path)', () => {
  it.each(['EC P-256', 'EC P-384', 'RSA 2048'] as const)(
    'writes the same TBSCertificate as @peculiar/x509 for a %s key, and a signature that verifies',
    async (algorithm) => {
      const now = new Date('2026-12-03T17:30:12.345Z')
      const ca = await signingCa(new Date(now.getTime() - HOUR))
      const { parsed } = await compare(ca, await agentKey(algorithm), {
        spiffeId: AGENT_ID,
        ttlMs: HOUR,
        now,
        serialNumber: randomBytes(16),
      })
      expect(await parsed.verify({ publicKey: ca.certificate.publicKey, signatureOnly: true })).toBe(true)
      expect(
        new NodeX509Certificate(Buffer.from(parsed.rawData)).checkIssued(
          new NodeX509Certificate(Buffer.from(ca.certificate.rawData)),
        ),
      ).toBe(true)
    },
  )

  it('agrees with the library on serials, times and SPIFFE IDs of every shape', async () => {
    const ca = await signingCa(new Date('2026-01-01T00:00:00Z'), 30 * 365 * 24 * HOUR)
    const publicKey = await agentKey()
    const template = await createAgentSvidTemplate(ca, ca.keyObject)
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 20 }).filter((bytes) => bytes.some((byte) => byte !== 0)),
        // Up to 2055: through 2049 times are UTCTime, from 2050 GeneralizedTime.
        fc.date({
          min: new Date('2026-01-01T00:00:05Z'),
          max: new Date('2055-06-01T00:00:00Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: 1, max: 48 * HOUR }),
        fc.stringMatching(/^[a-z0-9._-]{1,200}$/),
        async (serialNumber, now, ttlMs, segment) => {
          const request = {
            spiffeId: `spiffe://example.org/spire/agent/${segment}`,
            ttlMs,
            now,
            serialNumber,
          }
          const fast = issueAgentSvid(template, {
            ...request,
            subjectPublicKeyInfo: new Uint8Array(publicKey.rawData),
          })
          const reference = await libraryReference(ca, publicKey, request)
          expect(tbsOf(fast.certificatePem)).toEqual(tbsOf(reference.issued.certificatePem))
          expect(fast.serialHex).toBe(reference.issued.serialHex)
          // The PEM text too, line for line, as the library writes it for the same DER.
          const der = new x509.X509Certificate(fast.certificatePem).rawData
          expect(fast.certificatePem).toBe(x509.PemConverter.encode(der, 'CERTIFICATE'))
        },
      ),
      { numRuns: 60 },
    )
  })

  it('issues SVIDs that `openssl verify -x509_strict` accepts for client and server use', async () => {
    const now = new Date()
    const ca = await signingCa(new Date(now.getTime() - HOUR))
    const template = await createAgentSvidTemplate(ca, ca.keyObject)
    const publicKey = await agentKey()
    const svid = issueAgentSvid(template, {
      subjectPublicKeyInfo: new Uint8Array(publicKey.rawData),
      spiffeId: AGENT_ID,
      ttlMs: HOUR,
      now,
    })
    const bundle = ca.certificate.toString('pem')
    await expect(opensslVerify(bundle, svid.certificatePem, 'sslclient')).resolves.toMatch(/: OK$/)
    await expect(opensslVerify(bundle, svid.certificatePem, 'sslserver')).resolves.toMatch(/: OK$/)
  })

  it('never starts before its CA, and ends with it', async () => {
    const start = new Date('2026-11-24T00:00:00Z')
    const ca = await signingCa(start, 2 * HOUR)
    const publicKey = await agentKey()
    const { fast } = await compare(ca, publicKey, {
      spiffeId: AGENT_ID,
      ttlMs: 5 * HOUR,
      now: new Date(start.getTime() - 5_000),
      serialNumber: randomBytes(16),
    })
    expect(fast.notBefore).toEqual(ca.certificate.notBefore)
    expect(fast.notAfter).toEqual(ca.certificate.notAfter)
  })

  it('refuses to sign with an expired CA', async () => {
    const start = new Date('2026-11-24T00:00:00Z')
    const ca = await signingCa(start, HOUR)
    const template = await createAgentSvidTemplate(ca, ca.keyObject)
    expect(() =>
      issueAgentSvid(template, {
        subjectPublicKeyInfo: new Uint8Array(32),
        spiffeId: AGENT_ID,
        ttlMs: HOUR,
        now: new Date(start.getTime() + HOUR),
      }),
    ).toThrow(new RangeError('the signing CA expired at 2026-11-24T01:00:00.000Z; rotate it before signing'))
  })
})
