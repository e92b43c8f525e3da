import { describe, expect, it } from 'vitest'
import { CA_KEY_ALGORITHM, createCaCertificate } from './ca-certificate.ts'
import { issueLeafCertificate, type SigningCa } from './leaf-certificate.ts'
import { x509 } from './x509.ts'

const HOUR = 3_600_000

async function signingCa(now: Date, ttlMs: number): Promise<SigningCa> {
  const keys = await crypto.subtle.generateKey(CA_KEY_ALGORITHM, false, ['sign', 'verify'])
  const certificate = await createCaCertificate({
    publicKey: keys.publicKey,
    privateKey: keys.privateKey,
    trustDomain: 'example.org',
    now,
    ttlMs,
  })
  return { certificate, privateKey: keys.privateKey }
}

describe('issueLeafCertificate', () => {
  const profile = {
    spiffeId: 'spiffe://example.org/workload',
    keyUsages: x509.KeyUsageFlags.digitalSignature,
    extendedKeyUsages: [x509.ExtendedKeyUsage.clientAuth],
    ttlMs: HOUR,
  }

  it('never starts before its CA, even with the backdate', async () => {
    const start = new Date('2026-11-24T00:00:00Z')
    const ca = await signingCa(start, 6 * HOUR)
    const leafKeys = await crypto.subtle.generateKey(CA_KEY_ALGORITHM, false, ['sign', 'verify'])
    const issued = await issueLeafCertificate(ca, {
      ...profile,
      publicKey: leafKeys.publicKey,
      now: new Date(start.getTime() - 5_000),
    })
    expect(issued.notBefore).toEqual(ca.certificate.notBefore)
  })

  it('refuses to sign with an expired CA', async () => {
    const start = new Date('2026-11-24T00:00:00Z')
    const ca = await signingCa(start, HOUR)
    const leafKeys = await crypto.subtle.generateKey(CA_KEY_ALGORITHM, false, ['sign', 'verify'])
    await expect(
      issueLeafCertificate(ca, {
        ...profile,
        publicKey: leafKeys.publicKey,
        now: new Date(start.getTime() + HOUR),
      }),
    ).rejects.toThrow(
      new RangeError('the signing CA expired at 2026-11-24T01:00:00.000Z; rotate it before signing'),
    )
  })
})
