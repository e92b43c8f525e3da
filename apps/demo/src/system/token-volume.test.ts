import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createTokenVolume } from './token-volume.ts'

describe('createTokenVolume', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'token-volume-test-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('lays the token out as kubelet does: a symlink through ..data to a timestamped directory', async () => {
    const volume = await createTokenVolume(join(dir, 'tokens'), 'first.token.value')

    expect(volume.tokenPath).toBe(join(dir, 'tokens', 'spire-agent'))
    expect(await readlink(volume.tokenPath)).toBe(join('..data', 'spire-agent'))
    expect(await readlink(join(volume.dir, '..data'))).toMatch(/^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d_\d{3}_1$/)
    expect(await readFile(volume.tokenPath, 'utf8')).toBe('first.token.value')
    expect(volume.generation).toBe(1)
  })

  it('rotates by swapping ..data, and removes the previous version', async () => {
    const volume = await createTokenVolume(join(dir, 'tokens'), 'first.token.value')
    const firstVersion = await readlink(join(volume.dir, '..data'))

    await volume.write('second.token.value')

    expect(await readFile(volume.tokenPath, 'utf8')).toBe('second.token.value')
    expect(volume.generation).toBe(2)
    const entries = (await readdir(volume.dir)).sort()
    expect(entries).not.toContain(firstVersion)
    expect(entries).not.toContain('..data_tmp')
    expect(entries).toHaveLength(3) // ..data, the current version, spire-agent
    expect((await lstat(volume.tokenPath)).isSymbolicLink()).toBe(true)
  })
})
