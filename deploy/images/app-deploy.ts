/**
 * Produces one app's deployable directory: the app built and bundled with what it imports
 * (deploy/images/app-bundle.ts: `dist/main.js` and its chunks, the dashboard's files for the
 * server, a package.json, the bundled packages' licenses). No `node_modules` of libraries: the
 * image runs the bundle.
 *
 *   node deploy/images/app-deploy.ts [--built] <package name> <output directory>
 *
 * It installs the workspace (frozen lockfile) and builds it first; with `--built` it bundles the
 * workspace as it is, already built (`pnpm bench` runs the server and agent this way, as their
 * images run them).
 *
 * The Dockerfiles run it in their `deploy` stage. Where the build cannot reach the npm registry
 * (an image built on a machine that only has the registry outside Docker),
 * `deploy/images/build.sh --deploy-on-host` runs it on the host first and the stage is given the
 * result in `DEPLOY_OUTPUT` (a directory of the build context), which it copies unchanged.
 * Plain Node: the stage's image may have no shell.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const USAGE = 'usage: app-deploy.ts [--built] <package name> <output directory>'

async function main(argv: readonly string[]): Promise<void> {
  const built = argv[0] === '--built'
  const [packageName, output, ...rest] = built ? argv.slice(1) : argv
  if (packageName === undefined || output === undefined || rest.length > 0 || packageName.startsWith('-')) {
    throw new TypeError(USAGE)
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
    cpSync(prebuilt, out, { recursive: true })
    console.log(`app-deploy: ${packageName} copied from ${prebuilt}`)
    return
  }
  if (!built) {
    const pnpm = pnpmCommand()
    const run = (...args: string[]): void => {
      execFileSync(pnpm[0] ?? 'pnpm', [...pnpm.slice(1), ...args], { stdio: 'inherit' })
    }
    run('install', '--frozen-lockfile', '--prefer-offline')
    run('build')
  }
  // Imported once installed: the bundler is one of the workspace's dev dependencies.
  const { bundleApp } = await import('./app-bundle.ts')
  const bundle = await bundleApp(process.cwd(), packageName, out)
  console.log(
    `app-deploy: ${packageName} bundled to ${out}: ${bundle.chunks.length} files, ${(bundle.bytes / 1e6).toFixed(1)} MB, ` +
      `${bundle.packages.length} packages${bundle.kept.length > 0 ? `, ${bundle.kept.join(', ')} kept as files` : ''}`,
  )
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

await main(process.argv.slice(2))
