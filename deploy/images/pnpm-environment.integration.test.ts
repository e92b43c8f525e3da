import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { pnpmEnvironment } from './pnpm-environment.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const PNPM_VERSION = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { packageManager: string }
).packageManager.replace(/^pnpm@/, '')

const scratch = mkdtempSync(join(tmpdir(), 'pnpm-environment-test-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('pnpmEnvironment', () => {
  it("keeps an environment whose PATH already has the workspace's pnpm", () => {
    const env = { ...process.env }
    expect(execFileSync('pnpm', ['--version'], { encoding: 'utf8', env }).trim()).toBe(PNPM_VERSION)
    expect(pnpmEnvironment(REPO_ROOT, env)).toBe(env)
  })

  it('installs it where there is none, on PATH, so that scripts calling pnpm find it too', () => {
    // A PATH with node, npm and a shell, and no pnpm: the Dockerfiles' deploy stage (node:24-slim).
    const bin = join(scratch, 'bin')
    mkdirSync(bin)
    symlinkSync(process.execPath, join(bin, 'node'))
    const npm = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim()
    symlinkSync(npm, join(bin, 'npm'))
    const env = { ...process.env, PATH: `${bin}:/usr/bin:/bin` }
    expect(execFileSync('sh', ['-c', 'command -v pnpm || echo none'], { encoding: 'utf8', env }).trim()).toBe(
      'none',
    )

    const withPnpm = pnpmEnvironment(REPO_ROOT, env)
    expect(withPnpm.PATH?.endsWith(`:${env.PATH}`)).toBe(true)
    // As the root `build` script does: a shell that runs `pnpm` by name.
    const nested = execFileSync('sh', ['-c', 'pnpm --version'], { encoding: 'utf8', env: withPnpm })
    expect(nested.trim()).toBe(PNPM_VERSION)
    const found = execFileSync('sh', ['-c', 'command -v pnpm'], { encoding: 'utf8', env: withPnpm })
    expect(found.trim()).toMatch(/\/pnpm-[^/]+\/node_modules\/\.bin\/pnpm$/)
  }, 120_000)

  it('refuses a workspace whose package.json names no pnpm', () => {
    const workspace = join(scratch, 'no-pnpm')
    mkdirSync(workspace)
    writeFileSync(join(workspace, 'package.json'), '{"name":"x"}')
    expect(() => pnpmEnvironment(workspace)).toThrow('package.json names no pnpm version in "packageManager"')
  })
})
