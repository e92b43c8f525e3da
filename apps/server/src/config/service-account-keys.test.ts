import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadServiceAccountKeys } from './service-account-keys.ts'

const FIXTURES = resolve(import.meta.dirname, '../../test/fixtures/config')

describe('loadServiceAccountKeys', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k8s-attest-sa-keys-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads CERTIFICATE, PUBLIC KEY and RSA PUBLIC KEY blocks, in file order', async () => {
    const { keys, problems } = await loadServiceAccountKeys(join(FIXTURES, 'service-account-keys.pem'))
    expect(problems).toEqual([])
    expect(keys.map((key) => key.asymmetricKeyType)).toEqual(['ec', 'rsa', 'rsa'])
    expect(keys.map((key) => key.type)).toEqual(['public', 'public', 'public'])
  })

  it('refuses a missing file', async () => {
    const path = join(dir, 'missing.pem')
    expect(await loadServiceAccountKeys(path)).toEqual({
      keys: [],
      problems: [`cannot read ${JSON.stringify(path)}: no such file`],
    })
  })

  it('refuses a file without PEM blocks', async () => {
    const path = join(dir, 'empty.pem')
    await writeFile(path, 'not pem\n')
    expect(await loadServiceAccountKeys(path)).toEqual({
      keys: [],
      problems: [
        `${JSON.stringify(path)} holds no PEM block; expected CERTIFICATE, PUBLIC KEY, RSA PUBLIC KEY`,
      ],
    })
  })

  it('refuses a private key instead of skipping it', async () => {
    const path = join(dir, 'sa.key')
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    await writeFile(path, privateKey.export({ format: 'pem', type: 'pkcs8' }))
    expect((await loadServiceAccountKeys(path)).problems).toEqual([
      `PEM block 1 (PRIVATE KEY) of ${JSON.stringify(path)} is not accepted; expected CERTIFICATE, PUBLIC KEY, RSA PUBLIC KEY`,
    ])
  })

  it('refuses key types other than RSA and EC', async () => {
    const path = join(dir, 'ed25519.pub')
    const { publicKey } = generateKeyPairSync('ed25519')
    await writeFile(path, publicKey.export({ format: 'pem', type: 'spki' }))
    expect((await loadServiceAccountKeys(path)).problems).toEqual([
      `PEM block 1 (PUBLIC KEY) of ${JSON.stringify(path)} holds a ed25519 key; expected an RSA or EC public key`,
    ])
  })

  it('refuses a block that does not decode', async () => {
    const path = join(dir, 'garbage.pem')
    await writeFile(path, '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n')
    const { keys, problems } = await loadServiceAccountKeys(path)
    expect(keys).toEqual([])
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(/^PEM block 1 \(PUBLIC KEY\) of .* cannot be decoded: /)
  })
})
