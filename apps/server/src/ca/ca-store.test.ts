import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ATT_ERR_CA_STORE_INVALID, CaStoreError } from './ca-errors.ts'
import { CaStore } from './ca-store.ts'

describe('CaStore', () => {
  let dataDir: string
  let store: CaStore

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'k8s-attest-ca-store-'))
    store = new CaStore(dataDir)
    await store.prepare()
  })
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  it('keeps the CA directory private to its owner', async () => {
    expect((await stat(join(dataDir, 'ca'))).mode & 0o777).toBe(0o700)
  })

  it('reports a CA directory it cannot create as a CaStoreError', async () => {
    const notADirectory = join(dataDir, 'file')
    await writeFile(notADirectory, '')
    const error = await new CaStore(notADirectory).prepare().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(CaStoreError)
    expect(error).toMatchObject({ code: ATT_ERR_CA_STORE_INVALID, path: join(notADirectory, 'ca') })
    expect((error as Error).message).toMatch(/: cannot create the CA directory: ENOTDIR/)
  })

  it('names CAs by creation time, so listings sort by age', () => {
    expect(store.newId(new Date('2026-11-24T03:45:12.345Z'))).toMatch(/^20261124T034512Z-[0-9a-f]{8}$/)
  })

  it('publishes a key with mode 0600 and never overwrites one', async () => {
    const id = store.newId(new Date())
    expect(await store.publishKey(id, 'first')).toBe(true)
    expect(await store.publishKey(id, 'second')).toBe(false)
    expect(await readFile(store.keyPath(id), 'utf8')).toBe('first')
    expect((await stat(store.keyPath(id))).mode & 0o777).toBe(0o600)
    expect(await readdir(store.directory)).toEqual([`${id}-key.pem`])
  })

  it('reads back both files of each CA and ignores other files', async () => {
    const older = store.newId(new Date('2026-01-01T00:00:00Z'))
    const newer = store.newId(new Date('2026-02-01T00:00:00Z'))
    await store.publishKey(newer, 'newer key')
    await store.publishCertificate(newer, 'newer cert')
    await store.publishCertificate(older, 'older cert')
    await writeFile(join(store.directory, 'notes.txt'), 'not a CA')
    await writeFile(join(store.directory, `${older}-key.pem.0123456789ab.tmp`), 'half-written')
    expect([...(await store.readAll())]).toEqual([
      [older, { certificatePem: 'older cert' }],
      [newer, { keyPem: 'newer key', certificatePem: 'newer cert' }],
    ])
  })

  it('deletes keys and whole CAs, tolerating files already gone', async () => {
    const id = store.newId(new Date())
    await store.publishKey(id, 'key')
    await store.publishCertificate(id, 'cert')
    await store.deleteKey(id)
    expect([...(await store.readAll())]).toEqual([[id, { certificatePem: 'cert' }]])
    await store.deleteCa(id)
    await store.deleteCa(id)
    expect(await store.readAll()).toEqual(new Map())
  })

  it("tells another process's CA files from its own writes and deletions", async () => {
    const own = store.newId(new Date('2026-11-24T00:00:00Z'))
    await store.readAll()
    expect(await store.changedSinceRead()).toBe(false)
    await store.publishKey(own, 'key')
    await store.publishCertificate(own, 'certificate')
    await store.writeBundle('bundle') // not a CA file
    expect(await store.changedSinceRead()).toBe(false)
    await store.deleteKey(own)
    expect(await store.changedSinceRead()).toBe(false)

    const foreign = store.newId(new Date('2026-11-24T01:00:00Z'))
    const other = new CaStore(dataDir)
    await other.publishKey(foreign, 'key')
    expect(await store.changedSinceRead()).toBe(true)
    // Its own publish of a name the other process took is refused, and the file stays unknown.
    expect(await store.publishKey(foreign, 'mine')).toBe(false)
    expect(await store.changedSinceRead()).toBe(true)
    await store.readAll()
    expect(await store.changedSinceRead()).toBe(false)
    await other.deleteCa(own)
    expect(await store.changedSinceRead()).toBe(true)
  })

  it('replaces the bundle file atomically', async () => {
    await store.writeBundle('one')
    await store.writeBundle('two')
    expect(await readFile(join(store.directory, 'bundle.pem'), 'utf8')).toBe('two')
    expect(await readdir(store.directory)).toEqual(['bundle.pem'])
  })
})
