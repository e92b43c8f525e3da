import { describe, expect, it } from 'vitest'
import { ATT_ERR_CSR_INVALID, CsrError } from './ca-errors.ts'
import { createTestCsr, tamperWithSignature } from './test-support/csr.ts'
import { MAX_CSR_DER_BYTES, verifyCsr } from './verify-csr.ts'

async function refusal(csr: string | Uint8Array): Promise<CsrError> {
  const error = await verifyCsr(csr).catch((caught: unknown) => caught)
  expect(error).toBeInstanceOf(CsrError)
  expect((error as CsrError).code).toBe(ATT_ERR_CSR_INVALID)
  return error as CsrError
}

describe('verifyCsr', () => {
  it.each(['EC P-256', 'EC P-384', 'RSA 2048'] as const)(
    'accepts a %s CSR in PEM and returns its key',
    async (algorithm) => {
      const csr = await createTestCsr({ algorithm })
      const verified = await verifyCsr(csr.pem)
      expect(verified.description).toBe(algorithm)
      const expectedSpki = new Uint8Array(await crypto.subtle.exportKey('spki', csr.keys.publicKey))
      expect(verified.subjectPublicKeyInfo).toEqual(expectedSpki)
    },
  )

  it('accepts an RSA-PSS signature', async () => {
    const csr = await createTestCsr({ algorithm: 'RSA-PSS 2048' })
    expect((await verifyCsr(csr.pem)).description).toBe('RSA 2048')
    const error = await refusal(tamperWithSignature(csr.der))
    expect(error.check).toBe('signature')
  })

  it('accepts DER bytes, even inside a larger shared buffer', async () => {
    const csr = await createTestCsr()
    const shared = Buffer.alloc(csr.der.length + 64, 0xff)
    shared.set(csr.der, 32)
    expect((await verifyCsr(shared.subarray(32, 32 + csr.der.length))).description).toBe('EC P-256')
  })

  it('accepts the "NEW CERTIFICATE REQUEST" label older OpenSSL writes', async () => {
    const csr = await createTestCsr()
    expect(
      (await verifyCsr(csr.pem.replaceAll('CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'))).description,
    ).toBe('EC P-256')
  })

  it('refuses a CSR whose signature was tampered with', async () => {
    const csr = await createTestCsr()
    const error = await refusal(tamperWithSignature(csr.der))
    expect(error.check).toBe('signature')
    expect(error.message).toBe(
      "CSR signature does not verify with the CSR's own public key: the requester has not proven it holds the private key",
    )
  })

  it('refuses a CSR signed with SHA-1', async () => {
    const error = await refusal((await createTestCsr({ hash: 'SHA-1' })).pem)
    expect(error.check).toBe('signature')
    expect(error.message).toBe('CSR is signed with SHA-1, which is too weak')
    expect(error.expected).toBe('an ECDSA or RSA signature with SHA-256 or stronger')
  })

  it.each([
    ['RSA 1024', 'CSR public key is RSA with 1024 bits'],
    ['EC P-521', 'CSR public key is on curve secp521r1'],
    ['Ed25519', 'CSR public key is of type ed25519'],
  ] as const)('refuses a %s key', async (algorithm, message) => {
    const error = await refusal((await createTestCsr({ algorithm })).pem)
    expect(error.check).toBe('public-key')
    expect(error.message).toBe(message)
    expect(error.expected).toBe('an EC P-256 or P-384 key, or an RSA key of 2048 to 8192 bits')
  })

  it('refuses a key whose curve OID no one knows, naming the public-key check (found by pnpm fuzz)', async () => {
    // A P-384 CSR with one byte of its curve OID changed (1.3.132.0.34 became an unknown arc).
    const pem = [
      '-----BEGIN CERTIFICATE REQUEST-----',
      'MIIBCDCBjwIBADAQMQ4wDAYDVQQDEwVhZ2VudDB2MBAGByqGSM49AgEFBSuBBAAi',
      'A2IABEzIyrT3rHOHNFGLT9m8IjPBgx35pm+p0JzMSmG7yxhk/ogUSpbMHm1WtV3O',
      'gDfr6fy7wcT5+uPu8wozEUS9AEwgHE2YrvLbvWzhiAOfD8CweKbr2wzzjXDjsovv',
      'tzNssqAAMAoGCCqGSM49BAMCA2gAMGUCMQCW+xm/Dza7aDeiRl/tho1LW2xtoDri',
      'EDwrAQJ4o3k4SCVgp/3sqdt9j9R/H2K5FnsCMHZq3KpERQHp1vcCBprjVk+Fzejo',
      '9ItWYNbDNSS6nj8sqkoO2nl3YQGzpHOw8Ffe0A==',
      '-----END CERTIFICATE REQUEST-----',
    ].join('\n')
    const error = await refusal(pem)
    expect(error.check).toBe('public-key')
    expect(error.message).toBe('CSR public key cannot be decoded')
    expect(error.cause).toBeInstanceOf(Error)
  })

  it('refuses a CSR in BER, which the library reads, with an indefinite length (once a raw RangeError)', async () => {
    const { der } = await createTestCsr()
    // The outer SEQUENCE re-written with an indefinite length (0x80 … end-of-contents): DER forbids it.
    const contents = der.subarray(der[1] === 0x81 ? 3 : der[1] === 0x82 ? 4 : 2)
    const ber = Uint8Array.of(0x30, 0x80, ...contents, 0x00, 0x00)
    const error = await refusal(ber)
    expect(error.check).toBe('encoding')
    expect(error.message).toBe('CSR is not DER-encoded')
  })

  it('refuses bytes that are not a CSR', async () => {
    const error = await refusal(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))
    expect(error.check).toBe('encoding')
    expect(error.message).toBe('CSR is not a DER-encoded PKCS#10 certification request')
    expect(error.cause).toBeInstanceOf(Error)
  })

  it('refuses PEM without exactly one CERTIFICATE REQUEST block', async () => {
    const csr = await createTestCsr()
    for (const text of [
      csr.pem.replaceAll('CERTIFICATE REQUEST', 'CERTIFICATE'),
      `${csr.pem}\n${csr.pem}`,
      'hello',
    ]) {
      const error = await refusal(text)
      expect(error.check).toBe('encoding')
      expect(error.message).toMatch(
        /^CSR PEM must hold exactly one "CERTIFICATE REQUEST" block of base64; found \d such blocks$/,
      )
    }
  })

  it('refuses oversized input before parsing it', async () => {
    const error = await refusal(new Uint8Array(MAX_CSR_DER_BYTES + 1))
    expect(error.check).toBe('size')
    expect(error.message).toBe(
      `CSR is ${MAX_CSR_DER_BYTES + 1} bytes, more than the ${MAX_CSR_DER_BYTES} bytes allowed`,
    )
    const pemError = await refusal('x'.repeat(2 * MAX_CSR_DER_BYTES + 1))
    expect(pemError.check).toBe('size')
  })
})
