import { X509Certificate } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { TestCa } from '../test/test-ca.ts'
import { serverIdentityProblem } from './server-identity.ts'

const SERVER_ID = 'spiffe://example.org/spire/server'
let ca: TestCa
beforeAll(async () => {
  ca = await TestCa.create()
})

async function der(options: { uris?: string[]; dnsNames?: string[] }): Promise<Uint8Array> {
  return new X509Certificate((await ca.issueWithKey(options)).certPem).raw
}

describe('serverIdentityProblem', () => {
  it('accepts the server ID as the one URI SAN, whatever DNS names come with it', async () => {
    expect(
      serverIdentityProblem(await der({ uris: [SERVER_ID], dnsNames: ['spire-server'] }), SERVER_ID),
    ).toBeUndefined()
  })

  it.each([
    [
      { dnsNames: ['spire-server'] },
      'the server presented no URI SAN; expected the server ID "spiffe://example.org/spire/server"',
    ],
    [
      { uris: ['spiffe://example.org/spire/agent/x'] },
      'the server presented "spiffe://example.org/spire/agent/x"',
    ],
    [{ uris: ['spiffe://other.org/spire/server'] }, 'the server presented "spiffe://other.org/spire/server"'],
    [
      { uris: [SERVER_ID, 'spiffe://example.org/extra'] },
      'the server presented "spiffe://example.org/spire/server", "spiffe://example.org/extra"',
    ],
  ])('refuses %j', async (names, message) => {
    const problem = serverIdentityProblem(await der(names), SERVER_ID)
    expect(problem).toMatchObject({
      code: 'ATT_ERR_SERVER_UNTRUSTED',
      details: { check: 'server_spiffe_id', expected: SERVER_ID },
    })
    expect(problem?.message).toContain(message)
  })

  it('refuses a certificate it cannot parse', () => {
    expect(serverIdentityProblem(new Uint8Array([1, 2, 3]), SERVER_ID)?.message).toBe(
      'the server certificate cannot be parsed',
    )
  })
})
