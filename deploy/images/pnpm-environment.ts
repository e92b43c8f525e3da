import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

/**
 * An environment in which `pnpm` is the pnpm that `workspaceRoot`'s package.json names
 * (`packageManager`): `env` itself when that pnpm is on its PATH, else `env` with that pnpm
 * installed by npm into a temporary prefix, first on PATH. On PATH rather than run by its file,
 * because the workspace's scripts call `pnpm` themselves (`build` runs the dashboard's build
 * through it), and the image the Dockerfiles' deploy stage runs in (node:24-slim) has none.
 *
 * @throws {Error} when package.json names no pnpm version, or npm cannot install it.
 */
export function pnpmEnvironment(
  workspaceRoot: string,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const manifest = JSON.parse(readFileSync(join(workspaceRoot, 'package.json'), 'utf8')) as {
    packageManager?: string
  }
  const version = /^pnpm@(.+)$/.exec(manifest.packageManager ?? '')?.[1]
  if (version === undefined) throw new Error('package.json names no pnpm version in "packageManager"')
  const onPath = spawnSync('pnpm', ['--version'], { encoding: 'utf8', env })
  if (onPath.status === 0 && onPath.stdout.trim() === version) return env
  const prefix = mkdtempSync(join(tmpdir(), 'pnpm-'))
  execFileSync('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', `pnpm@${version}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env,
  })
  return { ...env, PATH: `${join(prefix, 'node_modules', '.bin')}${delimiter}${env.PATH ?? ''}` }
}
