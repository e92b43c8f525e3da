import { describe, expect, it } from 'vitest'
import { derSequence, derTlv } from './der.ts'
import { dottedOid, parseCertificationRequest } from './pkcs10.ts'
import { createTestCsr, TEST_KEY_ALGORITHMS, type TestKeyAlgorithm } from './test-support/csr.ts'
import { x509 } from './x509.ts'

/** What @peculiar/x509 finds in the same CSR: the reference the lean reader must agree with. */
function libraryParts(der: Uint8Array) {
  const request = new x509.Pkcs10CertificateRequest(new Uint8Array(der))
  return {
    subjectPublicKeyInfo: new Uint8Array(request.publicKey.rawData),
    signature: new Uint8Array(request.signature),
    // The signed bytes as the library located them (a private field of its class).
    tbs: new Uint8Array((request as unknown as { readonly tbs: ArrayBuffer }).tbs),
  }
}

describe('parseCertificationRequest', () => {
  it.each(Object.keys(TEST_KEY_ALGORITHMS) as TestKeyAlgorithm[])(
    'finds the same key, signed bytes and signature as @peculiar/x509 in a %s CSR',
    async (algorithm) => {
      const csr = await createTestCsr({
        algorithm,
        subject: 'CN=agent,O=k8s-attest',
        requestedNames: [{ type: 'url', value: 'spiffe://example.org/ignored' }],
      })
      const parts = parseCertificationRequest(csr.der)
      const reference = libraryParts(csr.der)
      expect(new Uint8Array(parts.subjectPublicKeyInfo)).toEqual(reference.subjectPublicKeyInfo)
      expect(new Uint8Array(parts.certificationRequestInfo)).toEqual(reference.tbs)
      expect(new Uint8Array(parts.signature)).toEqual(reference.signature)
    },
  )

  it('names the signature algorithm by OID, with its parameters', async () => {
    expect(parseCertificationRequest((await createTestCsr()).der).signatureAlgorithm).toEqual({
      oid: '1.2.840.10045.4.3.2',
      parameters: undefined,
    })
    const rsa = parseCertificationRequest((await createTestCsr({ algorithm: 'RSA 2048' })).der)
    expect(rsa.signatureAlgorithm.oid).toBe('1.2.840.113549.1.1.11')
    expect(rsa.signatureAlgorithm.parameters).toEqual(Uint8Array.of(0x05, 0x00))
  })

  it('refuses bytes after the request, a wrong version and a truncated request, naming the problem', async () => {
    const { der } = await createTestCsr()
    expect(() => parseCertificationRequest(Uint8Array.of(...der, 0x00))).toThrow(
      new RangeError('CertificationRequest is followed by extra bytes'),
    )
    expect(() => parseCertificationRequest(der.subarray(0, der.length - 1))).toThrow(
      new RangeError('DER element is longer than its buffer'),
    )
    const body = derSequence(
      derSequence(derTlv(0x02, Uint8Array.of(1)), derSequence(), derSequence(), derTlv(0xa0)),
      derSequence(derTlv(0x06, Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02))),
      derTlv(0x03, Uint8Array.of(0)),
    )
    expect(() => parseCertificationRequest(body)).toThrow(
      new RangeError('certificationRequestInfo version is not 0 (v1)'),
    )
    expect(() => parseCertificationRequest(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01))).toThrow(
      new RangeError('certificationRequestInfo has tag 0x2, expected 0x30'),
    )
    expect(() => parseCertificationRequest(derSequence(derSequence()))).toThrow(
      new RangeError('signatureAlgorithm is missing'),
    )
  })
})

describe('dottedOid', () => {
  it('decodes first arcs and multi-byte arcs', () => {
    expect(dottedOid(Uint8Array.of(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02))).toBe(
      '1.2.840.10045.4.3.2',
    )
    expect(dottedOid(Uint8Array.of(0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01))).toBe(
      '2.16.840.1.101.3.4.2.1',
    )
    expect(dottedOid(Uint8Array.of(0x2b, 0x0e, 0x03, 0x02, 0x1a))).toBe('1.3.14.3.2.26')
  })

  it('refuses an empty, truncated or non-minimal OID', () => {
    expect(() => dottedOid(new Uint8Array())).toThrow(RangeError)
    expect(() => dottedOid(Uint8Array.of(0x2a, 0x86))).toThrow(RangeError)
    expect(() => dottedOid(Uint8Array.of(0x2a, 0x80, 0x01))).toThrow(RangeError)
  })
})
