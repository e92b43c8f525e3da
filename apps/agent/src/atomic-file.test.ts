import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeFileAtomic } from './atomic-file.ts'

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
