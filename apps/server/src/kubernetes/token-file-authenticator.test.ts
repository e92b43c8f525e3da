import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TOKEN_FILE_REREAD_MS, TokenFileAuthenticator } from './token-file-authenticator.ts'

let dir: string
let path: string
let now: number

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'token-file-'))
  path = join(dir, 'token')
  now = 1_000_000
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

function authenticator(): TokenFileAuthenticator {
  return new TokenFileAuthenticator({ userName: 'k8s-attest-server', path, now: () => now })
}

describe('TokenFileAuthenticator', () => {
  it('sends the trimmed token of the file as a bearer token, for its user only', async () => {
    await writeFile(path, '  first-token\n')
    const auth = authenticator()
    expect(auth.isAuthProvider({ name: 'k8s-attest-server' })).toBe(true)
    expect(auth.isAuthProvider({ name: 'someone-else' })).toBe(false)
    const opts: { headers?: Record<string, string> } = {}
    await auth.applyAuthentication({}, opts)
    expect(opts.headers).toEqual({ Authorization: 'Bearer first-token' })
  })

  it('reads a rotated token once a minute has passed, as client-go does', async () => {
    await writeFile(path, 'first-token')
    const auth = authenticator()
    expect(auth.token()).toBe('first-token')
    await writeFile(path, 'rotated-token')
    now += TOKEN_FILE_REREAD_MS - 1
    expect(auth.token()).toBe('first-token')
    now += 1
    expect(auth.token()).toBe('rotated-token')
  })

  it('keeps the last token when a re-read fails, but fails a first read, naming file and user', async () => {
    const auth = authenticator()
    expect(() => auth.token()).toThrow(
      `cannot read the tokenFile ${JSON.stringify(path)} of kubeconfig user "k8s-attest-server": ENOENT`,
    )
    await writeFile(path, 'first-token')
    expect(auth.token()).toBe('first-token')
    await rm(path)
    now += TOKEN_FILE_REREAD_MS
    expect(auth.token()).toBe('first-token')
  })

  it('refuses an empty token file', async () => {
    await writeFile(path, ' \n')
    expect(() => authenticator().token()).toThrow(
      `the tokenFile ${JSON.stringify(path)} of kubeconfig user "k8s-attest-server" is empty`,
    )
  })
})
