import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeFilesAtomically } from './write-files-atomically.ts'

describe('writeFilesAtomically', () => {
  let root: string

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'k8s-attest-write-'))
  })
  afterEach(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('creates the directory owner-only, writes each file with its mode, and replaces old ones', async () => {
    const directory = join(root, 'out')
    const paths = await writeFilesAtomically(directory, [
      { name: 'svid.pem', content: 'old svid', mode: 0o644 },
      { name: 'key.pem', content: 'old key', mode: 0o600 },
    ])
    expect(paths).toEqual([join(directory, 'svid.pem'), join(directory, 'key.pem')])
    expect((await stat(directory)).mode & 0o777).toBe(0o700)
    expect((await stat(join(directory, 'key.pem'))).mode & 0o777).toBe(0o600)

    await writeFilesAtomically(directory, [
      { name: 'svid.pem', content: 'new svid', mode: 0o644 },
      { name: 'key.pem', content: 'new key', mode: 0o600 },
    ])
    expect(await readFile(join(directory, 'svid.pem'), 'utf8')).toBe('new svid')
    expect(await readFile(join(directory, 'key.pem'), 'utf8')).toBe('new key')
    expect((await stat(join(directory, 'key.pem'))).mode & 0o777).toBe(0o600)
    expect((await readdir(directory)).sort()).toEqual(['key.pem', 'svid.pem'])
  })

  it('leaves the old files and no temporary ones when a write fails', async () => {
    await writeFile(join(root, 'svid.pem'), 'old svid')
    // Longer than any file name the file system takes (255 bytes): the second file cannot be
    // created after the first one was written.
    const tooLong = 'k'.repeat(300)
    await expect(
      writeFilesAtomically(root, [
        { name: 'svid.pem', content: 'new svid', mode: 0o644 },
        { name: tooLong, content: 'never', mode: 0o644 },
      ]),
    ).rejects.toMatchObject({ code: 'ENAMETOOLONG' })
    expect(await readFile(join(root, 'svid.pem'), 'utf8')).toBe('old svid')
    expect(await readdir(root)).toEqual(['svid.pem'])
  })

  it('refuses a name that is not a plain file name', async () => {
    await expect(
      writeFilesAtomically(root, [{ name: '../escape.pem', content: '', mode: 0o644 }]),
    ).rejects.toThrow(new TypeError('file name "../escape.pem" must be a plain name inside the directory'))
  })
})
