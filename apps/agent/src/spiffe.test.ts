import { X509Certificate } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { TestCa } from '../test/test-ca.ts'
import { expectedServerId, spiffeIdOfSvid, uriSansOf } from './spiffe.ts'

let ca: TestCa
beforeAll(async () => {
  ca = await TestCa.create()
})

describe('spiffe helpers', () => {
  it('reads URI SANs exactly, even ones with commas', async () => {
    const { certPem } = await ca.issueWithKey({
      uris: ['spiffe://example.org/a,URI:spiffe://example.org/spire/server', 'https://x'],
      dnsNames: ['d'],
    })
    expect(uriSansOf(new X509Certificate(certPem).raw)).toEqual([
      'spiffe://example.org/a,URI:spiffe://example.org/spire/server',
      'https://x',
    ])
  })

  it('finds the one SPIFFE ID of an SVID', async () => {
    const { certPem } = await ca.issueWithKey({ uris: ['spiffe://example.org/spire/agent/k8s_psat/demo/n'] })
    const result = spiffeIdOfSvid(new X509Certificate(certPem).raw, 'example.org')
    expect(result).toMatchObject({
      ok: true,
      id: { trustDomain: 'example.org', path: '/spire/agent/k8s_psat/demo/n' },
    })
  })

  it('names the server ID', () => {
    expect(expectedServerId('example.org')).toBe('spiffe://example.org/spire/server')
  })
})
