import 'reflect-metadata'
import { Pkcs10CertificateRequest } from '@peculiar/x509'
import { describe, expect, it } from 'vitest'
import { generateKeyAndCsr } from './keys-and-csr.ts'

/** id-ce-subjectAltName (RFC 5280 §4.2.1.6). */
const SUBJECT_ALT_NAME_OID = '2.5.29.17'

describe('generateKeyAndCsr', () => {
  it('makes a fresh EC P-256 key and a CSR signed by it, without subject or SAN', async () => {
    const first = await generateKeyAndCsr()
    const second = await generateKeyAndCsr()

    expect(first.privateKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' })
    const csr = new Pkcs10CertificateRequest(first.csrPem)
    expect(await csr.verify()).toBe(true)
    expect(csr.subject).toBe('')
    expect(csr.getExtension(SUBJECT_ALT_NAME_OID)).toBeNull()
    const csrKey = Buffer.from(csr.publicKey.rawData)
    expect(csrKey.equals(first.publicKey.export({ type: 'spki', format: 'der' }))).toBe(true)
    expect(csrKey.equals(second.publicKey.export({ type: 'spki', format: 'der' }))).toBe(false)
  })
})
