import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prepareWorkDir, WORK_DIR_MARKER } from './work-dir.ts'

let root: string
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'k8s-attest-work-dir-'))
})
afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('prepareWorkDir', () => {
  it('creates a missing directory and marks it as the demo’s', async () => {
    const dir = join(root, 'new', 'nested')
    expect(await prepareWorkDir(dir)).toEqual({ kind: 'created' })
    expect(await readdir(dir)).toEqual([WORK_DIR_MARKER])
  })

  it('clears a directory a previous demo left, so a second run starts clean', async () => {
    const dir = join(root, 'previous')
    await prepareWorkDir(dir)
    await mkdir(join(dir, 'agents', 'node-1', 'tokens'), { recursive: true })
    await writeFile(join(dir, 'server.log'), 'old\n')
    expect(await prepareWorkDir(dir)).toEqual({ kind: 'reused' })
    expect(await readdir(dir)).toEqual([WORK_DIR_MARKER])
  })

  it("refuses a directory holding someone else's files, and leaves them", async () => {
    const dir = join(root, 'theirs')
    await mkdir(dir)
    await writeFile(join(dir, 'notes.txt'), 'mine\n')
    const outcome = await prepareWorkDir(dir)
    expect(outcome).toEqual({
      kind: 'refused',
      reason: `--dir ${dir} already holds files the demo did not write; give a new or empty directory`,
    })
    expect(await readdir(dir)).toEqual(['notes.txt'])
  })

  it('refuses a file', async () => {
    const file = join(root, 'a-file')
    await writeFile(file, '')
    expect(await prepareWorkDir(file)).toEqual({
      kind: 'refused',
      reason: `--dir ${file} is a file, not a directory`,
    })
  })
})
