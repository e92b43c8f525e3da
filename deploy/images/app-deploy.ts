/**
 * Produces one app's deployable directory: the `pnpm deploy` of the app and its workspace
 * dependencies (built `dist/`, production dependencies only), pruned of what nothing runs
 * (source maps, type declarations).
 *
 *   node deploy/images/app-deploy.ts <package name> <output directory>
 *
 * The Dockerfiles run it in their `deploy` stage. Where the build cannot reach the npm registry
 * (an image built on a machine that only has the registry outside Docker),
 * `deploy/images/build.sh --deploy-on-host` runs it on the host first and the stage is given the
 * result in `DEPLOY_OUTPUT` (a directory of the build context), which it copies unchanged.
 * Plain Node: the stage's image may have no shell.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

/** Files in the output that no running process reads. */
const PRUNED_SUFFIXES = ['.map', '.d.ts', '.d.mts', '.d.cts']

function main(argv: readonly string[]): void {
  const [packageName, output] = argv
  if (packageName === undefined || output === undefined || argv.length !== 2) {
    throw new TypeError('usage: app-deploy.ts <package name> <output directory>')
  }
  const out = resolve(output)
  const prebuilt = process.env.DEPLOY_OUTPUT ?? ''
  rmSync(out, { recursive: true, force: true })
  if (prebuilt !== '') {
    if (!existsSync(join(prebuilt, 'package.json'))) {
      throw new Error(
        `DEPLOY_OUTPUT "${prebuilt}" holds no package.json: run deploy/images/build.sh --deploy-on-host`,
      )
    }
    // verbatimSymlinks: pnpm's node_modules links stay relative, pointing inside the copy.
    cpSync(prebuilt, out, { recursive: true, verbatimSymlinks: true })
    console.log(`app-deploy: ${packageName} copied from ${prebuilt}`)
    return
  }
  const pnpm = pnpmCommand()
  const run = (...args: string[]): void => {
    execFileSync(pnpm[0] ?? 'pnpm', [...pnpm.slice(1), ...args], { stdio: 'inherit' })
  }
  run('install', '--frozen-lockfile', '--prefer-offline')
  run('build')
  // --legacy: copies the workspace packages without requiring inject-workspace-packages.
  run('--filter', packageName, 'deploy', '--prod', '--legacy', out)
  const pruned = prune(out)
  console.log(`app-deploy: ${packageName} deployed to ${out} (${pruned} unused files pruned)`)
}

/** The workspace's pnpm (package.json `packageManager`), installed into a temporary prefix if absent. */
function pnpmCommand(): string[] {
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { packageManager?: string }
  const version = /^pnpm@(.+)$/.exec(manifest.packageManager ?? '')?.[1]
  if (version === undefined) throw new Error('package.json names no pnpm version in "packageManager"')
  const onPath = spawnSync('pnpm', ['--version'], { encoding: 'utf8' })
  if (onPath.status === 0 && onPath.stdout.trim() === version) return ['pnpm']
  const prefix = mkdtempSync(join(tmpdir(), 'pnpm-'))
  execFileSync('npm', ['install', '--prefix', prefix, '--no-audit', '--no-fund', `pnpm@${version}`], {
    stdio: 'inherit',
  })
  return [process.execPath, join(prefix, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs')]
}

/** Removes source maps and type declarations below `directory`; returns how many. */
function prune(directory: string): number {
  let count = 0
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name)
    // Symbolic links (pnpm's node_modules) are not followed: each real file is visited once.
    if (entry.isDirectory()) count += prune(path)
    else if (entry.isFile() && PRUNED_SUFFIXES.some((suffix) => entry.name.endsWith(suffix))) {
      rmSync(path)
      count++
    }
  }
  return count
}

main(process.argv.slice(2))
