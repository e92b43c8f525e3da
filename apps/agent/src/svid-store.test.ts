import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { TestCa } from '../test/test-ca.ts'
import {
  BUNDLE_FILE_NAME,
  loadStoredBundle,
  loadStoredSvid,
  prepareDataDir,
  removeStoredSvid,
  SVID_FILE_NAME,
  storeBundle,
  storeSvid,
} from './svid-store.ts'
import { type HeldSvid, verifySvid } from './svid-verify.ts'
import { type TrustBundle, trustBundleFromCertificates } from './trust-bundle.ts'

const NOW = Math.floor(Date.now() / 1000) * 1000
const ID = 'spiffe://example.org/spire/agent/k8s_psat/demo/node-1'

let ca: TestCa
let bundle: TrustBundle
let svid: HeldSvid
let dataDir: string

beforeAll(async () => {
  ca = await TestCa.create()
  bundle = trustBundleFromCertificates([ca.certPem], 'test')
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const leaf = await ca.issueLeaf({
    publicKey: keys.publicKey,
    uris: [ID],
    notBefore: new Date(NOW - 1000),
    notAfter: new Date(NOW + 60_000),
  })
  svid = verifySvid({
    chainPem: [leaf],
    privateKey: keys.privateKey,
    bundle,
    trustDomain: 'example.org',
    now: NOW,
  })
})
beforeEach(async () => {
  dataDir = join(await mkdtemp(join(tmpdir(), 'agent-store-')), 'data')
  await prepareDataDir(dataDir)
})
afterEach(() => rm(join(dataDir, '..'), { recursive: true, force: true }))

const expectations = () => ({ bundle, trustDomain: 'example.org', now: NOW })

describe('svid store', () => {
  it('creates data_dir with mode 0700', async () => {
    expect((await stat(dataDir)).mode & 0o777).toBe(0o700)
  })

  it('stores and loads the bundle and the SVID with its key (0600), leaving no temporary file', async () => {
    await storeBundle(dataDir, bundle)
    await storeSvid(dataDir, svid)

    expect((await stat(join(dataDir, SVID_FILE_NAME))).mode & 0o777).toBe(0o600)
    expect((await stat(join(dataDir, BUNDLE_FILE_NAME))).mode & 0o777).toBe(0o644)
    expect((await readdir(dataDir)).sort()).toEqual([SVID_FILE_NAME, BUNDLE_FILE_NAME].sort())

    const loadedBundle = await loadStoredBundle(dataDir)
    expect(loadedBundle.status === 'usable' && loadedBundle.value.authoritiesPem).toEqual(
      bundle.authoritiesPem,
    )
    const loaded = await loadStoredSvid(dataDir, expectations())
    expect(loaded.status).toBe('usable')
    expect(loaded.status === 'usable' && loaded.value.serialNumber).toBe(svid.serialNumber)
  })

  it('replaces a stored SVID atomically', async () => {
    await storeSvid(dataDir, svid)
    await storeSvid(dataDir, svid)
    expect(await readdir(dataDir)).toEqual([SVID_FILE_NAME])
  })

  it('removes the stored SVID and keeps the bundle; nothing to remove is no error', async () => {
    await storeBundle(dataDir, bundle)
    await storeSvid(dataDir, svid)
    await removeStoredSvid(dataDir)
    expect(await readdir(dataDir)).toEqual([BUNDLE_FILE_NAME])

    await removeStoredSvid(dataDir)
    await removeStoredSvid(join(dataDir, 'never-created'))
    expect(await loadStoredSvid(dataDir, expectations())).toMatchObject({ status: 'missing' })
  })

  it('reports missing files as missing', async () => {
    expect(await loadStoredBundle(dataDir)).toEqual({
      status: 'missing',
      path: join(dataDir, BUNDLE_FILE_NAME),
    })
    expect(await loadStoredSvid(dataDir, expectations())).toEqual({
      status: 'missing',
      path: join(dataDir, SVID_FILE_NAME),
    })
  })

  it('refuses a stored SVID that no longer verifies, saying why', async () => {
    await storeSvid(dataDir, svid)
    const expired = await loadStoredSvid(dataDir, { ...expectations(), now: NOW + 120_000 })
    expect(expired).toMatchObject({ status: 'unusable', error: { details: { check: 'svid_validity' } } })

    const otherBundle = trustBundleFromCertificates(
      [(await TestCa.create('CN=rotated away')).certPem],
      'other',
    )
    const unchained = await loadStoredSvid(dataDir, { ...expectations(), bundle: otherBundle })
    expect(unchained).toMatchObject({ status: 'unusable', error: { details: { check: 'svid_chain' } } })
  })

  it('refuses a stored SVID without its key, or next to a key it does not certify', async () => {
    const path = join(dataDir, SVID_FILE_NAME)
    await writeFile(path, svid.chainPem.join(''))
    expect(await loadStoredSvid(dataDir, expectations())).toMatchObject({
      status: 'unusable',
      error: { code: 'ATT_ERR_DATA_DIR_FAILED', message: `"${path}" holds no private key` },
    })

    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    await writeFile(path, svid.chainPem.join('') + otherKey.export({ type: 'pkcs8', format: 'pem' }))
    expect(await loadStoredSvid(dataDir, expectations())).toMatchObject({
      status: 'unusable',
      error: { details: { check: 'svid_public_key' } },
    })
  })

  it('reports a stored SVID whose certificate is corrupt as unusable, rather than failing', async () => {
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const corrupt = await ca.issueLeaf({
      publicKey: keys.publicKey,
      // Claims a 5-byte URI and holds 1: OpenSSL parses the certificate, the SAN does not parse.
      subjectAltNameValue: new Uint8Array([0x30, 0x03, 0x86, 0x05, 0x41]),
      notBefore: new Date(NOW - 1000),
      notAfter: new Date(NOW + 60_000),
    })
    await writeFile(
      join(dataDir, SVID_FILE_NAME),
      corrupt + keys.privateKey.export({ type: 'pkcs8', format: 'pem' }),
    )
    expect(await loadStoredSvid(dataDir, expectations())).toMatchObject({
      status: 'unusable',
      error: { code: 'ATT_ERR_SVID_VERIFICATION_FAILED', details: { check: 'svid_spiffe_id' } },
    })
  })

  it('reports a corrupt bundle as unusable', async () => {
    await writeFile(join(dataDir, BUNDLE_FILE_NAME), 'garbage')
    expect(await loadStoredBundle(dataDir)).toMatchObject({
      status: 'unusable',
      error: { code: 'ATT_ERR_TRUST_BUNDLE_INVALID' },
    })
  })

  it('reports a data_dir it cannot write', async () => {
    const blocked = join(dataDir, 'blocked')
    await writeFile(blocked, 'a file where a directory should be')
    await expect(storeSvid(blocked, svid)).rejects.toMatchObject({
      code: 'ATT_ERR_DATA_DIR_FAILED',
      message: `cannot write the SVID to "${join(blocked, SVID_FILE_NAME)}" (ENOTDIR)`,
    })
    expect(await readFile(blocked, 'utf8')).toBe('a file where a directory should be')
  })
})
