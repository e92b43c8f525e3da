import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { removeAbandonedTemporaryFiles, writeFileAtomic } from './atomic-file.ts'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agent-atomic-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

describe('writeFileAtomic', () => {
  it('writes with the given mode and replaces the previous content', async () => {
    const path = join(dir, 'key.pem')
    await writeFileAtomic(path, 'one', 0o600)
    await writeFileAtomic(path, 'two', 0o600)
    expect(await readFile(path, 'utf8')).toBe('two')
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    expect(await readdir(dir)).toEqual(['key.pem'])
  })

  it('removes its temporary file when the rename fails, and leaves the target as it was', async () => {
    const path = join(dir, 'occupied')
    await mkdir(path)
    await expect(writeFileAtomic(path, 'data', 0o600)).rejects.toMatchObject({ code: 'EISDIR' })
    expect(await readdir(dir)).toEqual(['occupied'])
  })
})

describe('removeAbandonedTemporaryFiles', () => {
  it('removes only the temporary files of the named targets, and the target stays', async () => {
    await writeFileAtomic(join(dir, 'agent-svid.pem'), 'whole', 0o600)
    const abandoned = ['.agent-svid.pem.0123456789ab.tmp', '.bundle.pem.ba9876543210.tmp']
    const others = ['.agent-svid.pem.not-ours.tmp', '.other.pem.0123456789ab.tmp', 'notes.tmp']
    for (const name of [...abandoned, ...others]) await writeFile(join(dir, name), 'half')
    const removed = await removeAbandonedTemporaryFiles(dir, ['agent-svid.pem', 'bundle.pem'])
    expect(removed.sort()).toEqual(abandoned.map((name) => join(dir, name)).sort())
    expect((await readdir(dir)).sort()).toEqual(['agent-svid.pem', ...others].sort())
    expect(await readFile(join(dir, 'agent-svid.pem'), 'utf8')).toBe('whole')
  })

  it('finds nothing to remove in a directory that does not exist yet', async () => {
    expect(await removeAbandonedTemporaryFiles(join(dir, 'missing'), ['agent-svid.pem'])).toEqual([])
  })
})
