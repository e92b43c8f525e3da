import { beforeAll, describe, expect, it } from 'vitest'
import { TestCa } from '../test/test-ca.ts'
import type { AgentError } from './errors.ts'
import {
  sameTrustBundle,
  trustBundleFromCertificates,
  trustBundleFromPem,
  trustBundleFromSpiffeJson,
  trustBundleToPem,
} from './trust-bundle.ts'

let root: TestCa
let second: TestCa
beforeAll(async () => {
  root = await TestCa.create('CN=root one')
  second = await TestCa.create('CN=root two')
})

function refusal(parse: () => unknown): AgentError {
  try {
    parse()
  } catch (error) {
    return error as AgentError
  }
  throw new Error('expected the bundle to be refused')
}

describe('trustBundleFromPem', () => {
  it('reads every CA certificate, ignoring text between blocks', () => {
    const bundle = trustBundleFromPem(
      `# comment\n${root.certPem}\nmore text\n${second.certPem}`,
      'bundle.pem',
    )
    expect(bundle.authorities.map((certificate) => certificate.subject)).toEqual([
      'CN=root one',
      'CN=root two',
    ])
    expect(trustBundleFromPem(trustBundleToPem(bundle), 'again').authorities).toHaveLength(2)
  })

  it('refuses a bundle without certificates', () => {
    const error = refusal(() => trustBundleFromPem('nothing here', '/etc/bundle.pem'))
    expect(error).toMatchObject({ code: 'ATT_ERR_TRUST_BUNDLE_INVALID', details: { check: 'bundle_empty' } })
    expect(error.message).toBe(
      'trust bundle "/etc/bundle.pem" holds no X.509 authority; expected at least one CA certificate',
    )
  })

  it('refuses a block that is not a certificate', async () => {
    const { keyPem } = await root.issueWithKey({})
    const error = refusal(() => trustBundleFromPem(`${root.certPem}\n${keyPem}`, 'b.pem'))
    expect(error.details.check).toBe('pem_block_type')
    expect(error.message).toBe(
      'trust bundle "b.pem" block 2 is a "PRIVATE KEY" block; expected only CERTIFICATE blocks',
    )
  })

  it('refuses a leaf certificate', async () => {
    const { certPem } = await root.issueWithKey({ uris: ['spiffe://example.org/x'] })
    const error = refusal(() => trustBundleFromPem(certPem, 'b.pem'))
    expect(error.details.check).toBe('certificate_is_ca')
  })

  it('refuses a certificate that does not parse', () => {
    const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'
    expect(refusal(() => trustBundleFromPem(broken, 'b.pem')).details.check).toBe('certificate_parse')
  })
})

describe('trustBundleFromSpiffeJson', () => {
  const der = (pem: string) => pem.replace(/-----[A-Z ]+-----|\s/g, '')

  it('reads the x509-svid keys and skips the others', () => {
    const document = JSON.stringify({
      keys: [
        { use: 'x509-svid', kty: 'EC', x5c: [der(root.certPem)] },
        { use: 'jwt-svid', kty: 'EC', kid: 'k' },
      ],
      spiffe_sequence: 1,
    })
    const bundle = trustBundleFromSpiffeJson(document, 'https://bundle')
    expect(bundle.authorities.map((certificate) => certificate.subject)).toEqual(['CN=root one'])
  })

  it.each([
    ['not json', 'spiffe_bundle_json'],
    ['{"nokeys": true}', 'spiffe_bundle_keys'],
    ['{"keys": [{"use": "x509-svid", "x5c": []}]}', 'spiffe_bundle_x5c'],
    ['{"keys": [{"use": "jwt-svid"}]}', 'bundle_empty'],
  ])('refuses %s (%s)', (text, check) => {
    expect(refusal(() => trustBundleFromSpiffeJson(text, 'u')).details.check).toBe(check)
  })
})

describe('sameTrustBundle', () => {
  it('compares the authorities in order', () => {
    const one = trustBundleFromCertificates([root.certPem], 'a')
    expect(sameTrustBundle(one, trustBundleFromCertificates([root.certPem], 'b'))).toBe(true)
    expect(sameTrustBundle(one, trustBundleFromCertificates([second.certPem], 'b'))).toBe(false)
    expect(sameTrustBundle(one, trustBundleFromCertificates([root.certPem, second.certPem], 'b'))).toBe(false)
  })
})
