import { createHash, generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { ATT_ERR_CSR_INVALID, CsrError } from './ca-errors.ts'
import { derPositiveInteger, derTlv } from './der.ts'
import {
  createTestCsr,
  csrWithKeyBytes,
  p256KeyPair,
  rsaSubjectPublicKeyInfo,
  sha256Signer,
  tamperWithSignature,
} from './test-support/csr.ts'
import { opensslEcPublicKey } from './test-support/openssl.ts'
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

  it('accepts a CSR it was given byte for byte (the helper the refusals below use)', async () => {
    const { privateKey, spki } = p256KeyPair()
    const verified = await verifyCsr(csrWithKeyBytes(spki, 'ecdsa-sha256', sha256Signer(privateKey)))
    expect(verified.description).toBe('EC P-256')
  })

  it('refuses an RSA key with exponent 1, for which anyone can make the "signature"', async () => {
    const modulus = Buffer.from(
      generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }).n ?? '',
      'base64url',
    )
    const spki = rsaSubjectPublicKeyInfo(derPositiveInteger(modulus), derPositiveInteger(Uint8Array.of(1)))
    // With e = 1 the signature is its own message: the PKCS #1 v1.5 encoding of the digest.
    const forge = (info: Uint8Array) => {
      const digestInfo = Buffer.concat([
        Buffer.from('3031300d060960864801650304020105000420', 'hex'),
        createHash('sha256').update(info).digest(),
      ])
      const padding = Buffer.alloc(modulus.length - 3 - digestInfo.length, 0xff)
      return new Uint8Array(Buffer.concat([Buffer.of(0, 1), padding, Buffer.of(0), digestInfo]))
    }
    const error = await refusal(csrWithKeyBytes(spki, 'rsa-sha256', forge))
    expect(error.check).toBe('public-key')
    expect(error.message).toBe('CSR public key is RSA with public exponent 1')
    expect(error.expected).toBe(
      'an odd RSA public exponent above 2^16 and below 2^256 (FIPS 186-5), such as 65537',
    )
  })

  it('refuses an RSA key with exponent 3, below what FIPS 186-5 allows', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 })
    const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }))
    const error = await refusal(csrWithKeyBytes(spki, 'rsa-sha256', sha256Signer(privateKey)))
    expect(error.message).toBe('CSR public key is RSA with public exponent 3')
  })

  it('refuses a key whose DER is not minimal, which would go into the SVID as it came (once a certificate Go refuses)', async () => {
    const { privateKey, spki } = p256KeyPair()
    // The SubjectPublicKeyInfo's length (0x59) in long form: OpenSSL reads it, DER forbids it.
    const longForm = Uint8Array.of(0x30, 0x81, ...spki.subarray(1))
    const error = await refusal(csrWithKeyBytes(longForm, 'ecdsa-sha256', sha256Signer(privateKey)))
    expect(error.check).toBe('encoding')
    expect(error.message).toBe('CSR is not DER-encoded')
  })

  it('refuses a key BIT STRING with unused bits, which OpenSSL reads', async () => {
    // OpenSSL reads the key only when the bit declared unused is zero: a point ending in an even byte.
    let key = p256KeyPair()
    while (((key.spki.at(-1) ?? 1) & 1) !== 0) key = p256KeyPair()
    const { privateKey, spki } = key
    // The BIT STRING's unused-bits octet: 30 59 | 30 13 <two OIDs, 21 octets> | 03 42 <here>.
    const unusedBits = Uint8Array.from(spki)
    expect([unusedBits[23], unusedBits[24], unusedBits[25]]).toEqual([0x03, 0x42, 0x00])
    unusedBits[25] = 0x01
    const error = await refusal(csrWithKeyBytes(unusedBits, 'ecdsa-sha256', sha256Signer(privateKey)))
    expect(error.check).toBe('encoding')
    expect(error.message).toBe(
      'CSR public key is not in DER as a certificate carries it: the key is not a BIT STRING of whole bytes',
    )
  })

  it('refuses an RSA modulus with a superfluous leading zero octet', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const jwk = publicKey.export({ format: 'jwk' })
    const modulus = Buffer.concat([Buffer.of(0, 0), Buffer.from(jwk.n ?? '', 'base64url')])
    const exponent = Buffer.from(jwk.e ?? '', 'base64url')
    const integer = (octets: Uint8Array) => derTlv(0x02, octets)
    const spki = rsaSubjectPublicKeyInfo(integer(modulus), integer(exponent))
    const error = await refusal(csrWithKeyBytes(spki, 'rsa-sha256', sha256Signer(privateKey)))
    expect(error.check).toBe('encoding')
    expect(error.message).toBe(
      'CSR public key is not in DER as a certificate carries it: the RSA key holds an INTEGER with superfluous leading octets',
    )
  })

  it('refuses an EC key with explicit curve parameters (an SVID openssl verify would refuse)', async () => {
    const { privateKey, spki } = p256KeyPair()
    const explicit = await opensslEcPublicKey(spki, 'explicit-parameters')
    const error = await refusal(csrWithKeyBytes(explicit, 'ecdsa-sha256', sha256Signer(privateKey)))
    expect(error.check).toBe('public-key')
    expect(error.message).toBe(
      'CSR public key is an EC key with explicit curve parameters, which RFC 5480 forbids',
    )
  })

  it('refuses an EC point in compressed form, which Go cannot parse', async () => {
    const { privateKey, spki } = p256KeyPair()
    const compressed = await opensslEcPublicKey(spki, 'compressed-point')
    const error = await refusal(csrWithKeyBytes(compressed, 'ecdsa-sha256', sha256Signer(privateKey)))
    expect(error.check).toBe('public-key')
    expect(error.message).toBe(
      'CSR public key is an EC point in compressed form, which Go and other X.509 parsers refuse',
    )
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
