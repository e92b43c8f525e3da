import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MAX_TOKEN_BYTES } from '@k8s-attest/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LogCapture } from '../test/agent-fixture.ts'
import type { AgentError } from './errors.ts'
import { readTokenFile } from './token-file.ts'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agent-token-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

async function refusal(path: string): Promise<AgentError> {
  return readTokenFile(path).then(
    () => {
      throw new Error('expected the token file to be refused')
    },
    (error: unknown) => error as AgentError,
  )
}

describe('readTokenFile', () => {
  it('reads the token, without surrounding whitespace', async () => {
    const path = join(dir, 'token')
    await writeFile(path, '  header.payload.signature\n')
    expect((await readTokenFile(path)).reveal()).toBe('header.payload.signature')
  })

  it('re-reads the file on every call', async () => {
    const path = join(dir, 'rotating')
    await writeFile(path, 'first')
    expect((await readTokenFile(path)).reveal()).toBe('first')
    await writeFile(path, 'second')
    expect((await readTokenFile(path)).reveal()).toBe('second')
  })

  it('names the path of a missing file', async () => {
    const error = await refusal(join(dir, 'missing'))
    expect(error.code).toBe('ATT_ERR_TOKEN_FILE_MISSING')
    expect(error.message).toBe(
      `token file "${join(dir, 'missing')}" does not exist; check the volume that projects the service account token`,
    )
    expect(error.details).toEqual({ check: 'token_file', value: join(dir, 'missing') })
  })

  it('refuses an empty or whitespace-only file', async () => {
    const path = join(dir, 'empty')
    await writeFile(path, ' \n')
    const error = await refusal(path)
    expect(error.code).toBe('ATT_ERR_TOKEN_FILE_EMPTY')
    expect(error.message).toBe(`token file "${path}" is empty`)
  })

  it('refuses a file larger than any token', async () => {
    const path = join(dir, 'large')
    await writeFile(path, 'x'.repeat(MAX_TOKEN_BYTES + 1))
    const error = await refusal(path)
    expect(error.code).toBe('ATT_ERR_TOKEN_FILE_TOO_LARGE')
    expect(error.message).not.toContain('xxxx')
  })

  it('reports a path it cannot read', async () => {
    const path = join(dir, 'a-directory')
    await mkdir(path)
    const error = await refusal(path)
    expect(error.code).toBe('ATT_ERR_TOKEN_FILE_UNREADABLE')
    expect(error.message).toBe(`token file "${path}" cannot be read (EISDIR)`)
  })
})

describe('the token readTokenFile returns', () => {
  it('reaches no agent log line, whichever way it is logged', async () => {
    const path = join(dir, 'logged')
    await writeFile(path, 'secret.token.text\n')
    const token = await readTokenFile(path)

    const logs = new LogCapture()
    logs.logger().info({ held: token, nested: { value: token }, list: [token] }, `holding ${token}`)
    expect(logs.text()).not.toContain('secret')
    expect(logs.entries()[0]).toMatchObject({ held: '[REDACTED]', msg: 'holding [REDACTED]' })
    expect(token.reveal()).toBe('secret.token.text')
  })
})
